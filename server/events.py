"""Job progress broadcast: in-process pub/sub, or Redis pub/sub when LIBRARIAN_REDIS_URL is set.

Events are the runner's dicts (`type` status|progress). `follow` is what WebSocket and SSE
clients read: the job's current state first, then every event, ending with a final status.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from storage import db
from storage import jobs as jobs_db
from storage.models import Job
from storage.settings import Settings

log = logging.getLogger("librarian.events")
Event = dict[str, Any]
POLL_S = 2.0  # re-read the job row this often when no event arrives (missed or silent ends)
_local: dict[str, set[asyncio.Queue[Event]]] = defaultdict(set)
_clients: dict[tuple[str, int], aioredis.Redis] = {}


def redis(settings: Settings) -> aioredis.Redis:
    """A Redis client for this URL and event loop."""
    assert settings.redis_url
    key = (settings.redis_url, id(asyncio.get_running_loop()))
    if key not in _clients:
        _clients[key] = aioredis.Redis.from_url(settings.redis_url)
    return _clients[key]


async def close() -> None:
    """Close the Redis clients of the running loop."""
    loop = id(asyncio.get_running_loop())
    for key in [k for k in _clients if k[1] == loop]:
        await _clients.pop(key).aclose()


def channel(settings: Settings, job_id: str) -> str:
    return f"{settings.redis_prefix}:events:{job_id}"


async def publish(settings: Settings, event: Event) -> None:
    """Send one event to every subscriber of its job."""
    job_id = str(event.get("job_id"))
    if settings.redis_url:
        try:
            await redis(settings).publish(channel(settings, job_id),
                                          json.dumps(event, default=str))
        except (RedisError, OSError) as exc:  # best effort: the job row holds the truth and
            log.warning("event for job %s not sent: %s", job_id, exc)  # followers re-read it
        return
    for queue in list(_local.get(job_id, ())):
        queue.put_nowait(event)


@asynccontextmanager
async def subscribe(settings: Settings, job_id: str) -> AsyncIterator[asyncio.Queue[Event]]:
    """A queue receiving the job's events while the context is open."""
    queue: asyncio.Queue[Event] = asyncio.Queue()
    if not settings.redis_url:
        _local[job_id].add(queue)
        try:
            yield queue
        finally:
            _local[job_id].discard(queue)
            if not _local[job_id]:
                _local.pop(job_id, None)
        return
    pubsub = redis(settings).pubsub()
    await pubsub.subscribe(channel(settings, job_id))

    async def pump() -> None:
        async for msg in pubsub.listen():
            if msg.get("type") == "message":
                queue.put_nowait(json.loads(msg["data"]))

    task = asyncio.create_task(pump())
    try:
        yield queue
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await pubsub.aclose()


def snapshot(job: Job) -> Event:
    """The job's current state as a status event."""
    return {"job_id": job.id, "type": "status", "status": job.status, "stage": job.stage,
            "progress": job.progress, "message": job.message, "error": job.error,
            "attempts": job.attempts, "result": job.result or {}}


async def follow(settings: Settings, job_id: str, owner: str | None) -> AsyncIterator[Event]:
    """Current state, then every event until the job ends or stops for review (NotFound for
    another's job)."""
    async with subscribe(settings, job_id) as queue:
        async with db.session(settings) as s:
            job = await jobs_db.get_job(s, job_id, owner)
        yield snapshot(job)
        if job.status in jobs_db.SETTLED:
            return
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), POLL_S)
            except TimeoutError:
                async with db.session(settings) as s:
                    job = await jobs_db.get_job(s, job_id)
                if job.status in jobs_db.SETTLED:
                    yield snapshot(job)
                    return
                continue
            yield event
            if event.get("type") == "status" and event.get("status") in jobs_db.SETTLED:
                return
