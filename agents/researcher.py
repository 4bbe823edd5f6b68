"""The researcher: pick the passages that matter for the brief, from every source, without repeats.

Relevance is cosine similarity to the brief (the topic, else each source's own centre), adjusted
by what kind of text a chunk is (abstract and conclusions up; captions, tables, reference-like and
very short text down). Maximal marginal relevance over the embeddings avoids saying the same
thing twice; the chosen passages are returned in each paper's own order.
"""

from __future__ import annotations

import re

import numpy as np

from agents.script import Brief, Passage
from storage import db, library, vectors
from storage.errors import BadInput
from storage.settings import Settings
from tools.embed import embed

SECTION_BONUS = [
    (re.compile(r"abstract", re.I), 0.12),
    (re.compile(r"introduction|overview|background|motivation", re.I), 0.06),
    (re.compile(r"conclusion|discussion|summary|results|findings|contribution", re.I), 0.06),
    (re.compile(r"references|bibliography|acknowledg|appendix|supplement|author contrib|"
                r"funding|competing|ethic|limitations? statement", re.I), -0.6),
]
_CITE = re.compile(r"\[\d+(?:[,–-]\s*\d+)*\]|\(\w[^()]{0,60}?\d{4}[a-z]?\)")
_NUMERIC = re.compile(r"\d")


def quality(text: str, kind: str, section: str) -> float:
    """How readable a chunk is aloud, as an additive adjustment."""
    n = len(text.split())
    score = 0.0
    if kind != "paragraph":
        score -= 0.35
    if n < 25:
        score -= 0.25
    digits = len(_NUMERIC.findall(text)) / max(1, len(text))
    score -= min(0.3, digits * 4)
    score -= min(0.2, len(_CITE.findall(text)) * 0.03)
    if "http" in text or "@" in text:
        score -= 0.15
    for pattern, bonus in SECTION_BONUS:
        if pattern.search(section):
            score += bonus
    return score


def abstract_bonus(text: str, abstract: str | None) -> float:
    """The abstract states a paper's main claims: its chunks count as abstract whatever heading
    the extractor gave them."""
    flat = " ".join(text.split())[:80]
    return 0.12 if abstract and len(flat) >= 40 and flat in " ".join(abstract.split()) else 0.0


def mmr(rel: np.ndarray, vecs: np.ndarray, k: int, lam: float = 0.7,
        preselected: list[int] | None = None) -> list[int]:
    """Maximal marginal relevance: indices of k items balancing relevance and novelty."""
    chosen: list[int] = list(preselected or [])
    candidates = [i for i in range(len(rel)) if i not in chosen]
    while candidates and len(chosen) < k:
        if chosen:
            sim = vecs[candidates] @ vecs[chosen].T
            novelty = sim.max(axis=1)
        else:
            novelty = np.zeros(len(candidates))
        scores = lam * rel[candidates] - (1 - lam) * novelty
        best = candidates[int(np.argmax(scores))]
        chosen.append(best)
        candidates.remove(best)
    return chosen


async def research(settings: Settings, source_ids: list[str], brief: Brief, target_words: int,
                   owner: str | None = None) -> list[Passage]:
    """Passages covering every source, about `target_words` * 1.8 words of material in total."""
    if not source_ids:
        raise BadInput("no sources given")
    per_source_words = max(150, int(target_words * 1.8 / len(source_ids)))
    topic_vec = embed([brief.topic])[0] if brief.topic else None
    out: list[Passage] = []
    async with db.session(settings) as s:
        for sid in source_ids:
            src = await library.get_source(s, sid, owner)
            chunks = [c for c in await library.source_chunks(s, sid) if c.text.strip()]
            if not chunks:
                raise BadInput(f"source {sid} ({src.title}) has no text chunks")
            stored = await vectors.fetch(settings, [c.id for c in chunks])
            missing = [c for c in chunks if not stored.get(c.id)]
            if missing:
                fresh = embed([c.text for c in missing])
                for c, v in zip(missing, fresh, strict=True):
                    stored[c.id] = [float(x) for x in v]
            vecs = np.array([stored[c.id] for c in chunks], dtype=np.float32)
            centre = vecs.mean(axis=0)
            centre /= max(1e-9, float(np.linalg.norm(centre)))
            query = topic_vec if topic_vec is not None else centre
            sections = [" > ".join(c.heading_path) for c in chunks]
            rel = vecs @ query + np.array([quality(c.text, c.kind, sec)
                                           + abstract_bonus(c.text, src.abstract)
                                           for c, sec in zip(chunks, sections, strict=True)])
            # choose by MMR until the word budget for this source is met
            order = mmr(rel, vecs, k=len(chunks))
            picked: list[int] = []
            total = 0
            for i in order:
                if rel[i] < -0.2 and picked:
                    continue
                picked.append(i)
                total += len(chunks[i].text.split())
                if total >= per_source_words:
                    break
            year = src.published[:4] if src.published else None
            for i in sorted(picked, key=lambda j: chunks[j].seq):
                c = chunks[i]
                out.append(Passage(chunk_id=c.id, source_id=sid, seq=c.seq, text=c.text,
                                   section=sections[i], page=c.page, score=round(float(rel[i]), 4),
                                   source_title=src.title, source_authors=list(src.authors or []),
                                   source_year=year))
    return out
