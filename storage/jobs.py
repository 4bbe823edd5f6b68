"""Plain CRUD functions for the thin `jobs` table."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import Job

TERMINAL = {"completed", "failed", "cancelled"}


async def create_job(s: AsyncSession, job_id: str, owner: str, graph: str, input: dict[str, Any],
                     priority: int = 5) -> Job:
    job = Job(id=job_id, owner=owner, graph=graph, input=input, priority=priority,
              status="pending")
    s.add(job)
    await s.flush()
    return job


async def get_job(s: AsyncSession, job_id: str, owner: str | None = None) -> Job:
    job = await s.get(Job, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise NotFound(f"no job {job_id}")
    return job


async def list_jobs(s: AsyncSession, owner: str | None = None, *, status: str | None = None,
                    limit: int = 50, offset: int = 0) -> list[Job]:
    q = select(Job).order_by(Job.created_at.desc(), Job.id)
    if owner is not None:
        q = q.where(Job.owner == owner)
    if status:
        q = q.where(Job.status == status)
    return list((await s.execute(q.limit(limit).offset(offset))).scalars())


async def update_job(s: AsyncSession, job_id: str, **values: Any) -> None:
    values["updated_at"] = datetime.now(UTC)
    await s.execute(update(Job).where(Job.id == job_id).values(**values))
