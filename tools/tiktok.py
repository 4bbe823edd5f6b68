"""TikTok Content Posting API (direct post) and Display API video query.

Direct post: `/v2/post/publish/video/init/` with the post info (caption, privacy, the
AI-generated content flag `is_aigc`) and the upload plan, the file PUT in chunks with
`Content-Range` to the returned upload URL (206 per chunk, 201 at the end), then
`/v2/post/publish/status/fetch/` until the post is complete. A resumed upload asks the status
how many bytes arrived and goes on from that chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from storage.errors import BadInput, Retryable
from tools.platform_http import Auth, check, send

MIN_CHUNK = 5 * 1024 * 1024  # the documented chunk bounds: 5 MB .. 64 MB
MAX_CHUNK = 64 * 1024 * 1024
P = "TikTok"
PRIVACY = ("PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS", "FOLLOWER_OF_CREATOR", "SELF_ONLY")
JSON = {"Content-Type": "application/json; charset=UTF-8"}


def chunk_plan(size: int, preferred: int) -> tuple[int, int]:
    """(chunk size, chunk count): a file under 5 MB goes whole; otherwise chunks of 5-64 MB,
    the count rounded down (the last chunk takes the remainder)."""
    if size < MIN_CHUNK:
        return size, 1
    chunk = max(MIN_CHUNK, min(MAX_CHUNK, preferred, size))
    return chunk, max(1, size // chunk)


def _data(resp: httpx.Response, what: str) -> dict[str, Any]:
    body = resp.json()
    err = body.get("error") or {}
    if err.get("code") not in (None, "ok"):
        raise BadInput(f"TikTok {what}: {err.get('code')}: {err.get('message')}")
    return dict(body.get("data") or {})


async def creator_info(http: httpx.AsyncClient, api_url: str, auth: Auth) -> dict[str, Any]:
    """The account's posting options (privacy levels it may use, max video length)."""
    resp = await send(http, "POST", f"{api_url}/v2/post/publish/creator_info/query/", auth,
                      platform=P, what="creator_info", headers=JSON)
    return _data(resp, "creator_info")


async def init_post(http: httpx.AsyncClient, api_url: str, auth: Auth,
                    post_info: dict[str, Any], size: int, chunk: int, count: int
                    ) -> dict[str, Any]:
    """Start a direct post of a file upload: `publish_id` and `upload_url`."""
    body = {"post_info": post_info, "source_info": {
        "source": "FILE_UPLOAD", "video_size": size, "chunk_size": chunk,
        "total_chunk_count": count}}
    resp = await send(http, "POST", f"{api_url}/v2/post/publish/video/init/", auth,
                      platform=P, what="video init", json=body, headers=JSON)
    return _data(resp, "video init")


async def upload(http: httpx.AsyncClient, upload_url: str, path: Path, *, chunk: int,
                 count: int, start: int = 0,
                 on_progress: Callable[[int, int], None] | None = None) -> None:
    """PUT the chunks from chunk number `start` (the last one takes the remainder)."""
    size = path.stat().st_size
    with path.open("rb") as f:
        for n in range(start, count):
            first = n * chunk
            last = size - 1 if n == count - 1 else first + chunk - 1
            f.seek(first)
            body = f.read(last - first + 1)
            try:
                resp = await http.put(upload_url, content=body, headers={
                    "Content-Type": "video/mp4", "Content-Range": f"bytes {first}-{last}/{size}"})
            except httpx.TransportError as exc:
                raise Retryable(f"TikTok upload: {type(exc).__name__}: {exc}") from None
            check(resp, P, f"upload of chunk {n + 1}/{count}")
            if on_progress is not None:
                on_progress(last + 1, size)


async def status(http: httpx.AsyncClient, api_url: str, auth: Auth,
                 publish_id: str) -> dict[str, Any]:
    """`status`, `fail_reason`, `uploaded_bytes`, `publicaly_available_post_id` (sic)."""
    resp = await send(http, "POST", f"{api_url}/v2/post/publish/status/fetch/", auth,
                      platform=P, what="status", json={"publish_id": publish_id},
                      headers=JSON)
    return _data(resp, "status")


VIDEO_FIELDS = "id,title,share_url,view_count,like_count,comment_count,share_count"


async def query_videos(http: httpx.AsyncClient, api_url: str, auth: Auth,
                       video_ids: list[str]) -> list[dict[str, Any]]:
    """`/v2/video/query/` of the account's videos: counts per video."""
    resp = await send(http, "POST", f"{api_url}/v2/video/query/", auth, platform=P,
                      what="video query", params={"fields": VIDEO_FIELDS},
                      json={"filters": {"video_ids": video_ids[:20]}}, headers=JSON)
    return list(_data(resp, "video query").get("videos") or [])
