"""Plain CRUD functions for artifacts and their segments."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.edges import delete_node_edges
from storage.errors import NotFound
from storage.models import Artifact, Segment


async def get_artifact(s: AsyncSession, artifact_id: str, owner: str | None = None) -> Artifact:
    art = await s.get(Artifact, artifact_id)
    if art is None or art.deleted_at is not None or (owner is not None and art.owner != owner):
        raise NotFound(f"no artifact {artifact_id}")
    return art


async def list_artifacts(s: AsyncSession, owner: str | None = None, *, kind: str | None = None,
                         limit: int = 50, offset: int = 0) -> list[Artifact]:
    q = select(Artifact).where(Artifact.deleted_at.is_(None)).order_by(Artifact.created_at.desc())
    if owner is not None:
        q = q.where(Artifact.owner == owner)
    if kind:
        q = q.where(Artifact.kind == kind)
    return list((await s.execute(q.limit(limit).offset(offset))).scalars())


async def segments(s: AsyncSession, artifact_id: str) -> list[Segment]:
    res = await s.execute(select(Segment).where(Segment.artifact_id == artifact_id)
                          .order_by(Segment.seq))
    return list(res.scalars())


async def replace_artifact(s: AsyncSession, artifact: Artifact) -> None:
    """Add the artifact; a resumed job finishing again replaces its earlier row and edges."""
    existing = await s.get(Artifact, artifact.id)
    if existing is not None:
        await s.delete(existing)
        await delete_node_edges(s, "artifact", [artifact.id])
        await s.flush()
    s.add(artifact)
    await s.flush()


async def artifact_by_job(s: AsyncSession, job_id: str) -> Artifact | None:
    res = await s.execute(select(Artifact).where(Artifact.job_id == job_id))
    return res.scalars().first()
