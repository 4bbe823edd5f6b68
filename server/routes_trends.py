"""Trends: topics trending on Google Trends and YouTube, ranked by virality and by what the
caller's library can say about them; a supported trend's sources for a video."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from agents.publish_requests import TrendsRequest
from server.auth import Owner, SettingsDep
from services import trends

router = APIRouter(tags=["trends"])


@router.get("/api/trends")
async def list_trends(settings: SettingsDep, owner: Owner,
                      req: Annotated[TrendsRequest, Query()]) -> dict[str, Any]:
    """Each trend with its feed, volume, virality (reach, engagement per view, growth), the
    owner's supporting sources and `supported`; unsupported topics last, score 0."""
    return await trends.ranked(settings, owner, req)


@router.get("/api/trends/{trend_id}/sources",
            responses={403: {"description": "no supporting source in your library"},
                       404: {"description": "no such trend"}})
async def trend_sources(trend_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
                        settings: SettingsDep, owner: Owner) -> dict[str, Any]:
    """The topic and supporting source ids to make a video from (`POST /api/content/export`
    with `format: video`); refused for a trend the library does not support."""
    return await trends.video_input(settings, owner, trend_id)
