"""Platform metrics of published artifacts: add a reading, the latest per platform, history."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import PlatformMetric

FIELDS = ("views", "likes", "comments", "shares", "watch_minutes")


def as_dict(m: PlatformMetric) -> dict[str, Any]:
    return {"platform": m.platform, "video_id": m.video_id,
            **{f: getattr(m, f) for f in FIELDS},
            "fetched_at": m.fetched_at.isoformat() if m.fetched_at else None}


async def latest(s: AsyncSession, artifact_ids: list[str]) -> dict[str, dict[str, Any]]:
    """artifact id -> platform -> its newest reading."""
    if not artifact_ids:
        return {}
    rows = (await s.execute(select(PlatformMetric).where(
        PlatformMetric.artifact_id.in_(artifact_ids)).order_by(PlatformMetric.id))).scalars()
    out: dict[str, dict[str, Any]] = {}
    for m in rows:  # later rows replace earlier ones
        out.setdefault(m.artifact_id, {})[m.platform] = as_dict(m)
    return out


async def history(s: AsyncSession, artifact_id: str) -> list[dict[str, Any]]:
    rows = (await s.execute(select(PlatformMetric).where(
        PlatformMetric.artifact_id == artifact_id).order_by(PlatformMetric.id))).scalars()
    return [as_dict(m) for m in rows]
