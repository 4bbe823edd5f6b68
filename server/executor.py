"""One runner interface, two executors: in-process asyncio, or arq workers on Redis.

`submit`, `enqueue`, `retry`, `resume` and `cancel` are all the API and CLI call. Without
LIBRARIAN_REDIS_URL, jobs wait in an asyncio priority queue served by `job_concurrency` tasks
inside the server. With it, they go to arq's queue, a Redis sorted set that workers read
lowest score first; the score is the enqueue time minus `priority * PRIORITY_STEP_MS`, so a
higher priority runs first when workers are busy, FIFO within a priority, and a waiting job
ages past newer higher-priority ones after an hour per level (no starvation). That keeps arq's
own queue, locking and retry bookkeeping; no second queue to keep consistent.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from server import events, runner
from storage import db
from storage import jobs as jobs_db
from storage.errors import BadInput
from storage.models import Job
from storage.settings import Settings

PRIORITY_STEP_MS = 3_600_000
ARQ_FUNCTION = "run"
UNFINISHED = ("pending", "queued", "running", "retrying")

_queue: asyncio.PriorityQueue[tuple[int, int, str]] | None = None
_tasks: list[asyncio.Task[None]] = []
_active: set[str] = set()  # in-process: queued or running here
_seq = itertools.count()


def queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:queue"


def arq_score(priority: int, now_ms: int | None = None) -> int:
    """The arq queue score: earlier is first, so a higher priority moves the job forward."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return now_ms - priority * PRIORITY_STEP_MS


async def submit(settings: Settings, graph: str, input: dict[str, Any], *, owner: str,
                 priority: int = 5, job_id: str | None = None) -> Job:
    """Record a job and queue it."""
    job_id = await runner.submit(settings, graph, input, owner=owner, priority=priority,
                                 job_id=job_id)
    return await enqueue(settings, job_id)


async def enqueue(settings: Settings, job_id: str) -> Job:
    """Mark the job queued and hand it to the configured executor."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id)
        if job.status in ("pending", "retrying"):
            await jobs_db.update_job(s, job_id, status="queued", message="waiting for a worker")
            job.status = "queued"
    await events.publish(settings, {"job_id": job_id, "type": "status", "status": job.status})
    if settings.redis_url:
        await _arq_enqueue(settings, job_id, job.priority)
    else:
        _local_enqueue(job_id, job.priority)
    return job


async def _arq_enqueue(settings: Settings, job_id: str, priority: int) -> None:
    redis = events.redis(settings)
    # the arq job id is the job id: a second enqueue while it waits or runs is a no-op;
    # arq's try counter restarts, so only crashes of this run count against its limit
    await redis.delete(f"arq:retry:{job_id}")
    from arq.connections import ArqRedis

    pool = ArqRedis(connection_pool=redis.connection_pool)
    score = arq_score(priority)
    await pool.enqueue_job(ARQ_FUNCTION, job_id, _job_id=job_id, _queue_name=queue_name(settings),
                           _defer_until=datetime.fromtimestamp(score / 1000, UTC),
                           _expires=timedelta(days=7))


def _local_enqueue(job_id: str, priority: int) -> None:
    if _queue is None:
        raise BadInput("the in-process job runner is not started (run `librarian serve`)")
    if job_id in _active:
        return
    _active.add(job_id)
    _queue.put_nowait((-priority, next(_seq), job_id))


async def _serve(settings: Settings) -> None:
    assert _queue is not None
    while True:
        _, _, job_id = await _queue.get()
        try:
            await runner.run_job(settings, job_id, lambda e: events.publish(settings, e))
        except Exception as exc:  # the row says what happened; keep serving other jobs
            async with db.session(settings) as s:
                await jobs_db.update_job(s, job_id, status="failed", error=f"runner: {exc}",
                                         finished_at=runner.now())
            await events.publish(settings, {"job_id": job_id, "type": "status",
                                            "status": "failed", "error": str(exc)})
        finally:
            _active.discard(job_id)


async def start(settings: Settings) -> None:
    """In-process mode: start the runner tasks and requeue jobs a previous run left unfinished."""
    global _queue
    if settings.redis_url or _queue is not None:
        return
    _queue = asyncio.PriorityQueue()
    _tasks.extend(asyncio.create_task(_serve(settings)) for _ in range(settings.job_concurrency))
    async with db.session(settings) as s:
        rows = [j for status in UNFINISHED
                for j in await jobs_db.list_jobs(s, status=status, limit=10_000)]
    for job in sorted(rows, key=lambda j: j.created_at):
        _local_enqueue(job.id, job.priority)


async def stop() -> None:
    """Stop the in-process runner; running jobs resume from their checkpoint on next start."""
    global _queue
    for task in _tasks:
        task.cancel()
    await asyncio.gather(*_tasks, return_exceptions=True)
    _tasks.clear()
    _active.clear()
    _queue = None


async def retry(settings: Settings, job_id: str, owner: str | None, *,
                manual: bool = True) -> Job:
    """Re-run a failed or cancelled job from its last checkpoint (priority goes up by one)."""
    await runner.prepare_retry(settings, job_id, owner, manual=manual)
    return await enqueue(settings, job_id)


async def resume(settings: Settings, job_id: str, owner: str | None) -> Job:
    """Continue a job from its last checkpoint: failed/cancelled ones are retried, unfinished
    ones queued again (harmless if it is already waiting or running)."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id, owner)
    if job.status == "completed":
        raise BadInput(f"job {job_id} is already completed")
    if job.status in ("failed", "cancelled"):
        return await retry(settings, job_id, owner, manual=False)
    return await enqueue(settings, job_id)


async def cancel(settings: Settings, job_id: str, owner: str | None) -> Job:
    """Cancel at once if waiting, else at the next node boundary."""
    job = await runner.request_cancel(settings, job_id, owner)
    if job.status == "cancelled":
        await events.publish(settings, events.snapshot(job))
    return job
