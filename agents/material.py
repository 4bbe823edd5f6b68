"""What a document export is made from: the researched passages with their vectors, the numbered
source list (reference, licence, pages) and the figures cut from the sources at import.

Figures are tied to a real chunk: the caption chunk of the same source whose text holds the
caption, so a figure block cites a stored chunk with an exact quote like every other block.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydantic import BaseModel, Field

from agents import researcher
from agents.references import in_text, reference, year_of
from agents.script import Brief, Passage
from storage import db, library, vectors
from storage.settings import Settings
from tools.composition import FigureRef, SourceRef
from tools.embed import embed


class Material(BaseModel):
    """Passages (each paper's order), their unit vectors, sources and figures."""

    passages: list[Passage]
    vectors: list[list[float]]
    sources: list[SourceRef]
    figures: list[FigureRef] = Field(default_factory=list)
    caption_chunks: dict[str, str] = Field(default_factory=dict)  # figure id -> chunk id
    caption_texts: dict[str, str] = Field(default_factory=dict)  # chunk id -> text

    def matrix(self) -> np.ndarray:
        return np.array(self.vectors, dtype=np.float32).reshape(len(self.vectors), -1)


async def passage_vectors(settings: Settings, passages: list[Passage]) -> list[list[float]]:
    """Stored vectors of the passages' chunks (embedded now when the store lacks one)."""
    stored = await vectors.fetch(settings, [p.chunk_id for p in passages])
    missing = [p for p in passages if not stored.get(p.chunk_id)]
    for p, v in zip(missing, embed([p.text for p in missing]), strict=True):
        stored[p.chunk_id] = [float(x) for x in v]
    return [[float(x) for x in stored[p.chunk_id]] for p in passages]


def _norm(text: str) -> str:
    return " ".join(text.split())


async def gather(settings: Settings, source_ids: list[str], *, owner: str, topic: str | None,
                 words: int) -> Material:
    """Passages for about `words` words of output from every source, plus refs and figures."""
    brief = Brief(topic=topic)
    passages = await researcher.research(settings, source_ids, brief, words, owner=owner)
    refs: list[SourceRef] = []
    figures: list[FigureRef] = []
    caption_chunks: dict[str, str] = {}
    caption_texts: dict[str, str] = {}
    async with db.session(settings) as s:
        for n, sid in enumerate(source_ids, start=1):
            src = await library.get_source(s, sid, owner)
            refs.append(SourceRef(
                n=n, source_id=sid, title=src.title, authors=[str(a) for a in src.authors or []],
                year=year_of(src.published), url=src.url, doi=src.doi,
                licence_id=src.licence_id, reference=reference(src), in_text=in_text(src),
                added=src.created_at.date().isoformat() if src.created_at else None))
            captions = [c for c in await library.source_chunks(s, sid) if c.kind == "caption"]
            for f in await library.source_figures(s, sid):
                cap = _norm(f.caption)
                chunk = next((c for c in captions if cap and cap in _norm(c.text)), None)
                if chunk is None or not f.object_key:
                    continue
                figures.append(FigureRef(figure_id=f.id, source_id=sid, label=f.label,
                                         caption=cap, page=f.page, object_key=f.object_key))
                caption_chunks[f.id] = chunk.id
                caption_texts[chunk.id] = chunk.text
    vecs = await passage_vectors(settings, passages)
    return Material(passages=passages, vectors=vecs, sources=refs, figures=figures,
                    caption_chunks=caption_chunks, caption_texts=caption_texts)


async def figure_files(settings: Settings, figures: list[FigureRef], folder: Path) -> dict[str,
                                                                                         Path]:
    """The PNG of each figure copied from the object store into `folder`."""
    from storage.objects import objects

    store = objects(settings)
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, Path] = {}
    for f in figures:
        if f.object_key:
            out[f.figure_id] = await store.get_file(f.object_key, folder / f"{f.figure_id}.png")
    return out
