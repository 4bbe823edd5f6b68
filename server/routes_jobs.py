"""Jobs: list, get, trace, retry, resume, cancel, review (script, edits, approval), and live
progress over SSE and WebSocket."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, WebSocket, WebSocketDisconnect
from pydantic import BaseModel, ConfigDict
from sse_starlette.sse import EventSourceResponse

from agents.script import ScriptEdit
from server import events, executor, review, runner
from server.auth import Owner, SettingsDep, StreamOwner, websocket_owner
from server.views import job_dict
from storage import db
from storage import jobs as jobs_db
from storage.errors import NotFound
from storage.jobs import JobStatus
from storage.models import Job

router = APIRouter(tags=["jobs"])


class JobOut(BaseModel):
    job_id: str
    graph: str
    status: JobStatus
    stage: str | None
    progress: float
    message: str | None
    error: str | None
    attempts: int
    priority: int
    result: dict[str, Any]
    input: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class RetryRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    manual: bool = True


def job_out(job: Job) -> JobOut:
    return JobOut(**job_dict(job))


@router.get("/api/jobs", response_model=list[JobOut])
async def list_jobs(settings: SettingsDep, owner: Owner,
                    status: JobStatus | None = None,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> list[JobOut]:
    """The caller's jobs, newest first."""
    async with db.session(settings) as s:
        rows = await jobs_db.list_jobs(s, owner, status=status, limit=limit, offset=offset)
    return [job_out(j) for j in rows]


@router.get("/api/jobs/{job_id}", response_model=JobOut)
async def get_job(job_id: str, settings: SettingsDep, owner: Owner) -> JobOut:
    """Status, stage, progress, error and attempts of one job."""
    async with db.session(settings) as s:
        return job_out(await jobs_db.get_job(s, job_id, owner))


@router.get("/api/jobs/{job_id}/trace")
async def job_trace(job_id: str, settings: SettingsDep, owner: Owner) -> list[dict[str, Any]]:
    """Node by node from the checkpoints: what ran, when, and what it wrote."""
    async with db.session(settings) as s:
        await jobs_db.get_job(s, job_id, owner)
    return json.loads(json.dumps(await runner.trace(settings, job_id), default=str))


@router.post("/api/jobs/{job_id}/retry", response_model=JobOut)
async def retry_job(job_id: str, settings: SettingsDep, owner: Owner,
                    req: RetryRequest | None = None) -> JobOut:
    """Run a failed or cancelled job again from its last checkpoint (priority + 1)."""
    manual = True if req is None else req.manual
    return job_out(await executor.retry(settings, job_id, owner, manual=manual))


@router.post("/api/jobs/{job_id}/resume", response_model=JobOut)
async def resume_job(job_id: str, settings: SettingsDep, owner: Owner) -> JobOut:
    """Continue a job from its last checkpoint."""
    return job_out(await executor.resume(settings, job_id, owner))


@router.get("/api/jobs/{job_id}/script")
async def job_script(job_id: str, settings: SettingsDep, owner: Owner) -> dict[str, Any]:
    """The script of a job waiting for review: lines, hosts, citable passages, staged edits."""
    return await review.script(settings, job_id, owner)


@router.put("/api/jobs/{job_id}/script")
async def edit_job_script(job_id: str, edit: ScriptEdit, settings: SettingsDep,
                          owner: Owner) -> dict[str, Any]:
    """Stage the owner's edits (the whole script, in order); each changed claim must still be
    supported by the passages it cites (400 names the first line that is not)."""
    return await review.edit_script(settings, job_id, owner, edit)


@router.post("/api/jobs/{job_id}/approve", response_model=JobOut)
async def approve_job(job_id: str, settings: SettingsDep, owner: Owner) -> JobOut:
    """Narrate the reviewed script (with the staged edits, if any) and finish the job."""
    return job_out(await executor.approve(settings, job_id, owner))


@router.delete("/api/jobs/{job_id}", response_model=JobOut)
async def cancel_job(job_id: str, settings: SettingsDep, owner: Owner) -> JobOut:
    """Cancel: at once if waiting; a running job stops within seconds."""
    return job_out(await executor.cancel(settings, job_id, owner))


@router.get("/api/jobs/{job_id}/events",
            responses={200: {"content": {"text/event-stream": {}}}})
async def job_events(job_id: str, settings: SettingsDep, owner: StreamOwner
                     ) -> EventSourceResponse:
    """Server-Sent Events: the current state, then each stage change and progress step, ending
    with the final status."""
    stream = events.follow(settings, job_id, owner)
    first = await anext(stream)  # NotFound -> 404 before the stream starts

    async def gen() -> AsyncIterator[dict[str, str]]:
        yield {"event": first["type"], "data": json.dumps(first, default=str)}
        async for event in stream:
            yield {"event": str(event.get("type", "message")),
                   "data": json.dumps(event, default=str)}

    return EventSourceResponse(gen(), ping=15)


@router.websocket("/ws/jobs/{job_id}")
async def job_socket(websocket: WebSocket, job_id: str) -> None:
    """WebSocket: the same events as SSE, one JSON message each; closes after the final one."""
    settings = websocket.app.state.settings
    try:
        owner = await websocket_owner(websocket)
    except HTTPException as exc:
        await websocket.close(code=4401, reason=str(exc.detail))
        return
    await websocket.accept()
    try:
        async for event in events.follow(settings, job_id, owner):
            await websocket.send_text(json.dumps(event, default=str))
    except NotFound as exc:
        await websocket.close(code=4404, reason=str(exc))
        return
    except WebSocketDisconnect:
        return
    await websocket.close()
