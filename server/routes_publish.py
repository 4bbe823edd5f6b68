"""Publishing: a video artifact to YouTube or TikTok (a job with retry and resume), or prepared
for Instagram by hand."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException

from agents.publish_requests import Platform, PublishParams
from server import executor
from server import operations as ops
from server.auth import Owner, SettingsDep
from server.routes_jobs import JobOut, job_out
from storage.errors import BadInput

router = APIRouter(tags=["publishing"])


@router.post("/api/publish/{platform}/{artifact_id}", status_code=202, response_model=JobOut,
             responses={403: {"description": "a source's licence forbids it"},
                        404: {"description": "no such artifact among yours"},
                        422: {"description": "not a video, or an option the platform lacks"},
                        429: {"description": "daily publish quota reached"},
                        503: {"description": "a credential is missing (the setting is named)"}})
async def publish(platform: Platform, artifact_id: str, settings: SettingsDep, owner: Owner,
                  params: Annotated[PublishParams | None, Body()] = None) -> JobOut:
    """Publish the video with the AI-content disclosure, credits and source links; returns the
    job (`result` holds the platform id and URL, or for Instagram the download link and
    caption)."""
    body: dict[str, Any] = params.model_dump(exclude_none=True) if params else {}
    try:
        inp = await ops.check_publish(settings, owner, platform, artifact_id, body)
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None
    return job_out(await executor.submit(settings, "publish", inp, owner=owner))
