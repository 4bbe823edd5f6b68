"""Jobs: every graph run is one LangGraph thread (thread id = job id) recorded in `jobs`.

`run_job` runs or resumes a job to its end in this process. It claims the row atomically (so
two runners never run one job), renews a heartbeat while it runs (a job whose heartbeat stops
is taken over by the next runner, see `services.jobs`), and re-invokes the graph on the same
thread, so finished nodes are not run again. Transient errors are retried inside the graph by
LangGraph's `RetryPolicy`; bad input fails at once. A cancel request sets the run's cancel
token (long nodes stop at their next unit of work) and, after a short grace, cancels the run.
Status, stage and progress live in the job row only; the checkpoints hold the state a job
resumes from and its trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from langchain_core.runnables import RunnableConfig
from langgraph.types import Command, RetryPolicy
from pydantic import BaseModel

from agents.context import RunContext
from agents.requests import REQUESTS, request_of
from graphs.registry import graphs, state_types
from server import review
from storage import cancel, db
from storage import jobs as jobs_db
from storage.checkpoints import checkpointer
from storage.errors import BadInput, Cancelled, Forbidden, LibrarianError, NotFound, is_transient
from storage.jobs import JobStatus
from storage.models import Job
from storage.objects import objects
from storage.settings import Settings

log = logging.getLogger("librarian.runner")
Event = dict[str, Any]
Listener = Callable[[Event], Awaitable[None] | None]
PERMANENT = (BadInput, NotFound, Forbidden, Cancelled)
CANCEL_GRACE_S = 1.5  # a cancelled run may stop by itself this long before it is cancelled
now = jobs_db.now


def graph_config(settings: Settings, job_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": job_id, "settings": settings}, "recursion_limit": 200}


def retry_policy(settings: Settings) -> RetryPolicy:
    """Node-level retry of transient failures (network, busy or restarting services)."""
    return RetryPolicy(max_attempts=settings.job_max_attempts, initial_interval=1.0,
                       backoff_factor=2.0, max_interval=30.0, retry_on=is_transient)


async def submit(settings: Settings, graph: str, input: dict[str, Any], *, owner: str = "local",
                 priority: int = 5, job_id: str | None = None) -> str:
    """Record a job (status pending); run it with `run_job` or hand it to an executor."""
    if graph not in graphs():
        raise BadInput(f"unknown job kind {graph!r} (known: {', '.join(sorted(graphs()))})")
    if not 1 <= priority <= 10:
        raise BadInput("priority must be between 1 and 10")
    if graph in REQUESTS:
        request_of(graph, input)  # a bad request fails here, never inside the job
    job_id = job_id or str(uuid.uuid4())
    async with db.session(settings) as s:
        await jobs_db.create_job(s, job_id, owner, graph, {**input, "owner": owner}, priority)
    return job_id


async def regenerate(settings: Settings, artifact_id: str,
                     overrides: dict[str, Any] | None = None, reason: str | None = None, *,
                     owner: str | None = None, job_id: str | None = None) -> str:
    """Submit a job that remakes the artifact from its recipe (+ overrides), VERSION_OF it;
    returns the job id (pending), exactly as `submit`."""
    from services.lineage import remake_input

    graph, inp, art_owner = await remake_input(settings, artifact_id, overrides, reason,
                                               owner=owner)
    return await submit(settings, graph, inp, owner=art_owner, job_id=job_id)


async def _emit(listener: Listener | None, event: Event) -> None:
    if listener is None:
        return
    res = listener(event)
    if asyncio.iscoroutine(res):
        await res


async def run_job(settings: Settings, job_id: str, listener: Listener | None = None, *,
                  on_interrupt: Literal["cancel", "requeue"] = "cancel") -> Job:
    """Run or resume the job until it completes, fails or is cancelled; returns the final row.

    A job another runner holds is left alone. If this run is interrupted from outside (Ctrl-C,
    server shutdown), the job is cancelled (`on_interrupt="cancel"`, the CLI) or put back in the
    queue to resume from its checkpoint (`"requeue"`, the server)."""
    job = await db.write(settings, lambda s: jobs_db.claim(s, job_id, settings.job_lease_s))
    if job is None:
        return await _load(settings, job_id)
    if job.cancel_requested:
        await _finish(settings, job, JobStatus.CANCELLED, listener, error="cancelled by request")
        return await _load(settings, job_id)
    await _emit(listener, {"job_id": job_id, "type": "status", "status": JobStatus.RUNNING,
                           "attempt": job.attempts})
    token = cancel.Token()
    with cancel.scope(token):
        drive = asyncio.create_task(_drive(settings, job, listener, token), name=job_id)
    beat = asyncio.create_task(_heartbeat(settings, job, token, drive))
    retriable = False
    try:
        status, error, result = await _outcome(drive, token)
    except _Retriable as exc:
        status, error, result, retriable = JobStatus.FAILED, str(exc), None, True
    except asyncio.CancelledError:
        token.cancel("interrupted")
        await asyncio.shield(_interrupted(settings, job, listener, on_interrupt))
        raise
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
    await _finish(settings, job, status, listener, error=error, result=result,
                  retriable=retriable)
    return await _load(settings, job_id)


class _Retriable(Exception):
    """A failure that is not the input's fault (a long outage, a full disk, a bug)."""


class _Review(Exception):
    """The graph stopped for the owner's review (a LangGraph interrupt)."""


async def _outcome(drive: asyncio.Task[dict[str, Any]], token: cancel.Token
                   ) -> tuple[JobStatus, str | None, dict[str, Any] | None]:
    """Await the run; map how it ended to (status, error, result)."""
    try:
        return JobStatus.COMPLETED, None, await drive
    except _Review:
        return JobStatus.REVIEW, None, None
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if token.cancelled and not (task and task.cancelling()):
            return JobStatus.CANCELLED, token.reason, None
        raise
    except Cancelled as exc:
        return JobStatus.CANCELLED, str(exc), None
    except PERMANENT as exc:  # bad input: a retry would fail the same way
        return JobStatus.FAILED, str(exc), None
    except Exception as exc:  # transient errors left after the retries, or a bug: fail loudly
        msg = str(exc) if isinstance(exc, LibrarianError) else f"{type(exc).__name__}: {exc}"
        if is_transient(exc):
            msg += " (gave up after the retries)"
        log.warning("job %s failed: %s", drive.get_name(), msg, exc_info=not is_transient(exc))
        raise _Retriable(msg) from exc


async def _heartbeat(settings: Settings, job: Job, token: cancel.Token,
                     drive: asyncio.Task[Any]) -> None:
    """Renew the lease; on a cancel request set the token, then cancel the run after a grace.
    A run whose job was taken over (its heartbeat stopped for a whole lease) stops at once:
    its final write is refused, so the job never runs twice at the same time."""
    interval = max(0.3, min(1.0, settings.job_lease_s / 3))
    while not drive.done():
        try:
            lease = await db.write(settings, lambda s: jobs_db.heartbeat(s, job.id, job.attempts))
        except Exception as exc:  # the database is away for a moment: the run goes on
            log.warning("job %s: heartbeat failed: %s", job.id, exc)
            lease = "held"
        if lease == "lost":
            log.warning("job %s: taken over by another runner; this run stops", job.id)
            token.cancel("taken over by another runner")
            drive.cancel()
            return
        if lease == "cancel" and not token.cancelled:
            token.cancel()
            with contextlib.suppress(TimeoutError, asyncio.CancelledError, Exception):
                await asyncio.wait_for(asyncio.shield(drive), CANCEL_GRACE_S)
            drive.cancel()
            return
        await asyncio.sleep(interval)


async def _interrupted(settings: Settings, job: Job, listener: Listener | None,
                       on_interrupt: str) -> None:
    if on_interrupt == "requeue":
        await db.write(settings, lambda s: jobs_db.update_job(
            s, job.id, run=job.attempts, status=JobStatus.QUEUED,
            message="interrupted; resumes from its last checkpoint"))
        return
    await _finish(settings, job, JobStatus.CANCELLED, listener, error="interrupted")


async def _load(settings: Settings, job_id: str) -> Job:
    async with db.session(settings) as s:
        return await jobs_db.get_job(s, job_id)


async def _finish(settings: Settings, job: Job, status: JobStatus, listener: Listener | None, *,
                  error: str | None = None, result: dict[str, Any] | None = None,
                  retriable: bool = False) -> None:
    if status == JobStatus.REVIEW:  # not finished: the checkpoint and staged inputs stay
        if await db.write(settings, lambda s: jobs_db.update_job(
                s, job.id, run=job.attempts, status=status, stage="review",
                message="script ready for review")):
            await _emit(listener, {"job_id": job.id, "type": "status", "status": status})
        return
    values: dict[str, Any] = {"status": status, "finished_at": now(), "error": error}
    if status == JobStatus.COMPLETED:
        values.update(progress=1.0, stage=None, message="done", result=result or {})
    if not await db.write(settings, lambda s: jobs_db.update_job(s, job.id, run=job.attempts,
                                                                 **values)):
        log.warning("job %s: run %s no longer holds the job; its end (%s) is not recorded",
                    job.id, job.attempts, status)
        return  # another runner took the job over: its state and files are that run's
    # a failure a retry may get past (not bad input, retries left) keeps what it resumes from
    if not retriable or job.attempts >= settings.manual_retry_limit:
        await abandon(settings, job.id, keep_trace=status == JobStatus.COMPLETED)
    await _emit(listener, {"job_id": job.id, "type": "status", "status": status, "error": error,
                           "result": result or {}})


async def abandon(settings: Settings, job_id: str, *, keep_trace: bool = False) -> None:
    """The job will not run again: remove its staged inputs, and its checkpoints unless they
    are the trace of a completed job. A failed job keeps both, so a retry can resume."""
    try:
        await objects(settings).delete_prefix(f"staging/{job_id}/")
        if not keep_trace:
            async with checkpointer(settings) as saver:
                await saver.adelete_thread(job_id)
    except Exception as exc:  # leftovers are swept later; the job's status is what matters
        log.warning("job %s: cleanup failed: %s", job_id, exc)


async def _drive(settings: Settings, job: Job, listener: Listener | None,
                 token: cancel.Token) -> dict[str, Any]:
    spec = graphs()[job.graph]
    config = graph_config(settings, job.id)
    async with checkpointer(settings, state_types()) as saver:
        graph = spec.build().compile(checkpointer=saver)
        graph.retry_policy = (retry_policy(settings),)
        snapshot = await graph.aget_state(config)
        if not snapshot.next and "result" in (snapshot.values or {}):
            return dict(snapshot.values["result"])  # finished earlier, e.g. crash at the end
        inp: Any = dict(job.input) if not snapshot.next else None  # None: resume the checkpoint
        if snapshot.interrupts:  # approved after review: go on with the owner's edits
            inp = Command(resume=await review.resume_value(settings, job.id))
        progress = _Progress(settings, job.id, spec.stages, listener)
        await progress.stage(snapshot.next[0] if snapshot.next else spec.stages[0])
        context = RunContext(settings, job.owner, job.id)
        async for mode, chunk in graph.astream(inp, config, context=context,
                                               stream_mode=["custom", "tasks"]):
            if token.cancelled:
                raise Cancelled(token.reason)
            await progress.on(mode, chunk)
        final = await graph.aget_state(config)
    if final.interrupts:
        raise _Review(job.id)
    if final.next or "result" not in (final.values or {}):
        raise LibrarianError(f"job {job.id}: the {job.graph} graph stopped before its result "
                             f"(next: {', '.join(final.next) or 'nothing'})")
    return dict(final.values["result"])


class _Progress:
    """Turns the graph's task and custom stream events into stage/progress row updates."""

    def __init__(self, settings: Settings, job_id: str, stages: list[str],
                 listener: Listener | None) -> None:
        self.settings, self.job_id, self.stages, self.listener = settings, job_id, stages, listener
        self.current = stages[0]
        self.done: list[str] = []
        self.last_write = 0.0

    async def on(self, mode: str, chunk: Any) -> None:
        name = str(chunk.get("name")) if isinstance(chunk, dict) else ""
        if mode == "tasks" and name in self.stages:
            if "result" in chunk:
                self.done = [name]
            elif name != self.current or self.done:
                await self.stage(name)
        elif mode == "custom" and isinstance(chunk, dict):
            frac = float(chunk.get("progress", 0.0))
            if time.monotonic() - self.last_write > 0.5 or frac >= 1.0:
                self.last_write = time.monotonic()
                await self._write(frac, str(chunk.get("message", "")))

    async def stage(self, name: str) -> None:
        done = f"{', '.join(self.done)} done; " if self.done else ""
        self.current, self.done = name, []
        await self._write(0.0, f"{done}running {name}")

    async def _write(self, frac: float, message: str) -> None:
        idx = self.stages.index(self.current) if self.current in self.stages else 0
        progress = round((idx + max(0.0, min(1.0, frac))) / max(1, len(self.stages)), 4)
        await db.write(self.settings, lambda s: jobs_db.set_progress(
            s, self.job_id, self.current, progress, message))
        await _emit(self.listener, {"job_id": self.job_id, "type": "progress",
                                    "stage": self.current, "progress": progress,
                                    "message": message})


async def request_cancel(settings: Settings, job_id: str, owner: str | None = None) -> Job:
    """Cancel now if the job is waiting; if it runs, its runner stops it within seconds."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id, owner)
        if job.status in jobs_db.TERMINAL:
            raise BadInput(f"job {job_id} is already {job.status}")
        waiting = job.status in jobs_db.WAITING or job.status == JobStatus.REVIEW
        values: dict[str, Any] = {"cancel_requested": True}
        if waiting:
            values.update(status=JobStatus.CANCELLED, finished_at=now(),
                          error="cancelled by request")
        await jobs_db.update_job(s, job_id, **values)
    if waiting:
        await abandon(settings, job_id)
    return await _load(settings, job_id)


async def prepare_retry(settings: Settings, job_id: str, owner: str | None = None, *,
                        manual: bool = True) -> Job:
    """Make a failed or cancelled job runnable again. A failed job resumes from its last
    checkpoint; a cancelled one starts again from its input (its checkpoints were removed)."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id, owner)
        if job.status not in {JobStatus.FAILED, JobStatus.CANCELLED}:
            raise BadInput("only failed or cancelled jobs can be retried "
                           f"(this one is {job.status})")
        if manual and job.attempts >= settings.manual_retry_limit:
            raise BadInput(f"job {job_id} reached the limit of {settings.manual_retry_limit} "
                           "attempts")
        staged = (job.input or {}).get("staged_key")
        if staged and not await objects(settings).exists(str(staged)):
            raise BadInput(f"job {job_id} cannot run again: its uploaded file was removed when "
                           f"it was {job.status}; import the file again")
        await jobs_db.update_job(s, job_id, status=JobStatus.PENDING, cancel_requested=False,
                                 error=None, finished_at=None,
                                 priority=min(10, job.priority + 1))
    return await _load(settings, job_id)


async def trace(settings: Settings, job_id: str) -> list[dict[str, Any]]:
    """Node by node from the checkpoints: what ran, when, and what it wrote."""
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, job_id)
    spec = graphs()[job.graph]
    config = graph_config(settings, job_id)
    out: list[dict[str, Any]] = []
    async with checkpointer(settings, state_types()) as saver:
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
    if isinstance(value, BaseModel):
        return f"{type(value).__name__} ({len(type(value).model_fields)} fields)"
    if isinstance(value, list):
        return f"{len(value)} items"
    if isinstance(value, dict):
        return f"{len(value)} fields"
    if isinstance(value, str) and len(value) > 120:
        return value[:117] + "..."
    return value
