"""Trend discovery: fetch the feeds (Google Trends daily RSS, YouTube's most popular chart),
store each trend (source, score, volume, time), and rank them for an owner by virality and by
what their library can say (hybrid search of the topic over their sources). A topic with no
supporting source is marked unsupported, and no video is made from it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select

from agents.publish_requests import TrendsRequest
from services import catalog
from storage import db
from storage.errors import BadInput, Forbidden, NotFound
from storage.models import Trend
from storage.settings import Settings
from tools import platform_http
from tools import trends as feeds
from tools.embed import embed

NICHE_MIN = 0.3  # cosine of a trend's topic to the asked niche for it to count as about it
HISTORY = timedelta(days=7)  # growth compares with fetches this recent


async def _previous(settings: Settings, region: str) -> dict[str, float]:
    """topic (lower case) -> its volume in the last fetch before now."""
    since = datetime.now(UTC) - HISTORY
    async with db.session(settings) as s:
        rows = (await s.execute(select(Trend).where(
            Trend.region == region, Trend.fetched_at >= since).order_by(Trend.fetched_at)
        )).scalars()
        return {r.topic.lower(): r.volume for r in rows}


async def refresh(settings: Settings, region: str = "US",
                  category: str | None = None) -> dict[str, Any]:
    """Fetch both feeds for the region and store what they list; which feed ran or why not."""
    found: list[dict[str, Any]] = []
    notes: list[str] = []
    async with platform_http.client() as http:
        found += await feeds.google_daily(http, settings.google_trends_url, region)
        if settings.youtube_api_key is not None:
            found += await feeds.youtube_popular(
                http, settings.youtube_api_url, settings.youtube_api_key.get_secret_value(),
                region, category)
        else:
            notes.append("YouTube chart skipped: set LIBRARIAN_YOUTUBE_API_KEY")
    previous = await _previous(settings, region)
    for src in ("google_trends", "youtube"):
        feeds.virality([t for t in found if t["source"] == src], previous)
    at = datetime.now(UTC)
    async with db.session(settings) as s:
        for t in found:
            s.add(Trend(source=t["source"], region=region, category=category or t.get("category"),
                        topic=t["topic"][:500], volume=t["volume"], score=t["score"],
                        fetched_at=at, meta={k: v for k, v in t.items() if k not in {
                            "source", "topic", "volume", "score"}}))
    return {"region": region, "fetched": len(found), "at": at.isoformat(), "notes": notes}


async def latest(settings: Settings, region: str, category: str | None) -> list[Trend]:
    """Each feed's newest fetch for the region (and category)."""
    async with db.session(settings) as s:
        q = select(Trend.source, func.max(Trend.fetched_at)).where(Trend.region == region)
        if category:
            q = q.where((Trend.category == category) | (Trend.source == "google_trends"))
        newest = (await s.execute(q.group_by(Trend.source))).all()
        rows: list[Trend] = []
        for source, at in newest:
            sel = select(Trend).where(Trend.region == region, Trend.source == source,
                                      Trend.fetched_at == at)
            if category and source == "youtube":
                sel = sel.where(Trend.category == category)
            rows += list((await s.execute(sel)).scalars())
    return rows


def about(rows: list[Trend], niche: str) -> list[Trend]:
    """The trends whose topic is about the niche (by meaning, or naming it)."""
    if not rows:
        return []
    vecs = embed([niche] + [f"{r.topic} {' '.join(r.meta.get('tags') or [])}" for r in rows])
    sims = vecs[1:] @ vecs[0]
    return [r for r, sim in zip(rows, np.asarray(sims).tolist(), strict=True)
            if sim >= NICHE_MIN or niche.lower() in r.topic.lower()]


async def support(settings: Settings, owner: str, topic: str) -> dict[str, Any]:
    """What the owner's library holds on the topic: the sources of hits at least
    LIBRARIAN_TREND_SUPPORT_MIN similar, best first."""
    hits = await catalog.search(settings, topic, owner=owner, limit=8)
    good = [h for h in hits if h.score >= settings.trend_support_min]
    sources: dict[str, dict[str, Any]] = {}
    for h in good:
        sources.setdefault(h.source_id, {"source_id": h.source_id, "title": h.title,
                                         "similarity": round(h.score, 4)})
    best = max((h.score for h in good), default=0.0)
    return {"supported": bool(sources), "support": round(best, 4),
            "sources": list(sources.values())}


def trend_out(r: Trend, sup: dict[str, Any]) -> dict[str, Any]:
    return {"trend_id": r.id, "topic": r.topic, "source": r.source, "region": r.region,
            "category": r.category, "volume": r.volume, "virality": r.score,
            "growth": (r.meta or {}).get("growth"),
            "engagement": (r.meta or {}).get("engagement"), **sup,
            "score": round(r.score * sup["support"], 4),
            "fetched_at": r.fetched_at.isoformat() if r.fetched_at else None}


async def ranked(settings: Settings, owner: str, req: TrendsRequest) -> dict[str, Any]:
    """The region's trends scored for the owner (refreshing first when asked or none are
    stored): supported topics by virality x support, then the unsupported, marked."""
    notes: list[str] = []
    rows = [] if req.refresh else await latest(settings, req.region, req.category)
    if not rows:
        notes += (await refresh(settings, req.region, req.category))["notes"]
        rows = await latest(settings, req.region, req.category)
    if req.topic:
        rows = await asyncio.to_thread(about, rows, req.topic)
    rows = sorted(rows, key=lambda r: -r.score)[:max(req.limit * 3, req.limit)]
    out = [trend_out(r, await support(settings, owner, r.topic)) for r in rows]
    out.sort(key=lambda t: (not t["supported"], -t["score"], -t["virality"]))
    return {"region": req.region, "topic": req.topic, "trends": out[:req.limit],
            "notes": notes}


async def video_input(settings: Settings, owner: str, trend_id: int) -> dict[str, Any]:
    """A short video's topic and sources from a trend the library supports; refused when it
    has no supporting source (the video would have nothing true to say)."""
    async with db.session(settings) as s:
        row = await s.get(Trend, trend_id)
    if row is None:
        raise NotFound(f"no trend {trend_id}")
    sup = await support(settings, owner, row.topic)
    if not sup["supported"]:
        raise Forbidden(f"trend {trend_id} ({row.topic!r}) has no supporting source in your "
                        "library: import sources about it first (no video is made from "
                        "nothing)")
    if not row.topic.strip():
        raise BadInput(f"trend {trend_id} has no topic")
    return {"topic": row.topic[:500], "sources": [x["source_id"] for x in sup["sources"]]}
