"""Where jobs run: a thin in-process runner, or arq workers on Redis. The job table is the queue
of record; `sweep` repairs what an outage or a crash left behind.

`submit`, `enqueue`, `retry`, `resume` and `cancel` are all the API and CLI call. Without
LIBRARIAN_REDIS_URL, `job_concurrency` slots inside the server take queued jobs from the table,
highest priority first, FIFO within a priority. With it, jobs go to arq's queue, a Redis sorted
set that workers read lowest score first; the score is the enqueue time minus
`priority * PRIORITY_STEP_MS`, so a higher priority runs first when workers are busy, and a
waiting job ages past newer higher-priority ones after an hour per level (no starvation).
Only arq's public API is used: `enqueue_job` and `Job.status`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from server import events, review, runner
from storage import db
from storage import jobs as jobs_db
from storage.errors import BadInput, Retryable, is_transient
from storage.jobs import JobStatus
from storage.models import Job
from storage.settings import Settings

log = logging.getLogger("librarian.executor")
PRIORITY_STEP_MS = 3_600_000
ARQ_FUNCTION = "run"
CRASH_LIMIT = 5  # a job whose runner died this many times is failed instead of taken again

_wake: asyncio.Event | None = None
_loop_task: asyncio.Task[None] | None = None
_running: dict[str, asyncio.Task[None]] = {}
_mine: set[str] = set()  # jobs this process runs (in-process slots or an arq worker's)


def queue_name(settings: Settings) -> str:
    return f"{settings.redis_prefix}:queue"


def arq_score(priority: int, now_ms: int | None = None) -> int:
    """The arq queue score: earlier is first, so a higher priority moves the job forward."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    return now_ms - priority * PRIORITY_STEP_MS


def arq_job_id(job: Job) -> str:
    """One arq job per run of a job: a job taken over after a crash gets a new arq id, so
    nothing of the dead run's arq bookkeeping needs touching."""
    return job.id if not job.attempts else f"{job.id}:{job.attempts}"


async def submit(settings: Settings, graph: str, input: dict[str, Any], *, owner: str,
                 priority: int = 5, job_id: str | None = None) -> Job:
    """Record a job and queue it. If the queue (Redis) is unreachable the row is removed and
    `Retryable` raised (HTTP 503), so no job waits for ever."""
    job_id = await runner.submit(settings, graph, input, owner=owner, priority=priority,
                                 job_id=job_id)
    try:
        return await enqueue(settings, job_id)
    except Exception as exc:
        if not is_transient(exc):
            raise
        async with db.session(settings) as s:
            row = await s.get(Job, job_id)
            if row is not None:
                await s.delete(row)
        raise Retryable(f"the job queue is unavailable ({type(exc).__name__}: {exc}); "
                        "try again shortly") from None


async def enqueue(settings: Settings, job_id: str) -> Job:
    """Mark the job queued and hand it to the configured executor."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id)
    if settings.redis_url:
        await _arq_enqueue(settings, job)
    async with db.session(settings) as s:
        if job.status in (JobStatus.PENDING, JobStatus.RETRYING):
            await jobs_db.update_job(s, job_id, status=JobStatus.QUEUED,
                                     message="waiting for a worker")
        job = await jobs_db.get_job(s, job_id)
    await events.publish(settings, {"job_id": job_id, "type": "status", "status": job.status})
    if _wake is not None:
        _wake.set()
    return job


async def _arq_enqueue(settings: Settings, job: Job) -> None:
    from arq.connections import ArqRedis

    pool = ArqRedis(connection_pool=events.redis(settings).connection_pool)
    score = arq_score(job.priority)
    await pool.enqueue_job(ARQ_FUNCTION, job.id, _job_id=arq_job_id(job),
                           _queue_name=queue_name(settings),
                           _defer_until=datetime.fromtimestamp(score / 1000, UTC),
                           _expires=timedelta(days=7))


async def _in_arq(settings: Settings, job: Job) -> bool:
    from arq.connections import ArqRedis
    from arq.jobs import Job as ArqJob
    from arq.jobs import JobStatus as ArqStatus

    pool = ArqRedis(connection_pool=events.redis(settings).connection_pool)
    status = await ArqJob(arq_job_id(job), pool, _queue_name=queue_name(settings)).status()
    return status != ArqStatus.not_found


async def sweep(settings: Settings) -> int:
    """Repair after crashes and outages; returns how many jobs it touched.

    A running job whose heartbeat stopped (its runner was killed) is queued again to resume
    from its checkpoint, or failed after CRASH_LIMIT runs (jobs this process runs are alive
    however late their heartbeat, e.g. a busy event loop); in arq mode a waiting job that is
    not in arq's queue (Redis was down at submit, or restarted empty) is enqueued again."""
    touched = 0
    async with db.session(settings) as s:
        stale = await jobs_db.stale_running(s, settings.job_lease_s, mine=_mine)
        for job in stale:
            if job.attempts >= CRASH_LIMIT:
                await jobs_db.update_job(s, job.id, status=JobStatus.FAILED,
                                         finished_at=runner.now(),
                                         error=f"its runner died {job.attempts} times")
            else:
                log.warning("job %s: runner stopped (attempt %s); resuming", job.id, job.attempts)
                await jobs_db.update_job(s, job.id, status=JobStatus.QUEUED,
                                         message="resuming after its runner stopped")
        waiting = await jobs_db.waiting_since(s, settings.job_lease_s) if settings.redis_url else []
    for job in stale:
        if job.attempts >= CRASH_LIMIT:
            await runner.abandon(settings, job.id)
        touched += 1
    for job in [*[j for j in stale if j.attempts < CRASH_LIMIT], *waiting]:
        if settings.redis_url and (job in stale or not await _in_arq(settings, job)):
            await _arq_enqueue(settings, job)
            touched += job not in stale
    if touched and _wake is not None:
        _wake.set()
    return touched


async def sweep_forever(settings: Settings, every_s: float | None = None) -> None:
    """`sweep` every third of the job lease; outages are logged and waited out."""
    every = every_s or max(0.5, settings.job_lease_s / 3)
    while True:
        try:
            await sweep(settings)
        except Exception as exc:
            log.warning("sweep failed (%s: %s); trying again", type(exc).__name__, exc)
        await asyncio.sleep(every)


async def _next_queued(settings: Settings) -> str | None:
    async with db.session(settings) as s:
        q = (select(Job.id).where(Job.status == JobStatus.QUEUED,
                                  Job.id.notin_(list(_running)))
             .order_by(Job.priority.desc(), Job.created_at, Job.id).limit(1))
        return (await s.execute(q)).scalar()


@contextlib.contextmanager
def running_here(job_id: str) -> Iterator[None]:
    """Mark the job as run by this process while the block runs (the sweeper leaves it)."""
    _mine.add(job_id)
    try:
        yield
    finally:
        _mine.discard(job_id)


async def _run_local(settings: Settings, job_id: str) -> None:
    try:
        with running_here(job_id):
            await runner.run_job(settings, job_id, lambda e: events.publish(settings, e),
                                 on_interrupt="requeue")
    except Exception as exc:  # the database went away mid-run: the sweeper resumes it
        log.warning("job %s: runner error %s: %s", job_id, type(exc).__name__, exc)
    finally:
        _running.pop(job_id, None)
        if _wake is not None:
            _wake.set()


async def _local_loop(settings: Settings) -> None:
    """Fill the free slots with queued jobs (highest priority first); sweep now and then."""
    assert _wake is not None
    last_sweep = 0.0
    while True:
        try:
            if time.monotonic() - last_sweep > max(0.5, settings.job_lease_s / 3):
                last_sweep = time.monotonic()
                await sweep(settings)
            while len(_running) < settings.job_concurrency:
                job_id = await _next_queued(settings)
                if job_id is None:
                    break
                _running[job_id] = asyncio.create_task(_run_local(settings, job_id))
        except Exception as exc:
            log.warning("in-process runner: %s: %s", type(exc).__name__, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(_wake.wait(), 1.0)
        _wake.clear()


async def start(settings: Settings) -> None:
    """In-process mode: start the runner; jobs a previous run left are resumed by it."""
    global _wake, _loop_task
    if settings.redis_url or _loop_task is not None:
        return
    _wake = asyncio.Event()
    _loop_task = asyncio.create_task(_local_loop(settings))


async def stop() -> None:
    """Stop the in-process runner; running jobs are queued again and resume on next start."""
    global _wake, _loop_task
    tasks = [t for t in (_loop_task, *_running.values()) if t is not None]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    _running.clear()
    _loop_task = _wake = None


async def retry(settings: Settings, job_id: str, owner: str | None, *,
                manual: bool = True) -> Job:
    """Re-run a failed or cancelled job (priority goes up by one)."""
    await runner.prepare_retry(settings, job_id, owner, manual=manual)
    return await enqueue(settings, job_id)


async def resume(settings: Settings, job_id: str, owner: str | None) -> Job:
    """Continue a job from its last checkpoint: failed/cancelled ones are retried, unfinished
    ones queued again (harmless if it is already waiting or running)."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id, owner)
    if job.status == JobStatus.COMPLETED:
        raise BadInput(f"job {job_id} is already completed")
    if job.status in (JobStatus.FAILED, JobStatus.CANCELLED):
        return await retry(settings, job_id, owner, manual=False)
    if job.status == JobStatus.REVIEW:
        raise BadInput(f"job {job_id} waits for review: approve its script to go on")
    return await enqueue(settings, job_id)


async def approve(settings: Settings, job_id: str, owner: str | None) -> Job:
    """Go on with a reviewed job: narrate the owner's staged edits (or the script as written)."""
    await review.approve(settings, job_id, owner)
    return await enqueue(settings, job_id)


async def cancel(settings: Settings, job_id: str, owner: str | None) -> Job:
    """Cancel at once if waiting; a running job stops within seconds."""
    job = await runner.request_cancel(settings, job_id, owner)
    if job.status == JobStatus.CANCELLED:
        await events.publish(settings, events.snapshot(job))
    return job
