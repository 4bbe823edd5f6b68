"""Trending topics from the public feeds: Google Trends' daily trending searches (RSS) and
YouTube's most popular chart (`tools.youtube.most_popular`), as plain topic records with the
figures virality is scored from."""

from __future__ import annotations

import math
import re
from typing import Any

import feedparser
import httpx

from tools import youtube
from tools.platform_http import send

TRAFFIC = re.compile(r"([\d.,]+)\s*([KMB]?)\+?", re.I)
SCALE = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9}


def traffic(text: str | None) -> float:
    """'200K+' -> 200000.0, '2M+' -> 2e6, '500+' -> 500.0 (0.0 when absent)."""
    m = TRAFFIC.search(text or "")
    if not m:
        return 0.0
    return float(m.group(1).replace(",", "")) * SCALE[m.group(2).upper()]


async def google_daily(http: httpx.AsyncClient, url: str, region: str) -> list[dict[str, Any]]:
    """The day's trending searches of a region: topic, approximate searches, related news."""
    resp = await send(http, "GET", url, None, platform="Google Trends", what="daily RSS",
                      params={"geo": region})
    feed = feedparser.parse(resp.content)
    out = []
    for e in feed.entries:
        news = [{"title": n.get("ht_news_item_title"), "url": n.get("ht_news_item_url")}
                for n in ([e] if e.get("ht_news_item_title") else [])]
        out.append({"source": "google_trends", "topic": str(e.get("title", "")).strip(),
                    "volume": traffic(e.get("ht_approx_traffic")),
                    "published": e.get("published"), "news": news})
    return [t for t in out if t["topic"]]


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


async def youtube_popular(http: httpx.AsyncClient, api_url: str, key: str, region: str,
                          category: str | None, limit: int = 50) -> list[dict[str, Any]]:
    """The most popular videos of a region as topics: title, views, engagement per view."""
    out = []
    for v in await youtube.most_popular(http, api_url, key, region, category, limit):
        st, sn = v.get("statistics") or {}, v.get("snippet") or {}
        views = _int(st.get("viewCount"))
        engaged = _int(st.get("likeCount")) + _int(st.get("commentCount"))
        out.append({"source": "youtube", "topic": str(sn.get("title", "")).strip(),
                    "volume": float(views), "engagement": engaged / views if views else 0.0,
                    "video_id": v.get("id"), "category": sn.get("categoryId"),
                    "tags": list(sn.get("tags") or [])[:10],
                    "published": sn.get("publishedAt"), "channel": sn.get("channelTitle")})
    return [t for t in out if t["topic"]]


def virality(items: list[dict[str, Any]], previous: dict[str, float]) -> None:
    """Set each item's `score` in 0..1: reach (log volume against the batch's largest),
    engagement per view against the batch's best, and growth since the previous fetch of the
    same topic (`previous`: topic -> volume)."""
    top = max((math.log10(1 + t["volume"]) for t in items), default=0.0) or 1.0
    best = max((t.get("engagement", 0.0) for t in items), default=0.0) or 1.0
    for t in items:
        reach = math.log10(1 + t["volume"]) / top
        before = previous.get(t["topic"].lower())
        growth = 0.0 if not before else max(0.0, min(1.0, (t["volume"] - before) / before))
        t["growth"] = round(growth, 4)
        if "engagement" in t:
            score = 0.6 * reach + 0.25 * t["engagement"] / best + 0.15 * growth
        else:
            score = 0.8 * reach + 0.2 * growth
        t["score"] = round(score, 4)
