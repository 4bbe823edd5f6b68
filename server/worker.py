"""arq worker: `librarian worker` (or `arq server.worker.WorkerSettings`) runs queued jobs.

Crash recovery needs nothing of arq's internals: a running job renews its heartbeat in the job
row, and every worker runs `executor.sweep` in the background, which queues a job whose
heartbeat stopped (its worker was killed) under a new arq job id; `runner.run_job` then resumes
it from its last checkpoint. A lost Redis connection does not end the worker: running jobs go
on (they need only the database), and the worker reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.worker import Worker

from server import events, executor, runner
from server.executor import ARQ_FUNCTION, queue_name
from storage import db
from storage.errors import is_transient
from storage.settings import Settings, get_settings

log = logging.getLogger("librarian.worker")
JOB_TIMEOUT_S = 24 * 3600
RECONNECT_MAX_S = 10.0
DEAD_ENTRIES = 20


async def run(ctx: dict[str, Any], job_id: str) -> str:
    """Run or resume one job to its end; returns its final status."""
    settings: Settings = ctx["settings"]
    try:
        with executor.running_here(job_id):
            job = await runner.run_job(settings, job_id, lambda e: events.publish(settings, e),
                                       on_interrupt="requeue")
    except Exception as exc:  # e.g. the database went away: the heartbeat stops, a sweep resumes
        log.warning("job %s: %s: %s", job_id, type(exc).__name__, exc)
        return "interrupted"
    return str(job.status)


async def refresh_trends(ctx: dict[str, Any]) -> int:
    """The cron's trend refresh: every region of LIBRARIAN_TRENDS_REGIONS."""
    from services import trends

    settings: Settings = ctx["settings"]
    fetched = 0
    for region in settings.trends_regions:
        try:
            fetched += (await trends.refresh(settings, region))["fetched"]
        except Exception as exc:  # noqa: BLE001 - one feed down must not stop the others
            log.warning("trends %s: %s: %s", region, type(exc).__name__, exc)
    return fetched


async def refresh_analytics(ctx: dict[str, Any]) -> int:
    """The cron's analytics refresh: every publication of every owner."""
    from services import analytics

    got = await analytics.refresh(ctx["settings"])
    for error in got["errors"]:
        log.warning("analytics: %s", error)
    return int(got["stored"])


def every(hours: int) -> set[int]:
    """The hours of the day a job runs at when it runs every `hours` hours."""
    return set(range(0, 24, hours))


def cron_jobs(settings: Settings) -> list[CronJob]:
    """The scheduled refreshes (LIBRARIAN_TRENDS_REFRESH_HOURS, _ANALYTICS_REFRESH_HOURS;
    0 switches one off)."""
    jobs = []
    if settings.trends_refresh_hours:
        jobs.append(cron(refresh_trends, name="refresh_trends",
                         hour=every(settings.trends_refresh_hours), minute=0, unique=True))
    if settings.analytics_refresh_hours:
        jobs.append(cron(refresh_analytics, name="refresh_analytics",
                         hour=every(settings.analytics_refresh_hours), minute=30, unique=True))
    return jobs


async def startup(ctx: dict[str, Any]) -> None:
    settings: Settings = ctx.setdefault("settings", get_settings())
    await db.migrate(settings)
    ctx["sweeper"] = asyncio.create_task(executor.sweep_forever(settings))


async def shutdown(ctx: dict[str, Any]) -> None:
    sweeper = ctx.pop("sweeper", None)
    if sweeper is not None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    await events.close()
    await db.dispose()


def worker_options(settings: Settings, *, burst: bool = False) -> dict[str, Any]:
    """Keyword arguments for arq's `Worker` from the settings."""
    if not settings.redis_url:
        raise SystemExit("librarian worker needs LIBRARIAN_REDIS_URL")
    return {
        "functions": [func(run, name=ARQ_FUNCTION, max_tries=1)],
        "cron_jobs": cron_jobs(settings),
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": queue_name(settings),
        "max_jobs": settings.job_concurrency,
        # read a few ids past the free slots: entries of runs whose worker died stay at the head
        # of arq's queue (in progress until their key expires) and are skipped; a job read
        # while the slots are full waits at most one job (priority holds up to that)
        "queue_read_limit": settings.job_concurrency + DEAD_ENTRIES,
        "poll_delay": 0.2,
        "job_timeout": JOB_TIMEOUT_S,
        "keep_result": 0,
        "retry_jobs": False,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings},
        "burst": burst,
        "handle_signals": False,
    }


async def serve(settings: Settings, *, burst: bool = False) -> None:
    """Run arq workers until SIGINT/SIGTERM, starting a new one whenever Redis goes away."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    delay = 0.5
    while not stop.is_set():
        worker = Worker(**worker_options(settings, burst=burst))
        main = asyncio.create_task(worker.main())
        stopper = asyncio.create_task(stop.wait())
        started = loop.time()
        await asyncio.wait({main, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        exc = main.exception() if main.done() and not main.cancelled() else None
        await _drain(worker, main, cancel_jobs=stop.is_set())
        if exc is None:
            break  # stopped, or a burst run finished
        if not is_transient(exc):
            raise exc
        delay = 0.5 if loop.time() - started > 30 else delay
        log.warning("worker: lost Redis (%s: %s); reconnecting in %.1fs",
                    type(exc).__name__, exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(RECONNECT_MAX_S, delay * 2)


async def _drain(worker: Worker, main: asyncio.Task[None], *, cancel_jobs: bool) -> None:
    """Stop polling; let running jobs end (on a signal they are interrupted and queued again, to
    resume elsewhere); close what can be closed (a dead Redis connection is dropped)."""
    main.cancel()
    with contextlib.suppress(BaseException):
        await main
    tasks = list(worker.tasks.values())
    for task in tasks if cancel_jobs else ():
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    with contextlib.suppress(Exception):
        await shutdown(worker.ctx)
    with contextlib.suppress(Exception):
        await asyncio.wait_for(worker.pool.close(close_connection_pool=True), 2)


def main(settings: Settings | None = None, *, burst: bool = False) -> None:
    """Run a worker until SIGINT/SIGTERM."""
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    asyncio.run(serve(settings, burst=burst))


class WorkerSettings:
    """For `arq server.worker.WorkerSettings`: the same options, settings from the environment."""

    functions = [func(run, name=ARQ_FUNCTION, max_tries=1)]
    on_startup = startup
    on_shutdown = shutdown
    job_timeout = JOB_TIMEOUT_S
    keep_result = 0
    poll_delay = 0.2
    max_jobs = 1
    queue_read_limit = 1 + DEAD_ENTRIES
    queue_name = f"{os.environ.get('LIBRARIAN_REDIS_PREFIX', 'librarian')}:queue"
    redis_settings = RedisSettings.from_dsn(os.environ.get("LIBRARIAN_REDIS_URL")
                                            or "redis://127.0.0.1:6379")
