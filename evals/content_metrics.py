"""Content-quality metrics of a podcast script: is it worth hearing, not only grounded.

Pure functions over script lines (dicts or `Line`s as dicts: speaker, kind, text, citations).
Questions are lines that end in "?"; the answer to a question is the next line by another
speaker. Signals are general (punctuation, casing, token shapes, embeddings), never text of any
particular paper.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from agents.grounding import content_words
from tools.chunking import split_sentences
from tools.embed import embed

Lines = Sequence[dict[str, Any]]
RELEVANT_QA = 0.35  # cosine of question and answer embeddings at which the answer is on topic
_NUM = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_LABEL = re.compile(r"^(?:[A-Z][\w-]*(?:\s+[\w-]+){0,3}):\s")
_BROKEN = re.compile(r"\b[A-Z]\s[A-Z]{3,}\b|\b\w+-\s+[a-z]{2,}\b|\[\d|\(\s*\)|\b\w+\d+,\d+\b")
_FOOTNOTE = re.compile(r"[a-z]{3,}[\u00b9\u00b2\u00b3\u2070-\u2079*\u2020\u2021]|[a-z]{3,}\d\b")


def questions(lines: Lines) -> list[tuple[int, int | None]]:
    """(question index, answer index or None) for every question line."""
    out: list[tuple[int, int | None]] = []
    solo = len({x["speaker"] for x in lines}) == 1
    for i, line in enumerate(lines):
        if not line["text"].rstrip().endswith("?"):
            continue
        ans = next((j for j in range(i + 1, len(lines))
                    if lines[j]["speaker"] != line["speaker"] or solo), None)
        out.append((i, ans))
    return out


def last_question(text: str) -> str:
    """The question sentence of a line (a line may lead in before it asks)."""
    parts = [s for s in split_sentences(text) if s.strip().endswith("?")]
    return parts[-1] if parts else text


def qa_relevance(lines: Lines) -> tuple[float | None, float | None]:
    """(mean cosine, share of questions followed by a relevant answer); None with no question."""
    pairs = [(last_question(lines[q]["text"]), lines[a]["text"]) for q, a in questions(lines)
             if a is not None]
    unanswered = sum(1 for _, a in questions(lines) if a is None)
    if not pairs and not unanswered:
        return None, None
    if not pairs:
        return 0.0, 0.0
    vecs = embed([t for pair in pairs for t in pair])
    cos = [float(vecs[2 * i] @ vecs[2 * i + 1]) for i in range(len(pairs))]
    ok = sum(1 for c in cos if c >= RELEVANT_QA)
    return float(np.mean(cos)), ok / (len(pairs) + unanswered)


def generic_question_rate(lines: Lines, framing: set[str]) -> float | None:
    """Share of questions that name nothing of their answer (no shared content word)."""
    qs = questions(lines)
    if not qs:
        return None
    generic = 0
    for q, a in qs:
        asked = set(content_words(last_question(lines[q]["text"]), framing))
        said = set(content_words(lines[a]["text"])) if a is not None else set()
        generic += not (asked & said)
    return generic / len(qs)


def is_fragment(text: str) -> bool:
    """A line that would sound broken: starts mid-sentence, has a label, a broken token or a
    footnote mark, or ends without a sentence end."""
    t = text.strip()
    if not t:
        return True
    first = t.lstrip("\u201c\"'(")
    if not first or not (first[0].isupper() or first[0].isdigit()):
        return True
    if t[-1] not in ".!?\u201d\"'":
        return True
    return bool(_LABEL.match(t) or _BROKEN.search(t) or _FOOTNOTE.search(t))


def fragment_rate(lines: Lines) -> float:
    return sum(1 for line in lines if is_fragment(line["text"])) / max(1, len(lines))


def label_lines(lines: Lines) -> int:
    """Lines that read a section label aloud ("Background: ...")."""
    return sum(1 for line in lines if _LABEL.match(line["text"].strip()))


def repetition(lines: Lines) -> float:
    """Share of lines whose content words mostly (>= 60%) repeat one earlier line."""
    seen: list[set[str]] = []
    rep = 0
    for line in lines:
        got = set(content_words(line["text"]))
        if len(got) >= 4 and any(len(got & s) / len(got) >= 0.6 for s in seen):
            rep += 1
        seen.append(got)
    return rep / max(1, len(lines))


def title_mentions(lines: Lines, titles: Sequence[str]) -> int:
    """Most times any source's full title (or its first 6 words) is spoken."""
    text = " ".join(line["text"] for line in lines).lower()
    best = 0
    for title in titles:
        words = re.findall(r"[a-z0-9]+", title.lower())
        if len(words) < 3:
            continue
        head = r"\W+".join(re.escape(w) for w in words[:6])
        best = max(best, len(re.findall(head, text)))
    return best


def framing_share(lines: Lines) -> float:
    """Share of the spoken words in framing lines (intro, transitions, outro)."""
    total = sum(len(line["text"].split()) for line in lines)
    framing = sum(len(line["text"].split()) for line in lines
                  if line["kind"] in {"intro", "transition", "outro"})
    return framing / max(1, total)


def turn_alternation(lines: Lines) -> float | None:
    """Share of consecutive line pairs where the speaker changes (None for one voice)."""
    if len({line["speaker"] for line in lines}) < 2 or len(lines) < 2:
        return None
    return sum(1 for a, b in zip(lines, lines[1:], strict=False)
               if a["speaker"] != b["speaker"]) / (len(lines) - 1)


def abstract_claims(abstract: str) -> tuple[list[str], set[str]]:
    """The abstract's claim sentences (>= 6 words) and the numbers it states."""
    claims = [" ".join(s.split()) for s in split_sentences(abstract) if len(s.split()) >= 6]
    numbers = {n for n in _NUM.findall(abstract)
               if not (len(n) == 4 and n.startswith(("19", "20")))}
    return claims, numbers
