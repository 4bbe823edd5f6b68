"""Plain CRUD functions for sources, chunks, figures and licences."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import Chunk, Figure, Licence, Source


async def get_source(s: AsyncSession, source_id: str, owner: str | None = None, *,
                     include_deleted: bool = False) -> Source:
    """The source, or NotFound (also when it belongs to another owner)."""
    src = await s.get(Source, source_id)
    if (src is None or (owner is not None and src.owner != owner)
            or (src.deleted_at is not None and not include_deleted)):
        raise NotFound(f"no source {source_id}")
    return src


async def find_by_hash(s: AsyncSession, owner: str, content_hash: str) -> Source | None:
    res = await s.execute(select(Source).where(Source.owner == owner,
                                               Source.content_hash == content_hash))
    return res.scalar_one_or_none()


async def list_sources(s: AsyncSession, owner: str | None = None, *, kind: str | None = None,
                       status: str | None = None, author: str | None = None,
                       licence: str | None = None, limit: int = 100, offset: int = 0,
                       include_deleted: bool = False) -> list[Source]:
    q = select(Source).order_by(Source.created_at, Source.id)
    if owner is not None:
        q = q.where(Source.owner == owner)
    if not include_deleted:
        q = q.where(Source.deleted_at.is_(None))
    if kind:
        q = q.where(Source.kind == kind)
    if status:
        q = q.where(Source.status == status)
    if licence:
        q = q.where(Source.licence_id == licence)
    rows = list((await s.execute(q)).scalars())
    if author:
        needle = author.lower()
        rows = [r for r in rows if any(needle in str(a).lower() for a in r.authors or [])]
    return rows[offset:offset + limit]


async def chunk_counts(s: AsyncSession, source_ids: Sequence[str]) -> dict[str, int]:
    if not source_ids:
        return {}
    res = await s.execute(select(Chunk.source_id, func.count()).where(
        Chunk.source_id.in_(list(source_ids))).group_by(Chunk.source_id))
    return {sid: n for sid, n in res.all()}


async def get_chunks(s: AsyncSession, ids: Sequence[str]) -> dict[str, Chunk]:
    if not ids:
        return {}
    res = await s.execute(select(Chunk).where(Chunk.id.in_(list(ids))))
    return {c.id: c for c in res.scalars()}


async def source_chunks(s: AsyncSession, source_id: str) -> list[Chunk]:
    res = await s.execute(select(Chunk).where(Chunk.source_id == source_id).order_by(Chunk.seq))
    return list(res.scalars())


async def source_figures(s: AsyncSession, source_id: str) -> list[Figure]:
    res = await s.execute(select(Figure).where(Figure.source_id == source_id)
                          .order_by(Figure.page, Figure.label))
    return list(res.scalars())


async def owned_figure(s: AsyncSession, figure_id: str, owner: str) -> Figure | None:
    """The figure when it belongs to a live source of `owner`, else None."""
    res = await s.execute(select(Figure).join(Source, Source.id == Figure.source_id).where(
        Figure.id == figure_id, Source.owner == owner, Source.deleted_at.is_(None)))
    return res.scalar_one_or_none()


async def ensure_licence(s: AsyncSession, row: dict[str, Any]) -> None:
    """Insert the licence row if it is not there yet."""
    if await s.get(Licence, row["id"]) is None:
        s.add(Licence(**row))
        await s.flush()


async def replace_content(s: AsyncSession, source_id: str, chunks: list[Chunk],
                          figures: list[Figure]) -> None:
    """Swap a source's chunks and figures (import and reprocess)."""
    await s.execute(delete(Chunk).where(Chunk.source_id == source_id))
    await s.execute(delete(Figure).where(Figure.source_id == source_id))
    s.add_all(chunks)
    s.add_all(figures)
    await s.flush()


async def soft_delete(s: AsyncSession, source: Source) -> None:
    source.deleted_at = datetime.now(UTC)
    source.status = "deleted"


async def hard_delete(s: AsyncSession, source: Source) -> None:
    """Remove the row; chunks and figures go with it (FK cascade and explicit delete)."""
    await s.execute(delete(Chunk).where(Chunk.source_id == source.id))
    await s.execute(delete(Figure).where(Figure.source_id == source.id))
    await s.delete(source)
    await s.flush()
