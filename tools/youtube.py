"""YouTube Data API v3 and Analytics API v2: resumable uploads, playlists, charts, reports.

The upload follows Google's resumable protocol: a POST opens a session (its URI comes back in
`Location`), chunks of a multiple of 256 KiB are PUT with `Content-Range`, each answered by
308 "Resume Incomplete" with the `Range` received so far, and the last by the video resource.
An interrupted upload asks the session how far it got (`Content-Range: bytes */N`) and goes on
from the next byte.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from storage.errors import Retryable
from tools.platform_http import Auth, send

QUANTUM = 256 * 1024  # chunks other than the last are multiples of this
P = "YouTube"


class SessionGone(Retryable):
    """The upload session expired or was closed (404/410): open a new one."""


async def open_session(http: httpx.AsyncClient, api_url: str, auth: Auth,
                       resource: dict[str, Any], size: int, mime: str = "video/mp4") -> str:
    """Start a resumable `videos.insert`; returns the session URI."""
    resp = await send(http, "POST", f"{api_url}/upload/youtube/v3/videos", auth, platform=P,
                      what="videos.insert", params={"uploadType": "resumable",
                                                    "part": "snippet,status"},
                      json=resource, headers={"X-Upload-Content-Length": str(size),
                                              "X-Upload-Content-Type": mime})
    location = resp.headers.get("Location")
    if not location:
        raise Retryable("YouTube videos.insert answered without a session URI (Location)")
    return location


def _next_byte(resp: httpx.Response) -> int:
    """From a 308's `Range: bytes=0-N`: the next byte to send (0 when none arrived)."""
    rng = resp.headers.get("Range", "")
    return int(rng.rsplit("-", 1)[1]) + 1 if "-" in rng else 0


async def _put(http: httpx.AsyncClient, session: str, auth: Auth, headers: dict[str, str],
               body: bytes) -> httpx.Response:
    resp = await send(http, "PUT", session, auth, platform=P, what="upload", content=body,
                      headers=headers, passthrough=(404, 410))
    if resp.status_code in (404, 410):
        raise SessionGone(f"YouTube upload session expired ({resp.status_code})")
    return resp


async def received(http: httpx.AsyncClient, session: str, auth: Auth,
                   size: int) -> int | dict[str, Any]:
    """How many bytes the session holds, or the video resource when the upload is complete."""
    resp = await _put(http, session, auth, {"Content-Range": f"bytes */{size}"}, b"")
    return _next_byte(resp) if resp.status_code == 308 else dict(resp.json())


async def upload(http: httpx.AsyncClient, session: str, auth: Auth, path: Path, *,
                 chunk: int, on_progress: Callable[[int, int], None] | None = None
                 ) -> dict[str, Any]:
    """Send the file from the last byte the session acknowledged; returns the video resource."""
    size = path.stat().st_size
    chunk = max(QUANTUM, chunk // QUANTUM * QUANTUM)
    at = await received(http, session, auth, size)
    with path.open("rb") as f:
        while not isinstance(at, dict):
            f.seek(at)
            body = f.read(chunk)
            end = at + len(body) - 1
            resp = await _put(http, session, auth, {"Content-Range": f"bytes {at}-{end}/{size}",
                                                    "Content-Type": "video/mp4"}, body)
            if resp.status_code != 308:
                return dict(resp.json())
            at = _next_byte(resp)
            if on_progress is not None:
                on_progress(at, size)
    return at


async def add_to_playlist(http: httpx.AsyncClient, api_url: str, auth: Auth, playlist_id: str,
                          video_id: str) -> dict[str, Any]:
    resp = await send(http, "POST", f"{api_url}/youtube/v3/playlistItems", auth, platform=P,
                      what="playlistItems.insert", params={"part": "snippet"},
                      json={"snippet": {"playlistId": playlist_id, "resourceId": {
                          "kind": "youtube#video", "videoId": video_id}}})
    return dict(resp.json())


async def most_popular(http: httpx.AsyncClient, api_url: str, key: str, region: str,
                       category: str | None, limit: int) -> list[dict[str, Any]]:
    """`videos.list chart=mostPopular` for a region (and category): the video resources."""
    params = {"part": "snippet,statistics", "chart": "mostPopular", "regionCode": region,
              "maxResults": str(min(50, limit)), "key": key}
    if category:
        params["videoCategoryId"] = category
    resp = await send(http, "GET", f"{api_url}/youtube/v3/videos", None, platform=P,
                      what="videos.list", params=params)
    return list(resp.json().get("items") or [])


METRICS = ("views", "likes", "comments", "shares", "estimatedMinutesWatched")


async def video_report(http: httpx.AsyncClient, analytics_url: str, auth: Auth, video_id: str,
                       start: date, end: date) -> dict[str, float]:
    """YouTube Analytics `reports.query` of one video over [start, end]: metric -> total."""
    resp = await send(http, "GET", f"{analytics_url}/v2/reports", auth, platform=P,
                      what="reports.query", params={
                          "ids": "channel==MINE", "startDate": start.isoformat(),
                          "endDate": end.isoformat(), "metrics": ",".join(METRICS),
                          "filters": f"video=={video_id}"})
    body = resp.json()
    names = [h["name"] for h in body.get("columnHeaders") or []]
    rows = body.get("rows") or []
    return {n: float(sum(r[i] for r in rows)) for i, n in enumerate(names) if n in METRICS}


async def my_channel(http: httpx.AsyncClient, api_url: str, auth: Auth) -> dict[str, Any]:
    """`channels.list mine=true`: the authorised channel (the smoke check)."""
    resp = await send(http, "GET", f"{api_url}/youtube/v3/channels", auth, platform=P,
                      what="channels.list", params={"part": "snippet", "mine": "true"})
    items = resp.json().get("items") or [{}]
    return dict(items[0])
