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
from tools.lang import Lang, pack

THRESHOLD = 0.6
LEXICAL_WEIGHT = 0.6
_WORD = re.compile(r"[^\W_]+(?:'[^\W\d_]+)?")


def stem(word: str, lang: Lang | None = None) -> str:
    return (lang or pack()).stem(word)


def content_words(text: str, skip: Iterable[str] = (), lang: Lang | None = None) -> list[str]:
    """Stemmed words of a text that are not stop words of its language (nor in `skip`)."""
    lang = lang or pack()
    skipped = set(skip)
    stop = lang.stop_words
    return [lang.stem(w) for w in _WORD.findall(text.lower())
            if w not in stop and w not in skipped and len(w) > 1]


def lexical_support(text: str, evidence: str, skip: Iterable[str] = (),
                    lang: Lang | None = None) -> float:
    """Share of the line's content words that the evidence contains (1.0 when it claims nothing)."""
    claimed = content_words(text, skip, lang)
    if not claimed:
        return 1.0
    have = set(content_words(speakable(evidence, lang), lang=lang)) | \
        set(content_words(evidence, lang=lang))
    return sum(1 for w in claimed if w in have) / len(claimed)


def evidence_for(line: Line, passages: dict[str, Passage]) -> str:
    parts = []
    for cid in line.citations:
        p = passages.get(cid)
        if p is not None:
            parts += [p.text, p.source_title, " ".join(p.source_authors), p.source_year or "",
                      p.section]
    return "\n".join(parts)


def score_lines(lines: list[Line], passages: dict[str, Passage],
                lang: Lang | None = None) -> list[float]:
    """Support in [0, 1] for each line (0 when it cites nothing known), judged with the stop
    words, stemmer and framing words of the script's language."""
    lang = lang or pack()
    skip = framing_words(lang)
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
        lex = lexical_support(line.text, evidence_for(line, passages), skip, lang)
        if line.kind != "content" and line.kind != "summary":
            scores.append(round(lex, 4))
            continue
        cos = max(float(line_vecs[i] @ chunk_vecs[index[c]]) for c in known)
        scores.append(round(LEXICAL_WEIGHT * lex + (1 - LEXICAL_WEIGHT) * max(0.0, cos), 4))
    return scores


def ground(lines: list[Line], passages: dict[str, Passage], threshold: float = THRESHOLD,
           lang: Lang | None = None) -> tuple[list[Line], dict[str, int]]:
    """Score lines; rewrite unsupported ones from their cited chunks or drop them."""
    scores = score_lines(lines, passages, lang)
    kept: list[Line] = []
    stats = {"checked": len(lines), "rewritten": 0, "dropped": 0}
    for line, score in zip(lines, scores, strict=True):
        line.support = score
        if score >= threshold:
            kept.append(line)
            continue
        fixed = _rewrite(line, passages, threshold, lang or pack())
        if fixed is not None:
            kept.append(fixed)
            stats["rewritten"] += 1
        else:
            stats["dropped"] += 1
    for i, line in enumerate(kept):
        line.seq = i
    return kept, stats


def _rewrite(line: Line, passages: dict[str, Passage], threshold: float,
             lang: Lang) -> Line | None:
    """Replace the line by the cited chunks' readable sentence that overlaps it most."""
    if line.kind not in {"content", "summary"}:
        return None
    best = None
    best_overlap = 0.0
    claimed = set(content_words(line.text, lang=lang))
    for cid in line.citations:
        p = passages.get(cid)
        if p is None:
            continue
        for cand in candidates(p, lang):
            got = set(content_words(cand.spoken, lang=lang))
            overlap = len(claimed & got) / max(1, len(claimed))
            if overlap > best_overlap:
                best, best_overlap = cand, overlap
    if best is None or best_overlap < 0.3:
        return None
    new = line.model_copy(update={"text": best.spoken, "quote": best.sentence,
                                  "citations": [best.passage.chunk_id],
                                  "meta": {**line.meta, "rewritten_from": line.text}})
    new.support = score_lines([new], passages, lang)[0]
    return new if new.support >= threshold else None
