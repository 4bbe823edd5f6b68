"""Video batches: up to 10 videos in one request, each its own job, followed by one batch id."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path

from agents.batch_requests import VideoBatchRequest
from server import executor
from server import operations as ops
from server.auth import Owner, SettingsDep
from server.views import job_dict
from storage import db
from storage import jobs as jobs_db
from storage.errors import BadInput, NotFound

router = APIRouter(tags=["content"])
BATCH_SCAN = 2000  # the owner's newest jobs searched for a batch's members
TERMINAL = {"completed", "failed", "cancelled"}


@router.post("/api/video/batch", status_code=202,
             responses={403: {"description": "commercial use refused by a source's licence"},
                        404: {"description": "a source is not in your library"},
                        422: {"description": "more than 10 videos, or bad parameters"},
                        429: {"description": "the daily video quota cannot hold them all"}})
async def video_batch(req: VideoBatchRequest, settings: SettingsDep, owner: Owner
                      ) -> dict[str, Any]:
    """Start every video as its own job; follow them with `GET /api/video/batch/{batch_id}`."""
    try:
        inputs = await ops.check_video_batch(settings, owner, req)
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None
    batch_id = str(uuid.uuid4())
    jobs = [await executor.submit(settings, "video", {**inp, "batch_id": batch_id},
                                  owner=owner, priority=req.priority) for inp in inputs]
    return {"batch_id": batch_id, "jobs": [job_dict(j) for j in jobs]}


@router.get("/api/video/batch/{batch_id}", responses={404: {"description": "no such batch"}})
async def batch_status(batch_id: Annotated[str, Path(max_length=64)], settings: SettingsDep,
                       owner: Owner) -> dict[str, Any]:
    """The batch's jobs with their status, and how many are in each status."""
    async with db.session(settings) as s:
        rows = await jobs_db.list_jobs(s, owner, limit=BATCH_SCAN)
    jobs = [job_dict(j) for j in reversed(rows) if (j.input or {}).get("batch_id") == batch_id]
    if not jobs:
        raise NotFound(f"no batch {batch_id}")
    counts = Counter(j["status"] for j in jobs)
    return {"batch_id": batch_id, "jobs": jobs, "counts": dict(counts),
            "done": all(j["status"] in TERMINAL for j in jobs)}
