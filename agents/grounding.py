"""The grounding check: score every line against the chunks it cites; rewrite or drop the rest.

A line's support blends lexical evidence (share of its content words found in the cited chunks
or the cited sources' titles, authors and years) with the embedding similarity between the line
and its best cited chunk. Words the writer's own framing templates add are not claims and are
not scored. Lines below the threshold are rewritten to the cited chunk's closest readable
sentence when one supports them, else dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np

from agents.script import Line, Passage
from agents.scriptwriter import candidates, framing_words
from agents.speech import speakable
from tools.embed import embed

THRESHOLD = 0.6
LEXICAL_WEIGHT = 0.6
STOP = set("""a an the and or but if of to in on at by for with from as is are was were be been
being this that these those it its they them their we our you your he she his her i me my us
not no so than then there here what which who whom whose how why when where do does did done
can could would should may might will shall also such into over under about after before more
most less least very much many some any each every both all one two other only just like up
down out off again further once same own too s t""".split())
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def stem(word: str) -> str:
    for suffix in ("ations", "ation", "ings", "ing", "ies", "ied", "es", "ed", "ly", "s"):
        if len(word) > len(suffix) + 3 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def content_words(text: str, skip: Iterable[str] = ()) -> list[str]:
    skipped = set(skip)
    return [stem(w) for w in _WORD.findall(text.lower())
            if w not in STOP and w not in skipped and len(w) > 1]


def lexical_support(text: str, evidence: str, skip: Iterable[str] = ()) -> float:
    """Share of the line's content words that the evidence contains (1.0 when it claims nothing)."""
    claimed = content_words(text, skip)
    if not claimed:
        return 1.0
    have = set(content_words(speakable(evidence))) | set(content_words(evidence))
    return sum(1 for w in claimed if w in have) / len(claimed)


def evidence_for(line: Line, passages: dict[str, Passage]) -> str:
    parts = []
    for cid in line.citations:
        p = passages.get(cid)
        if p is not None:
            parts += [p.text, p.source_title, " ".join(p.source_authors), p.source_year or "",
                      p.section]
    return "\n".join(parts)


def score_lines(lines: list[Line], passages: dict[str, Passage]) -> list[float]:
    """Support in [0, 1] for each line (0 when it cites nothing known)."""
    skip = framing_words()
    texts = [line.text for line in lines]
    chunk_ids = sorted({c for line in lines for c in line.citations if c in passages})
    vecs = embed(texts + [passages[c].text for c in chunk_ids]) if lines else np.zeros((0, 384))
    line_vecs, chunk_vecs = vecs[: len(lines)], vecs[len(lines):]
    index = {c: i for i, c in enumerate(chunk_ids)}
    scores = []
    for i, line in enumerate(lines):
        known = [c for c in line.citations if c in passages]
        if not known:
            scores.append(0.0)
            continue
        lex = lexical_support(line.text, evidence_for(line, passages), skip)
        if line.kind != "content" and line.kind != "summary":
            scores.append(round(lex, 4))
            continue
        cos = max(float(line_vecs[i] @ chunk_vecs[index[c]]) for c in known)
        scores.append(round(LEXICAL_WEIGHT * lex + (1 - LEXICAL_WEIGHT) * max(0.0, cos), 4))
    return scores


def ground(lines: list[Line], passages: dict[str, Passage],
           threshold: float = THRESHOLD) -> tuple[list[Line], dict[str, int]]:
    """Score lines; rewrite unsupported ones from their cited chunks or drop them."""
    scores = score_lines(lines, passages)
    kept: list[Line] = []
    stats = {"checked": len(lines), "rewritten": 0, "dropped": 0}
    for line, score in zip(lines, scores, strict=True):
        line.support = score
        if score >= threshold:
            kept.append(line)
            continue
        fixed = _rewrite(line, passages, threshold)
        if fixed is not None:
            kept.append(fixed)
            stats["rewritten"] += 1
        else:
            stats["dropped"] += 1
    for i, line in enumerate(kept):
        line.seq = i
    return kept, stats


def _rewrite(line: Line, passages: dict[str, Passage], threshold: float) -> Line | None:
    """Replace the line by the cited chunks' readable sentence that overlaps it most."""
    if line.kind not in {"content", "summary"}:
        return None
    best = None
    best_overlap = 0.0
    claimed = set(content_words(line.text))
    for cid in line.citations:
        p = passages.get(cid)
        if p is None:
            continue
        for cand in candidates(p):
            got = set(content_words(cand.spoken))
            overlap = len(claimed & got) / max(1, len(claimed))
            if overlap > best_overlap:
                best, best_overlap = cand, overlap
    if best is None or best_overlap < 0.3:
        return None
    new = line.model_copy(update={"text": best.spoken, "quote": best.sentence,
                                  "citations": [best.passage.chunk_id],
                                  "meta": {**line.meta, "rewritten_from": line.text}})
    new.support = score_lines([new], passages)[0]
    return new if new.support >= threshold else None
