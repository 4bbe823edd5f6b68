"""Jobs: every graph run is one LangGraph thread (thread id = job id) recorded in `jobs`.

`run_job` runs or resumes a job to its end in this process: it re-invokes the graph on the same
thread, so finished nodes are not run again. Transient errors are retried with exponential
backoff; bad input fails at once; a cancel request stops the job at the next node boundary.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
from langchain_core.runnables import RunnableConfig

from graphs.registry import graphs
from storage import db
from storage import jobs as jobs_db
from storage.checkpoints import checkpointer
from storage.errors import BadInput, Forbidden, LibrarianError, NotFound, Retryable
from storage.models import Job
from storage.objects import objects
from storage.settings import Settings

Event = dict[str, Any]
Listener = Callable[[Event], Awaitable[None] | None]
TRANSIENT = (Retryable, TimeoutError, ConnectionError, httpx.TransportError)
PERMANENT = (BadInput, NotFound, Forbidden)
BACKOFF_S = 1.0


class Cancelled(Exception):
    """The job was cancelled by request."""


def now() -> datetime:
    return datetime.now(UTC)


def graph_config(settings: Settings, job_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": job_id, "settings": settings}, "recursion_limit": 200}


async def submit(settings: Settings, graph: str, input: dict[str, Any], *, owner: str = "local",
                 priority: int = 5, job_id: str | None = None) -> str:
    """Record a job (status pending); run it with `run_job` or hand it to a worker."""
    if graph not in graphs():
        raise BadInput(f"unknown job kind {graph!r} (known: {', '.join(sorted(graphs()))})")
    if not 1 <= priority <= 10:
        raise BadInput("priority must be between 1 and 10")
    job_id = job_id or str(uuid.uuid4())
    async with db.session(settings) as s:
        await jobs_db.create_job(s, job_id, owner, graph, {**input, "owner": owner}, priority)
    return job_id


async def _emit(listener: Listener | None, event: Event) -> None:
    if listener is None:
        return
    res = listener(event)
    if asyncio.iscoroutine(res):
        await res


async def run_job(settings: Settings, job_id: str, listener: Listener | None = None, *,
                  max_attempts: int | None = None) -> Job:
    """Run or resume the job until it completes, fails or is cancelled; returns the final row."""
    max_attempts = max_attempts or settings.job_max_attempts
    while True:
        async with db.session(settings) as s:
            job = await jobs_db.get_job(s, job_id)
            if job.status in jobs_db.TERMINAL:
                return job
            if job.cancel_requested:
                await _finish(settings, job_id, "cancelled", listener, error="cancelled by request")
                return await _load(settings, job_id)
            attempt = job.attempts + 1
            await jobs_db.update_job(s, job_id, status="running", attempts=attempt,
                                     started_at=job.started_at or now(), error=None)
        await _emit(listener, {"job_id": job_id, "type": "status", "status": "running",
                               "attempt": attempt})
        try:
            result = await _drive(settings, job, listener)
        except Cancelled:
            await _finish(settings, job_id, "cancelled", listener, error="cancelled by request")
        except PERMANENT as exc:
            await _finish(settings, job_id, "failed", listener, error=str(exc))
        except TRANSIENT as exc:
            if attempt >= max_attempts:
                await _finish(settings, job_id, "failed", listener,
                              error=f"{exc} (gave up after {attempt} attempts)")
            else:
                delay = BACKOFF_S * 2 ** (attempt - 1)
                async with db.session(settings) as s:
                    await jobs_db.update_job(s, job_id, status="retrying",
                                             error=f"{type(exc).__name__}: {exc}",
                                             message=f"retrying in {delay:.0f}s")
                await _emit(listener, {"job_id": job_id, "type": "status", "status": "retrying",
                                       "error": str(exc)})
                await asyncio.sleep(delay)
                continue
        except Exception as exc:  # a bug or an unexpected failure: fail loudly, keep the trace
            msg = str(exc) if isinstance(exc, LibrarianError) else f"{type(exc).__name__}: {exc}"
            await _finish(settings, job_id, "failed", listener, error=msg)
        else:
            await _finish(settings, job_id, "completed", listener, result=result)
        return await _load(settings, job_id)


async def _load(settings: Settings, job_id: str) -> Job:
    async with db.session(settings) as s:
        return await jobs_db.get_job(s, job_id)


async def _finish(settings: Settings, job_id: str, status: str, listener: Listener | None, *,
                  error: str | None = None, result: dict[str, Any] | None = None) -> None:
    values: dict[str, Any] = {"status": status, "finished_at": now(), "error": error}
    if status == "completed":
        values.update(progress=1.0, stage=None, message="done", result=result or {})
    else:
        # nothing half-written stays: staged files of this job go
        await objects(settings).delete_prefix(f"staging/{job_id}/")
    async with db.session(settings) as s:
        await jobs_db.update_job(s, job_id, **values)
    await _emit(listener, {"job_id": job_id, "type": "status", "status": status, "error": error,
                           "result": result or {}})


async def _drive(settings: Settings, job: Job, listener: Listener | None) -> dict[str, Any]:
    spec = graphs()[job.graph]
    stages = spec.stages
    config = graph_config(settings, job.id)
    async with checkpointer(settings) as saver:
        graph = spec.build().compile(checkpointer=saver)
        snapshot = await graph.aget_state(config)
        if snapshot.values and not snapshot.next:  # finished earlier, e.g. crash after the end
            return dict(snapshot.values.get("result") or {})
        inp = None if snapshot.next else dict(job.input)
        stage = snapshot.next[0] if snapshot.next else stages[0]
        last_write = 0.0
        await _stage(settings, job.id, stage, stages, 0.0, f"running {stage}", listener)
        done: list[str] = []
        modes: list[Any] = ["updates", "custom", "tasks"]
        async for mode, chunk in graph.astream(inp, config, stream_mode=modes):
            if mode == "updates":
                done = [k for k in chunk if not k.startswith("__")]
            elif mode == "tasks" and "result" not in chunk and _task_name(chunk) in stages:
                # a node starts (nodes that write nothing send no update, so stages come from here)
                name = _task_name(chunk)
                if name != stage or done:
                    if done and await _cancel_requested(settings, job.id):
                        raise Cancelled()
                    stage = name
                    await _stage(settings, job.id, stage, stages, 0.0,
                                 f"{', '.join(done) + ' done; ' if done else ''}running {stage}",
                                 listener)
                    done = []
            elif mode == "tasks" and "result" in chunk and _task_name(chunk) in stages:
                done = [_task_name(chunk)]
            elif mode == "custom" and isinstance(chunk, dict):
                frac = float(chunk.get("progress", 0.0))
                msg = str(chunk.get("message", ""))
                if time.monotonic() - last_write > 0.5 or frac >= 1.0:
                    last_write = time.monotonic()
                    await _stage(settings, job.id, stage, stages, frac, msg, listener)
        final = await graph.aget_state(config)
        return dict(final.values.get("result") or {})


def _task_name(chunk: Any) -> str:
    return str(chunk.get("name")) if isinstance(chunk, dict) else ""


def _overall(stage: str, stages: list[str], frac: float) -> float:
    idx = stages.index(stage) if stage in stages else 0
    return round((idx + frac) / max(1, len(stages)), 4)


async def _stage(settings: Settings, job_id: str, stage: str, stages: list[str], frac: float,
                 message: str, listener: Listener | None) -> None:
    progress = _overall(stage, stages, frac)
    async with db.session(settings) as s:
        await jobs_db.update_job(s, job_id, stage=stage, progress=progress, message=message)
    await _emit(listener, {"job_id": job_id, "type": "progress", "stage": stage,
                           "progress": progress, "message": message})


async def _cancel_requested(settings: Settings, job_id: str) -> bool:
    async with db.session(settings) as s:
        return (await jobs_db.get_job(s, job_id)).cancel_requested


async def request_cancel(settings: Settings, job_id: str, owner: str | None = None) -> Job:
    """Cancel now if the job has not started, else at the next node boundary."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id, owner)
        if job.status in jobs_db.TERMINAL:
            raise BadInput(f"job {job_id} is already {job.status}")
        if job.status in {"pending", "queued", "retrying"}:
            await jobs_db.update_job(s, job_id, status="cancelled", cancel_requested=True,
                                     finished_at=now(), error="cancelled by request")
        else:
            await jobs_db.update_job(s, job_id, cancel_requested=True)
    return await _load(settings, job_id)


async def prepare_retry(settings: Settings, job_id: str, owner: str | None = None, *,
                        manual: bool = True) -> Job:
    """Make a failed or cancelled job runnable again; it resumes from its last checkpoint."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id, owner)
        if job.status not in {"failed", "cancelled"}:
            raise BadInput("only failed or cancelled jobs can be retried "
                           f"(this one is {job.status})")
        if manual and job.attempts >= settings.manual_retry_limit:
            raise BadInput(f"job {job_id} reached the limit of {settings.manual_retry_limit} "
                           "attempts")
        await jobs_db.update_job(s, job_id, status="pending", cancel_requested=False, error=None,
                                 finished_at=None, priority=min(10, job.priority + 1))
    return await _load(settings, job_id)


async def trace(settings: Settings, job_id: str) -> list[dict[str, Any]]:
    """Node by node from the checkpoints: what ran, when, and what it wrote."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id)
    spec = graphs()[job.graph]
    config = graph_config(settings, job_id)
    out: list[dict[str, Any]] = []
    async with checkpointer(settings) as saver:
        graph = spec.build().compile(checkpointer=saver)
        history = [snap async for snap in graph.aget_state_history(config)]
    for snap in reversed(history):
        for task in snap.tasks:
            if task.result is None and task.error is None:
                continue
            wrote = task.result if isinstance(task.result, dict) else {}
            out.append({"node": task.name, "step": (snap.metadata or {}).get("step"),
                        "started_at": snap.created_at,
                        "wrote": {k: _summary(v) for k, v in wrote.items()},
                        "error": str(task.error) if task.error else None})
    return out


def _summary(value: Any) -> Any:
    if isinstance(value, list):
        return f"{len(value)} items"
    if isinstance(value, dict):
        return f"{len(value)} fields"
    if isinstance(value, str) and len(value) > 120:
        return value[:117] + "..."
    return value
