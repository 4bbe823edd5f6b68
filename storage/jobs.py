"""The `jobs` table: the one record of a job's status, stage and progress, and its queries.

The LangGraph checkpoints (thread id = job id) hold the graph state a job resumes from and the
node-by-node trace; everything a job list shows is read from this row, written by the runner.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Literal

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.errors import NotFound
from storage.models import Job


class JobStatus(StrEnum):
    """pending -> queued -> running (-> retrying) -> completed | failed | cancelled; a run asked
    to be reviewed stops at `review` until the owner approves it (-> pending)."""

    PENDING = "pending"  # recorded, not yet handed to an executor
    QUEUED = "queued"  # waiting for a runner slot or an arq worker
    RUNNING = "running"  # a runner holds it and renews its heartbeat (`updated_at`)
    RETRYING = "retrying"  # a transient failure; it runs again after a delay
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"
    REVIEW = "review"  # stopped for the owner to review (no runner holds it)


TERMINAL = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
SETTLED = TERMINAL | {JobStatus.REVIEW}  # nothing more happens until someone acts
WAITING = frozenset({JobStatus.PENDING, JobStatus.QUEUED, JobStatus.RETRYING})
UNFINISHED = WAITING | {JobStatus.RUNNING}


def now() -> datetime:
    return datetime.now(UTC)


async def create_job(s: AsyncSession, job_id: str, owner: str, graph: str, input: dict[str, Any],
                     priority: int = 5) -> Job:
    job = Job(id=job_id, owner=owner, graph=graph, input=input, priority=priority,
              status=JobStatus.PENDING)
    s.add(job)
    await s.flush()
    return job


async def get_job(s: AsyncSession, job_id: str, owner: str | None = None) -> Job:
    job = await s.get(Job, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise NotFound(f"no job {job_id}")
    return job


async def list_jobs(s: AsyncSession, owner: str | None = None, *,
                    status: JobStatus | str | None = None, limit: int = 50,
                    offset: int = 0) -> list[Job]:
    q = select(Job).order_by(Job.created_at.desc(), Job.id)
    if owner is not None:
        q = q.where(Job.owner == owner)
    if status:
        q = q.where(Job.status == JobStatus(status))
    return list((await s.execute(q.limit(limit).offset(offset))).scalars())


async def update_job(s: AsyncSession, job_id: str, *, run: int | None = None,
                     **values: Any) -> bool:
    """Set the values; with `run` (the attempt a runner claimed), only while that run still
    holds the job (running, not taken over). Returns whether the row was written."""
    values["updated_at"] = now()
    q = update(Job).where(Job.id == job_id)
    if run is not None:
        q = q.where(Job.status == JobStatus.RUNNING, Job.attempts == run)
    res = await s.execute(q.values(**values))
    return bool(getattr(res, "rowcount", 0) == 1)


async def claim(s: AsyncSession, job_id: str, lease_s: float) -> Job | None:
    """Take the job for this runner: waiting, or running with a heartbeat older than the lease
    (its runner died). Atomic, so two runners never run one job; None if not claimable."""
    stale = now() - timedelta(seconds=lease_s)
    res = await s.execute(
        update(Job).where(Job.id == job_id, or_(
            Job.status.in_(list(WAITING)),
            (Job.status == JobStatus.RUNNING) & (Job.updated_at < stale)))
        .values(status=JobStatus.RUNNING, attempts=Job.attempts + 1, error=None,
                updated_at=now()))
    if getattr(res, "rowcount", 0) != 1:
        return None
    job = await get_job(s, job_id)
    await s.refresh(job)
    if job.started_at is None:
        job.started_at = now()
    return job


Lease = Literal["held", "cancel", "lost"]


async def heartbeat(s: AsyncSession, job_id: str, run: int) -> Lease:
    """Renew the lease of run `run`: "held", "cancel" (a cancel was requested), or "lost" (the
    job was taken over after this run's heartbeat stopped for a lease: the run must stop)."""
    if not await update_job(s, job_id, run=run):
        return "lost"
    row = (await s.execute(select(Job.cancel_requested).where(Job.id == job_id))).first()
    return "cancel" if row and row[0] else "held"


async def set_progress(s: AsyncSession, job_id: str, stage: str | None, progress: float,
                       message: str) -> None:
    """Stage and message as given; progress only ever moves forward within a job."""
    await update_job(s, job_id, stage=stage, message=message,
                     progress=case((Job.progress > progress, Job.progress), else_=progress))


async def stale_running(s: AsyncSession, lease_s: float,
                        mine: Collection[str] = ()) -> list[Job]:
    """Jobs marked running whose runner stopped renewing the lease (killed, crashed); `mine`
    (jobs this process runs, alive whatever their heartbeat says) are left out."""
    stale = now() - timedelta(seconds=lease_s)
    q = select(Job).where(Job.status == JobStatus.RUNNING, Job.updated_at < stale)
    if mine:
        q = q.where(Job.id.notin_(list(mine)))
    return list((await s.execute(q.order_by(Job.created_at))).scalars())


async def waiting_since(s: AsyncSession, seconds: float) -> list[Job]:
    """Jobs waiting (pending, queued, retrying) unchanged for at least `seconds`."""
    before = now() - timedelta(seconds=seconds)
    q = select(Job).where(Job.status.in_(list(WAITING)), Job.updated_at < before)
    return list((await s.execute(q.order_by(Job.created_at))).scalars())


async def unfinished(s: AsyncSession) -> list[Job]:
    q = select(Job).where(Job.status.in_(list(UNFINISHED))).order_by(Job.created_at)
    return list((await s.execute(q)).scalars())


def uses_source(job: Job, source_id: str) -> bool:
    """Whether the job's input names the source (export sources, a reprocess, a sub-import)."""
    inp = job.input or {}
    named = [*(inp.get("source_ids") or []), *(inp.get("sources") or []),
             inp.get("reprocess_of"), inp.get("source_id")]
    return source_id in {str(x) for x in named if x}


async def active_jobs_using(s: AsyncSession, source_id: str) -> list[Job]:
    """Unfinished jobs whose input names the source (few rows: only unfinished jobs are read)."""
    return [j for j in await unfinished(s) if uses_source(j, source_id)]
