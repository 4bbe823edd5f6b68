"""Publish graph: check -> open -> upload -> finish, one job per platform and artifact.

`check` refuses what may not be published (licences, credentials) and writes the text; `open`
starts the platform's upload session (YouTube's resumable session URI, TikTok's publish id and
upload URL), checkpointed, so a retried or resumed job continues that session: `upload` asks it
how far it got and sends the rest; `finish` adds the playlist or waits for TikTok's processing,
then records the PUBLISHED_TO edge. Instagram has no public upload: the job prepares the
download link and caption for posting by hand.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime

from agents.context import RunContext, report, run_context
from agents.publish_requests import (
    TIKTOK_PRIVACY,
    YOUTUBE_PRIVACY,
    PublishRequest,
    validated,
)
from graphs.spec import GraphSpec
from services import publishing
from storage.errors import BadInput, Forbidden, Retryable
from tools import platform_http, tiktok, youtube

STAGES = ["check", "open", "upload", "finish"]


class PublishState(TypedDict, total=False):
    platform: str
    artifact_id: str
    privacy: str
    title: str | None
    intro: str | None
    tags: list[str] | None
    credits: bool
    playlist: str | None
    category: str
    commercial: bool
    owner: str
    prepared: dict[str, Any]
    session: dict[str, Any]
    uploaded: dict[str, Any]
    result: dict[str, Any]


def request(state: PublishState) -> PublishRequest:
    fields = PublishRequest.model_fields
    req: PublishRequest = validated(PublishRequest,
                                    {k: v for k, v in state.items() if k in fields})
    return req


async def check(state: PublishState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = run_context(runtime)
    req = request(state)
    prepared = await publishing.prepare(ctx.settings, ctx.owner, req)
    if req.platform != "instagram":
        await publishing.auth_for(ctx.settings, ctx.owner, req.platform)  # refuse early
    report(1.0, f"ready to publish {prepared['title']!r} to {req.platform}")
    return {"prepared": prepared}


def youtube_resource(req: PublishRequest, prepared: dict[str, Any]) -> dict[str, Any]:
    """The `videos.insert` body: snippet and status with the synthetic-media disclosure."""
    return {"snippet": {"title": prepared["title"], "description": prepared["description"],
                        "tags": prepared["tags"], "categoryId": req.category},
            "status": {"privacyStatus": YOUTUBE_PRIVACY[req.privacy],
                       "selfDeclaredMadeForKids": False, "containsSyntheticMedia": True}}


def tiktok_post_info(req: PublishRequest, prepared: dict[str, Any]) -> dict[str, Any]:
    """TikTok's post info: caption, privacy, and the AI-generated content flag."""
    return {"title": prepared["description"], "privacy_level": TIKTOK_PRIVACY[req.privacy],
            "disable_duet": False, "disable_comment": False, "disable_stitch": False,
            "video_cover_timestamp_ms": 1000, "brand_content_toggle": False,
            "brand_organic_toggle": False, "is_aigc": True}


async def open_session(state: PublishState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = run_context(runtime)
    req, prepared, cfg = request(state), state["prepared"], ctx.settings
    if req.platform == "instagram":
        return {"session": {}}
    path = await publishing.local_file(cfg, prepared["video_key"], ctx.job_id)
    size = path.stat().st_size
    auth = await publishing.auth_for(cfg, ctx.owner, req.platform)
    async with platform_http.client() as http:
        if req.platform == "youtube":
            url = await youtube.open_session(http, cfg.youtube_api_url, auth,
                                             youtube_resource(req, prepared), size)
            return {"session": {"url": url, "size": size}}
        info = await tiktok.creator_info(http, cfg.tiktok_api_url, auth)
        offered = info.get("privacy_level_options") or list(TIKTOK_PRIVACY.values())
        if TIKTOK_PRIVACY[req.privacy] not in offered:
            raise BadInput(f"this TikTok account does not offer privacy {req.privacy!r} "
                           f"({', '.join(offered)})")
        chunk, count = tiktok.chunk_plan(size, cfg.publish_chunk_bytes)
        init = await tiktok.init_post(http, cfg.tiktok_api_url, auth,
                                      tiktok_post_info(req, prepared), size, chunk, count)
    return {"session": {"publish_id": init["publish_id"], "upload_url": init["upload_url"],
                        "chunk": chunk, "count": count, "size": size,
                        "username": info.get("creator_username")}}


def _progress(done: int, total: int) -> None:
    report(done / max(1, total), f"uploaded {done:,} of {total:,} bytes")


async def upload(state: PublishState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = run_context(runtime)
    req, session, cfg = request(state), dict(state["session"]), ctx.settings
    if req.platform == "instagram":
        return {"uploaded": {}}
    path = await publishing.local_file(cfg, state["prepared"]["video_key"], ctx.job_id)
    auth = await publishing.auth_for(cfg, ctx.owner, req.platform)
    async with platform_http.client() as http:
        if req.platform == "youtube":
            try:
                video = await youtube.upload(http, session["url"], auth, path,
                                             chunk=cfg.publish_chunk_bytes,
                                             on_progress=_progress)
            except youtube.SessionGone:  # expired (a week): a new session from byte 0
                session["url"] = await youtube.open_session(
                    http, cfg.youtube_api_url, auth,
                    youtube_resource(req, state["prepared"]), session["size"])
                video = await youtube.upload(http, session["url"], auth, path,
                                             chunk=cfg.publish_chunk_bytes,
                                             on_progress=_progress)
            return {"session": session, "uploaded": {"video_id": video["id"],
                                                     "status": video.get("status", {})}}
        got = await tiktok.status(http, cfg.tiktok_api_url, auth, session["publish_id"])
        start = min(int(got.get("uploaded_bytes") or 0) // session["chunk"], session["count"])
        await tiktok.upload(http, session["upload_url"], path, chunk=session["chunk"],
                            count=session["count"], start=start, on_progress=_progress)
    return {"uploaded": {"publish_id": session["publish_id"], "resumed_at_chunk": start}}


async def _tiktok_done(state: PublishState, ctx: RunContext) -> dict[str, Any]:
    """Poll the post's status until TikTok has published it (or says why not)."""
    cfg, session = ctx.settings, state["session"]
    auth = await publishing.auth_for(cfg, ctx.owner, "tiktok")
    deadline = time.monotonic() + cfg.publish_poll_max_s
    async with platform_http.client() as http:
        while True:
            got = await tiktok.status(http, cfg.tiktok_api_url, auth, session["publish_id"])
            if got.get("status") == "PUBLISH_COMPLETE":
                return got
            if got.get("status") == "FAILED":
                raise Forbidden(f"TikTok did not publish the video: {got.get('fail_reason')}")
            if time.monotonic() > deadline:
                raise Retryable(f"TikTok still processing after {cfg.publish_poll_max_s:.0f} s "
                                f"({got.get('status')}); retry the job to keep waiting")
            report(0.5, f"TikTok: {got.get('status')}")
            await asyncio.sleep(cfg.publish_poll_s)


async def _youtube_done(state: PublishState, ctx: RunContext, req: PublishRequest
                        ) -> tuple[str, str | None, dict[str, Any]]:
    """Add to the playlist; the video's id, URL and edge properties."""
    vid = str(state["uploaded"]["video_id"])
    short = bool(state["prepared"]["is_short"])
    if req.playlist:
        auth = await publishing.auth_for(ctx.settings, ctx.owner, "youtube")
        async with platform_http.client() as http:
            await youtube.add_to_playlist(http, ctx.settings.youtube_api_url, auth,
                                          req.playlist, vid)
    url = f"https://youtube.com/shorts/{vid}" if short else f"https://www.youtube.com/watch?v={vid}"
    return vid, url, {"privacy": req.privacy, "short": short, "playlist": req.playlist,
                      "synthetic_media": True}


async def _tiktok_published(state: PublishState, ctx: RunContext, req: PublishRequest
                            ) -> tuple[str, str | None, dict[str, Any]]:
    """Wait for the post; its id (the publish id until TikTok makes it public), URL, props."""
    got = await _tiktok_done(state, ctx)
    ids = got.get("publicaly_available_post_id") or []
    publish_id = str(state["session"]["publish_id"])
    vid = str(ids[0]) if ids else publish_id
    user = state["session"].get("username")
    url = f"https://www.tiktok.com/@{user}/video/{vid}" if ids and user else None
    return vid, url, {"privacy": req.privacy, "publish_id": publish_id, "aigc": True}


async def finish(state: PublishState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = run_context(runtime)
    req, prepared, cfg = request(state), state["prepared"], ctx.settings
    base = {"platform": req.platform, "artifact_id": req.artifact_id,
            "title": prepared["title"], "tags": prepared["tags"]}
    if req.platform == "instagram":
        return {"result": {**base, "manual": True, "caption": prepared["description"],
                           "download_url": f"/api/artifacts/{req.artifact_id}/files/video",
                           "note": "Instagram has no public upload API here: post the file "
                                   "with this caption and mark it as AI-generated"}}
    done = _youtube_done if req.platform == "youtube" else _tiktok_published
    vid, url, props = await done(state, ctx, req)
    edge = await publishing.record(cfg, req.artifact_id, req.platform, vid, url, props)
    return {"result": {**base, **edge}}


def build_graph() -> StateGraph[Any, Any, Any, Any]:
    g: StateGraph[Any, RunContext, Any, Any] = StateGraph(PublishState,
                                                          context_schema=RunContext)
    g.add_node("check", check)
    g.add_node("open", open_session)
    g.add_node("upload", upload)
    g.add_node("finish", finish)
    g.add_edge(START, "check")
    for a, b in zip(STAGES, STAGES[1:], strict=False):
        g.add_edge(a, b)
    g.add_edge("finish", END)
    return g


SPEC = GraphSpec("publish", build_graph, STAGES, "publish a video artifact to a platform",
                 PublishRequest)
graph = build_graph().compile()  # for LangGraph dev server / Studio
