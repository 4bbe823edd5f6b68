"""The grounding check of written exports, against the stored chunks.

Blocks (paragraphs, summary bullets, items, terms) are scored as podcast lines are
(`agents.grounding`): below the threshold a block is rewritten to its cited chunk's closest
sentence (an exact span) or dropped. Every quote must be an exact span of its chunk; a cite
whose quote is not is removed. Cards keep only answers inside their quote; quiz questions only
when the right option is in the cited sentence and no distractor is.
"""

from __future__ import annotations

from typing import Any

from agents import grounding
from agents.script import Line, Passage
from tools.composition import Block, Card, Composition, QuizQuestion


def norm(text: str) -> str:
    return " ".join(text.split())


def _exact(block: Block, chunks: dict[str, str]) -> Block:
    cites = [c for c in block.cites if c.chunk_id in chunks and c.quote
             and norm(c.quote) in norm(chunks[c.chunk_id])]
    return block.model_copy(update={"cites": cites})


def ground_blocks(blocks: list[Block], passages: dict[str, Passage],
                  chunks: dict[str, str]) -> tuple[list[Block | None], dict[str, int]]:
    """Each block checked (None where dropped); figures are checked for an exact caption."""
    stats = {"checked": len(blocks), "rewritten": 0, "dropped": 0}
    text_idx = [i for i, b in enumerate(blocks) if b.figure is None]
    lines = [Line(seq=i, speaker="writer", kind="content", text=blocks[i].text,
                  citations=[c.chunk_id for c in blocks[i].cites],
                  quote=" ".join(c.quote for c in blocks[i].cites), meta={"block": i})
             for i in text_idx]
    kept, gstats = grounding.ground(lines, passages) if lines else ([], {"rewritten": 0})
    survivors = {int(line.meta["block"]): line for line in kept}
    out: list[Block | None] = []
    for i, block in enumerate(blocks):
        if block.figure is not None:
            fixed = _exact(block, chunks)
            out.append(fixed.model_copy(update={"support": 1.0}) if fixed.cites else None)
            continue
        line = survivors.get(i)
        if line is None:
            out.append(None)
            continue
        if "rewritten_from" in line.meta:
            p = passages[line.citations[0]]
            block = block.model_copy(update={"text": line.quote, "cites": [
                block.cites[0].model_copy(update={"chunk_id": p.chunk_id, "quote": line.quote,
                                                  "source_id": p.source_id, "page": p.page})]})
        fixed = _exact(block, chunks).model_copy(update={"support": line.support})
        out.append(fixed if fixed.cites else None)
    stats["rewritten"] = int(gstats.get("rewritten", 0))
    stats["dropped"] = sum(1 for b in out if b is None)
    return out, stats


def ground_composition(doc: Composition, passages: dict[str, Passage],
                       chunks: dict[str, str]) -> tuple[Composition, dict[str, Any]]:
    """The composition with every block checked; empty sections go."""
    flat = [b for _, b in doc.blocks()]
    checked, stats = ground_blocks(flat, passages, chunks)
    it = iter(checked)
    summary = [b for b in (next(it) for _ in doc.summary) if b is not None]
    sections = []
    for s in doc.sections:
        blocks = [b for b in (next(it) for _ in s.blocks) if b is not None]
        if blocks:
            sections.append(s.model_copy(update={"blocks": blocks}))
    out = doc.model_copy(update={"summary": summary, "sections": sections})
    supports = [b.support or 0.0 for _, b in out.blocks()]
    return out, {**stats, "mean_support": round(sum(supports) / max(1, len(supports)), 4),
                 "threshold": grounding.THRESHOLD}


def ground_cards(cards: list[Card], chunks: dict[str, str]) -> tuple[list[Card], dict[str, Any]]:
    kept = [c for c in cards if c.cite.chunk_id in chunks and norm(c.answer) in norm(c.cite.quote)
            and norm(c.cite.quote) in norm(chunks[c.cite.chunk_id])]
    return kept, {"checked": len(cards), "dropped": len(cards) - len(kept),
                  "mean_support": 1.0 if kept else 0.0}


def ground_quiz(questions: list[QuizQuestion], chunks: dict[str, str]
                ) -> tuple[list[QuizQuestion], dict[str, Any]]:
    def ok(q: QuizQuestion) -> bool:
        text = norm(chunks.get(q.cite.chunk_id, ""))
        right = q.options[q.answer_index]
        return (bool(text) and norm(q.explanation) in text and right in q.explanation
                and not any(o in q.explanation for i, o in enumerate(q.options)
                            if i != q.answer_index))

    kept = [q for q in questions if ok(q)]
    return kept, {"checked": len(questions), "dropped": len(questions) - len(kept),
                  "mean_support": 1.0 if kept else 0.0}
