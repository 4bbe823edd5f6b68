"""Questions about the library, answered from retrieved chunks with [title, p. N] citations.

A chunk supports an answer when its similarity to the question is high (>= SCORE_SURE), or
fair (>= SCORE_MIN) with most of the question's content words in it (LEXICAL_MIN). Nothing
supported -> NOT_FOUND, with no citation. The answer is extractive: the sentences of the
supporting chunks that best match the question, each followed by its citation, so nothing is
said that the library does not say. Thresholds were calibrated on the test papers (cosine of
all-MiniLM-L6-v2: in-library questions score 0.45-0.75, unrelated ones 0.05-0.30).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from tools.media import media_link


@dataclass
class SearchHit:
    """A chunk found by meaning, with its source's title (what `services.catalog.search` gives)."""

    chunk_id: str
    source_id: str
    title: str
    text: str
    page: int | None
    heading_path: list[str]
    score: float  # cosine similarity to the query (dense, hybrid); the BM25 score (sparse)
    start_s: float | None = None
    url: str | None = None
    link: str | None = None  # media: the URL that starts playback at start_s
    mode: str = "hybrid"  # which search ran: hybrid (dense + sparse, RRF), dense or sparse
    end_s: float | None = None

    def __post_init__(self) -> None:
        if self.link is None:
            self.link = media_link(self.url, self.start_s)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


NOT_FOUND = "I don't find this in your library."
SCORE_SURE = 0.5
SCORE_MIN = 0.3
LEXICAL_MIN = 0.6
MAX_CITED = 3
NEAR = 0.1
STOP = set("""a an the of in on at to for from by with and or but is are was were be been being
do does did what which who whom whose when where why how that this these those it its they them
their there here about into over under than then so such as can could would should will shall
may might must say says said tell me my our your you we i paper papers article library according
explain describe define summarize summarise please find any some much many used use using
between""".split())


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def content_words(text: str, drop: set[str] | None = None) -> set[str]:
    return {w for w in words(text) if w not in STOP and len(w) > 2 and w not in (drop or set())}


def stem(word: str) -> str:
    return word[:5] if len(word) > 5 else word


def overlap(question: str, text: str, drop: set[str] | None = None) -> float:
    """Share of the question's content words (by 5-letter stem) found in the text."""
    q = {stem(w) for w in content_words(question, drop)}
    if not q:
        return 0.0
    t = {stem(w) for w in words(text)}
    return len(q & t) / len(q)


def supported(question: str, hit: SearchHit, drop: set[str] | None = None) -> bool:
    """Does this chunk support an answer? (score, else score and lexical overlap)."""
    if hit.score >= SCORE_SURE:
        return True
    return hit.score >= SCORE_MIN and overlap(question, hit.text, drop) >= LEXICAL_MIN


def short_name(title: str) -> str:
    """'S2ORC: The Semantic Scholar...' -> 's2orc' (a paper's acronym, if it has one)."""
    head = title.split(":")[0].strip()
    return head.lower() if len(head.split()) <= 2 and len(head) <= 20 else ""


def named_sources(question: str, titles: list[tuple[str, str]]) -> tuple[list[str], set[str]]:
    """Sources (of these (id, title)) the question names by short name ('what does S2ORC say')."""
    qwords = set(words(question))
    ids, names = [], set()
    for sid, title in titles:
        name = short_name(title)
        if name and set(words(name)) <= qwords:
            ids.append(sid)
            names |= set(words(name))
    return ids, names


def sentences(text: str) -> list[str]:
    parts = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9\"(])", " ".join(text.split()))
    return [p for p in parts if len(p.split()) >= 5]


def best_sentences(question: str, text: str, drop: set[str], n: int = 2) -> str:
    sents = sentences(text) or [" ".join(text.split())]
    ranked = sorted(range(len(sents)), key=lambda i: -overlap(question, sents[i], drop))
    keep = sorted(ranked[:n])
    return " ".join(sents[i] for i in keep)


def citation(hit: SearchHit) -> str:
    title = hit.title if len(hit.title) <= 70 else hit.title[:67].rstrip() + "..."
    where = f", p. {hit.page}" if hit.page else ""
    return f"[{title}{where}]"


def answer(question: str, hits: list[SearchHit], names: set[str]) -> dict[str, Any]:
    """From the hits of the question (`names`: the source names it says, not content words):
    {"text", "citations": [{source_id, title, page, chunk_id, score}], "found"}."""
    good = [h for h in hits if supported(question, h, names)]
    if good:  # the runners-up only when nearly as close as the best
        good = [h for h in good if h.score >= good[0].score - NEAR]
    if not good:
        return {"text": NOT_FOUND, "citations": [], "found": False}
    parts, cites = [], []
    for h in good[:MAX_CITED]:
        parts.append(f"{best_sentences(question, h.text, names)} {citation(h)}")
        cites.append({"source_id": h.source_id, "title": h.title, "page": h.page,
                      "chunk_id": h.chunk_id, "score": h.score})
    return {"text": "\n\n".join(parts), "citations": cites, "found": True}
