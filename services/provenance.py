"""Recording an artifact's provenance: one function for every export kind.

`record_artifact` writes, in one transaction, the artifact row, a segment per traced piece, and
the edges: GENERATED_FROM each source, DERIVED_FROM each cited chunk (with the quoted span, the
figure shown and, for a translated line, its TRANSLATED_FROM note: the original language and
text), HAS_LICENSE each licence of its sources, GENERATED_BY the writer, backends and
the run (with the recipe), NARRATED_BY the voices, CREATED_BY the owner, VERSION_OF the artifact
it remakes. When anything fails, the artifact's stored files are removed: nothing half-written
stays visible.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agents.artifact import (
    ArtifactRecord,
    Maker,
    Piece,
    artifact_id_for,
    quoted_span,
    segment_id,
    writer_maker,
)
from agents.script import Passage
from storage import db, edges
from storage.artifacts import replace_artifact
from storage.models import Artifact, Segment, Source
from storage.objects import objects
from storage.settings import Settings
from tools.licences import combine

__all__ = ["ArtifactRecord", "Maker", "Piece", "artifact_id_for", "record_artifact",
           "segment_id", "writer_maker"]

FIGURE_PROPS = ("id", "label", "page", "object_key")


async def record_artifact(settings: Settings, rec: ArtifactRecord) -> None:
    """Write the artifact, its segments and all its edges; on failure delete its files."""
    try:
        async with db.session(settings) as s:
            await _write(s, rec)
    except BaseException:
        await objects(settings).delete_prefix(f"artifacts/{rec.id}/")
        raise


async def _write(s: AsyncSession, rec: ArtifactRecord) -> None:
    source_ids = sorted({p.source_id for p in rec.passages})
    licence = await _licences(s, source_ids)
    await replace_artifact(s, Artifact(
        id=rec.id, owner=rec.owner, kind=rec.kind, title=rec.title, job_id=rec.job_id,
        files=rec.files, duration_s=rec.duration_s, recipe=rec.recipe,
        version_of=rec.version_of, meta={**rec.meta, "licence": licence["verdict"]}))
    seg_ids = [segment_id(rec.id, piece.seq) for piece in rec.pieces]
    for piece, sid in zip(rec.pieces, seg_ids, strict=True):
        s.add(_segment(rec.id, sid, piece))
    await s.flush()
    await edges.delete_node_edges(s, "segment", seg_ids)
    art = ("artifact", rec.id)
    for src_id in source_ids:
        await edges.add_edge(s, art, "GENERATED_FROM", ("source", src_id))
    by_chunk = {p.chunk_id: p for p in rec.passages}
    for piece, sid in zip(rec.pieces, seg_ids, strict=True):
        for cid in piece.citations:
            await edges.add_edge(s, ("segment", sid), "DERIVED_FROM", ("chunk", cid),
                                 derived_props(piece, by_chunk.get(cid)))
    for lid, sources in licence["by_licence"].items():
        await edges.add_edge(s, art, "HAS_LICENSE", ("licence", lid), {"sources": sources})
    for m in rec.models:
        await edges.add_edge(s, art, "GENERATED_BY", ("model", m.id), m.props)
    for v in rec.voices:
        await edges.add_edge(s, art, "NARRATED_BY", ("voice", v.id), v.props)
    await edges.add_edge(s, art, "CREATED_BY", ("owner", rec.owner), {"job_id": rec.job_id})
    await edges.add_edge(s, art, "GENERATED_BY", ("run", rec.job_id), {"recipe": rec.recipe})
    if rec.version_of:
        await edges.add_edge(s, art, "VERSION_OF", ("artifact", rec.version_of))


def _segment(aid: str, sid: str, piece: Piece) -> Segment:
    meta: dict[str, Any] = {"citations": piece.citations, "quote": piece.quote, **piece.meta}
    if piece.figure is not None:
        meta["figure"] = piece.figure
    return Segment(id=sid, artifact_id=aid, seq=piece.seq, kind=piece.kind, speaker=piece.speaker,
                   text=piece.text, section=piece.section, start_s=piece.start_s,
                   end_s=piece.end_s, support=piece.support, meta=meta)


def derived_props(piece: Piece, passage: Passage | None) -> dict[str, Any]:
    """A DERIVED_FROM edge's properties: the part of the quote this chunk holds, the support,
    the source, and the figure shown when it comes from the chunk's source."""
    props: dict[str, Any] = {"quote": quoted_span(piece.quote, passage.text) if passage else "",
                             "support": piece.support,
                             "source_id": passage.source_id if passage else None}
    fig = piece.figure
    if fig is not None and passage is not None and passage.source_id == fig.get("source_id"):
        props["figure"] = {k: fig.get(k) for k in FIGURE_PROPS}
    if piece.meta.get("translated_from"):  # the TRANSLATED_FROM note: what the line said first
        props["translated_from"] = piece.meta["translated_from"]
    return props


async def _licences(s: AsyncSession, source_ids: list[str]) -> dict[str, Any]:
    """The sources' licences (id -> source ids) and their combined verdict."""
    by_licence: dict[str, list[str]] = {}
    for sid in source_ids:
        src = await s.get(Source, sid)
        by_licence.setdefault((src.licence_id if src else None) or "unknown", []).append(sid)
    v = combine([lid for lid, ids in by_licence.items() for _ in ids])
    verdict = {"licences": sorted(by_licence), "commercial_use_allowed": v.commercial_use_allowed,
               "attribution_required": v.attribution_required,
               "share_alike_required": v.share_alike_required,
               "derivatives_allowed": v.derivatives_allowed}
    return {"by_licence": by_licence, "verdict": verdict}
