"""arq worker: `librarian worker` (or `arq server.worker.WorkerSettings`) runs queued jobs.

Crash recovery uses arq's own lock. A worker taking a job sets `arq:in-progress:<id>`; the
job stays in the queue until it finishes. `run` shortens that key to a lease of
`job_lease_s` and renews it every third of the lease while the job runs, so a worker killed
with -9 stops renewing and, one lease later, another worker takes the job and `runner.run_job`
resumes it from its last checkpoint. Long jobs still get a long `job_timeout`; recovery does
not wait for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

from arq import func
from arq.connections import RedisSettings
from arq.worker import Worker

from server import events, runner
from server.executor import ARQ_FUNCTION, queue_name
from storage import db
from storage import jobs as jobs_db
from storage.settings import Settings, get_settings

log = logging.getLogger("librarian.worker")
JOB_TIMEOUT_S = 24 * 3600
CRASH_LIMIT = 5  # a job that killed this many workers is failed instead of taken again


async def _renew(ctx: dict[str, Any], settings: Settings) -> None:
    key = f"arq:in-progress:{ctx['job_id']}"
    lease_ms = int(settings.job_lease_s * 1000)
    while True:
        await ctx["redis"].pexpire(key, lease_ms)
        await asyncio.sleep(settings.job_lease_s / 3)


async def run(ctx: dict[str, Any], job_id: str) -> str:
    """Run or resume one job to its end; returns its final status."""
    settings: Settings = ctx["settings"]
    lease = asyncio.create_task(_renew(ctx, settings))
    try:
        if ctx.get("job_try", 1) > CRASH_LIMIT:
            error = f"worker died {CRASH_LIMIT} times while running this job"
            async with db.session(settings) as s:
                await jobs_db.update_job(s, job_id, status="failed", error=error,
                                         finished_at=runner.now())
            await events.publish(settings, {"job_id": job_id, "type": "status",
                                            "status": "failed", "error": error})
            return "failed"
        if ctx.get("job_try", 1) > 1:
            log.warning("job %s: resuming after a worker crash (try %s)", job_id, ctx["job_try"])
        job = await runner.run_job(settings, job_id, lambda e: events.publish(settings, e))
        return job.status
    finally:
        lease.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lease


async def startup(ctx: dict[str, Any]) -> None:
    ctx.setdefault("settings", get_settings())
    await db.migrate(ctx["settings"])


async def shutdown(ctx: dict[str, Any]) -> None:
    await events.close()
    await db.dispose()


def worker_options(settings: Settings, *, burst: bool = False) -> dict[str, Any]:
    """Keyword arguments for arq's `Worker` from the settings."""
    if not settings.redis_url:
        raise SystemExit("librarian worker needs LIBRARIAN_REDIS_URL")
    return {
        "functions": [func(run, name=ARQ_FUNCTION, max_tries=CRASH_LIMIT + 1)],
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": queue_name(settings),
        "max_jobs": settings.job_concurrency,
        "queue_read_limit": settings.job_concurrency,  # re-read the queue so priority holds
        "poll_delay": 0.2,
        "job_timeout": JOB_TIMEOUT_S,
        "keep_result": 0,
        "retry_jobs": True,
        "on_startup": startup,
        "on_shutdown": shutdown,
        "ctx": {"settings": settings},
        "burst": burst,
        "handle_signals": True,
    }


def main(settings: Settings | None = None, *, burst: bool = False) -> None:
    """Run a worker until SIGINT/SIGTERM."""
    settings = settings or get_settings()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    Worker(**worker_options(settings, burst=burst)).run()


class WorkerSettings:
    """For `arq server.worker.WorkerSettings`: the same options, settings from the environment."""

    functions = [func(run, name=ARQ_FUNCTION, max_tries=CRASH_LIMIT + 1)]
    on_startup = startup
    on_shutdown = shutdown
    job_timeout = JOB_TIMEOUT_S
    keep_result = 0
    poll_delay = 0.2
    max_jobs = 1
    queue_read_limit = 1
    queue_name = f"{os.environ.get('LIBRARIAN_REDIS_PREFIX', 'librarian')}:queue"
    redis_settings = RedisSettings.from_dsn(os.environ.get("LIBRARIAN_REDIS_URL")
                                            or "redis://127.0.0.1:6379")
