"""Analytics: how the caller's published videos perform on each platform (YouTube Analytics,
TikTok video query), refreshed hourly by the workers or on request, with generation cost."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from server.auth import Owner, SettingsDep
from services import analytics

router = APIRouter(tags=["analytics"])
Refresh = Annotated[bool, Query(description="Read the platforms before answering.")]


@router.get("/api/analytics/dashboard")
async def dashboard(settings: SettingsDep, owner: Owner, refresh: Refresh = False
                    ) -> dict[str, Any]:
    """Every published video: publications, the latest views, likes, comments, shares and
    watch minutes per platform, totals, and what generating it cost."""
    return await analytics.dashboard(settings, owner, refresh_first=refresh)


@router.get("/api/analytics/video/{artifact_id}",
            responses={404: {"description": "no such artifact among yours"}})
async def video(artifact_id: str, settings: SettingsDep, owner: Owner,
                refresh: Refresh = False) -> dict[str, Any]:
    """One video's publications, latest figures per platform, their history and its cost."""
    return await analytics.video(settings, owner, artifact_id, refresh_first=refresh)
