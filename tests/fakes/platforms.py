"""Local fakes of Google's (OAuth, YouTube Data/Upload/Analytics, Trends RSS) and TikTok's
(OAuth, Content Posting, video query) HTTP APIs, following the vendors' documented request and
response shapes, served on loopback by uvicorn in a thread. Every request is recorded so a test
can assert what our client sent; faults (401 expiry, 5xx, dropped chunks, quota) are switched
on per test."""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

CLIENT_ID, CLIENT_SECRET = "fake-client.apps.googleusercontent.com", "fake-google-secret-1"
TT_KEY, TT_SECRET = "fake-tiktok-key", "fake-tiktok-secret-1"
EL_KEY = "fake-elevenlabs-key-1"


def google_error(code: int, reason: str, message: str, domain: str = "youtube") -> Response:
    return JSONResponse({"error": {"code": code, "message": message, "errors": [
        {"domain": domain, "reason": reason, "message": message}]}}, status_code=code)


def tt_error(status: int, code: str, message: str) -> Response:
    return JSONResponse({"data": {}, "error": {"code": code, "message": message,
                                               "log_id": secrets.token_hex(8)}},
                        status_code=status)


def tt_ok(data: dict[str, Any]) -> Response:
    return JSONResponse({"data": data, "error": {"code": "ok", "message": "",
                                                 "log_id": secrets.token_hex(8)}})


@dataclass
class Upload:
    size: int
    meta: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    video_id: str = ""


@dataclass
class Post:
    info: dict[str, Any]
    source: dict[str, Any]
    data: bytearray = field(default_factory=bytearray)
    status_calls: int = 0


@dataclass
class Fake:
    """The platforms' state; tests read `log` and set the fault switches."""

    base: str = ""
    log: list[dict[str, Any]] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)  # valid access tokens
    refresh_tokens: dict[str, str] = field(default_factory=dict)  # refresh token -> platform
    codes: dict[str, dict[str, str]] = field(default_factory=dict)  # auth code -> its request
    uploads: dict[str, Upload] = field(default_factory=dict)
    posts: dict[str, Post] = field(default_factory=dict)
    playlist_items: list[dict[str, Any]] = field(default_factory=list)
    # faults
    chunk_faults: list[int] = field(default_factory=list)  # statuses for the next chunk PUTs
    keep_on_fault: int = 0  # bytes of a failed chunk kept anyway (a connection cut mid-chunk)
    fault_after: int = 0  # chunk faults start once this many bytes arrived
    quota_exceeded: bool = False
    tt_chunk_faults: list[int] = field(default_factory=list)
    # feeds and figures
    popular: list[dict[str, Any]] = field(default_factory=list)
    trends_rss: str = ""
    yt_stats: dict[str, dict[str, float]] = field(default_factory=dict)  # video id -> metrics
    tt_stats: dict[str, dict[str, Any]] = field(default_factory=dict)  # video id -> counts

    def issue(self, platform: str) -> dict[str, Any]:
        access = f"{platform}-at-{secrets.token_hex(6)}"
        self.tokens.add(access)
        return {"access_token": access, "expires_in": 3599, "token_type": "Bearer"}

    def expire_tokens(self) -> None:
        """Every access token issued so far answers 401 from now on."""
        self.tokens.clear()

    def requests(self, path_part: str, method: str | None = None) -> list[dict[str, Any]]:
        return [r for r in self.log if path_part in r["path"]
                and (method is None or r["method"] == method)]

    # --- helpers ---------------------------------------------------------------------------
    def authorised(self, request: Request) -> bool:
        auth = request.headers.get("authorization", "")
        return auth.startswith("Bearer ") and auth[7:] in self.tokens


def _record(fake: Fake, request: Request, body: bytes) -> None:
    fake.log.append({"method": request.method, "path": request.url.path,
                     "query": dict(request.query_params), "headers": dict(request.headers),
                     "body": body if len(body) < 4096 else b"", "length": len(body)})


def build_app(fake: Fake) -> Starlette:
    async def logged(request: Request) -> bytes:
        body = await request.body()
        _record(fake, request, body)
        return body

    # --- OAuth (Google and TikTok) ---------------------------------------------------------
    async def authorize(request: Request) -> Response:
        await logged(request)
        q = request.query_params
        code = secrets.token_urlsafe(12)
        fake.codes[code] = dict(q)
        query = urlencode({"code": code, "state": q["state"]})
        return RedirectResponse(f"{q['redirect_uri']}?{query}", status_code=302)

    async def token(request: Request, platform: str, cid_name: str, cid: str,
                    secret: str) -> Response:
        await logged(request)
        form = await request.form()
        if form.get(cid_name) != cid or form.get("client_secret") != secret:
            return JSONResponse({"error": "invalid_client",
                                 "error_description": "bad client"}, status_code=401)
        if form.get("grant_type") == "refresh_token":
            if fake.refresh_tokens.get(str(form.get("refresh_token"))) != platform:
                return JSONResponse({"error": "invalid_grant",
                                     "error_description": "Token has been expired or revoked."},
                                    status_code=400)
            return JSONResponse(fake.issue(platform))
        asked = fake.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier") or "")
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
        if asked is None or asked.get("code_challenge") != challenge \
                or asked.get("redirect_uri") != form.get("redirect_uri"):
            return JSONResponse({"error": "invalid_grant", "error_description": "bad code"},
                                status_code=400)
        refresh = f"{platform}-rt-{secrets.token_hex(6)}"
        fake.refresh_tokens[refresh] = platform
        return JSONResponse({**fake.issue(platform), "refresh_token": refresh,
                             "scope": asked.get("scope", ""), "open_id": "open-1"})

    async def google_token(request: Request) -> Response:
        return await token(request, "youtube", "client_id", CLIENT_ID, CLIENT_SECRET)

    async def tiktok_token(request: Request) -> Response:
        return await token(request, "tiktok", "client_key", TT_KEY, TT_SECRET)

    # --- YouTube resumable upload ----------------------------------------------------------
    async def yt_insert(request: Request) -> Response:
        body = await logged(request)
        if not fake.authorised(request):
            return google_error(401, "authError", "Invalid Credentials", "global")
        q = request.query_params
        if request.method == "POST":
            if q.get("uploadType") != "resumable":
                return google_error(400, "badRequest", "uploadType must be resumable")
            if fake.quota_exceeded:
                return google_error(403, "quotaExceeded", "The request cannot be completed "
                                    "because you have exceeded your quota.")
            import json

            uid = secrets.token_urlsafe(10)
            fake.uploads[uid] = Upload(int(request.headers["x-upload-content-length"]),
                                       json.loads(body))
            return Response(status_code=200, headers={
                "Location": f"{fake.base}/yt/upload/youtube/v3/videos?uploadType=resumable"
                            f"&upload_id={uid}"})
        up = fake.uploads.get(q.get("upload_id", ""))
        if up is None:
            return google_error(404, "notFound", "upload session not found", "global")
        return _yt_chunk(fake, up, request.headers.get("content-range", ""), body)

    async def playlist_items(request: Request) -> Response:
        import json

        body = await logged(request)
        if not fake.authorised(request):
            return google_error(401, "authError", "Invalid Credentials", "global")
        item = json.loads(body)
        fake.playlist_items.append(item)
        return JSONResponse({"kind": "youtube#playlistItem", "id": "pli-1", **item})

    async def videos_list(request: Request) -> Response:
        await logged(request)
        if not request.query_params.get("key"):
            return google_error(403, "forbidden", "API key required", "global")
        cat = request.query_params.get("videoCategoryId")
        items = [v for v in fake.popular if not cat or v["snippet"].get("categoryId") == cat]
        return JSONResponse({"kind": "youtube#videoListResponse", "items": items[
            :int(request.query_params.get("maxResults", "5"))]})

    async def reports(request: Request) -> Response:
        await logged(request)
        if not fake.authorised(request):
            return google_error(401, "authError", "Invalid Credentials", "global")
        q = request.query_params
        vid = q["filters"].removeprefix("video==")
        metrics = q["metrics"].split(",")
        stats = fake.yt_stats.get(vid, {})
        return JSONResponse({"kind": "youtubeAnalytics#resultTable", "columnHeaders": [
            {"name": m, "columnType": "METRIC", "dataType": "INTEGER"} for m in metrics],
            "rows": [[stats.get(m, 0) for m in metrics]] if stats else []})

    async def trends_rss(request: Request) -> Response:
        await logged(request)
        return Response(fake.trends_rss, media_type="application/rss+xml")

    # --- TikTok ------------------------------------------------------------------------------
    async def tt_creator(request: Request) -> Response:
        await logged(request)
        if not fake.authorised(request):
            return tt_error(401, "access_token_invalid", "The access token is invalid")
        return tt_ok({"creator_username": "librarian_fake", "creator_nickname": "Fake",
                      "privacy_level_options": ["PUBLIC_TO_EVERYONE", "MUTUAL_FOLLOW_FRIENDS",
                                                "SELF_ONLY"],
                      "max_video_post_duration_sec": 600})

    async def tt_init(request: Request) -> Response:
        import json

        body = await logged(request)
        if not fake.authorised(request):
            return tt_error(401, "access_token_invalid", "The access token is invalid")
        req = json.loads(body)
        src = req["source_info"]
        size, chunk, count = src["video_size"], src["chunk_size"], src["total_chunk_count"]
        whole = size < 5 * 1024 * 1024 and chunk == size and count == 1
        if not whole and not (5 * 1024 * 1024 <= chunk <= 64 * 1024 * 1024
                              and count == size // chunk):
            return tt_error(400, "invalid_params", "chunk_size / total_chunk_count invalid")
        pid = f"v_pub_file~v2-1.{secrets.randbelow(10**12)}"
        fake.posts[pid] = Post(req["post_info"], src)
        return tt_ok({"publish_id": pid,
                      "upload_url": f"{fake.base}/tt-upload/video/?upload_id={pid}"})

    async def tt_upload(request: Request) -> Response:
        body = await logged(request)
        post = fake.posts.get(request.query_params.get("upload_id", ""))
        if post is None:
            return tt_error(404, "invalid_params", "unknown upload")
        if fake.tt_chunk_faults and len(post.data) >= fake.fault_after:
            return Response(status_code=fake.tt_chunk_faults.pop(0))
        rng = request.headers.get("content-range", "")
        first, last, total = _range(rng)
        src = post.source
        n = first // src["chunk_size"]
        expect_last = total - 1 if n == src["total_chunk_count"] - 1 else \
            first + src["chunk_size"] - 1
        if first != len(post.data) or last != expect_last or len(body) != last - first + 1:
            return tt_error(400, "invalid_params", f"unexpected range {rng}")
        post.data.extend(body)
        return Response(status_code=201 if len(post.data) == total else 206)

    async def tt_status(request: Request) -> Response:
        import json

        body = await logged(request)
        if not fake.authorised(request):
            return tt_error(401, "access_token_invalid", "The access token is invalid")
        post = fake.posts.get(json.loads(body)["publish_id"])
        if post is None:
            return tt_error(400, "invalid_publish_id", "no such publish id")
        done = len(post.data) == post.source["video_size"]
        if done:
            post.status_calls += 1
        if not done:
            return tt_ok({"status": "PROCESSING_UPLOAD", "uploaded_bytes": len(post.data)})
        if post.status_calls < 2:
            return tt_ok({"status": "PROCESSING_DOWNLOAD", "uploaded_bytes": len(post.data)})
        return tt_ok({"status": "PUBLISH_COMPLETE", "uploaded_bytes": len(post.data),
                      "publicaly_available_post_id": [7_300_000_000_000_000_001]})

    async def tt_query(request: Request) -> Response:
        import json

        body = await logged(request)
        if not fake.authorised(request):
            return tt_error(401, "access_token_invalid", "The access token is invalid")
        ids = json.loads(body)["filters"]["video_ids"]
        return tt_ok({"videos": [{"id": i, **fake.tt_stats[i]} for i in ids
                                 if i in fake.tt_stats]})

    async def el_add_voice(request: Request) -> Response:
        form = await request.form()
        files = form.getlist("files")
        fake.log.append({"method": "POST", "path": request.url.path, "query": {},
                         "headers": dict(request.headers), "body": b"",
                         "length": 0, "form": {"name": form.get("name"),
                                               "files": [getattr(f, "filename", "")
                                                         for f in files]}})
        if request.headers.get("xi-api-key") != EL_KEY:
            return JSONResponse({"detail": {"status": "invalid_api_key"}}, status_code=401)
        if not form.get("name") or not files:
            return JSONResponse({"detail": {"status": "invalid_request"}}, status_code=422)
        return JSONResponse({"voice_id": "clonedVoice123", "requires_verification": False})

    return Starlette(routes=[
        Route("/el/v1/voices/add", el_add_voice, methods=["POST"]),
        Route("/oauth2/auth", authorize), Route("/tt-auth/", authorize),
        Route("/oauth2/token", google_token, methods=["POST"]),
        Route("/tt/v2/oauth/token/", tiktok_token, methods=["POST"]),
        Route("/yt/upload/youtube/v3/videos", yt_insert, methods=["POST", "PUT"]),
        Route("/yt/youtube/v3/playlistItems", playlist_items, methods=["POST"]),
        Route("/yt/youtube/v3/videos", videos_list),
        Route("/yta/v2/reports", reports),
        Route("/trends/trending/rss", trends_rss),
        Route("/tt/v2/post/publish/creator_info/query/", tt_creator, methods=["POST"]),
        Route("/tt/v2/post/publish/video/init/", tt_init, methods=["POST"]),
        Route("/tt-upload/video/", tt_upload, methods=["PUT"]),
        Route("/tt/v2/post/publish/status/fetch/", tt_status, methods=["POST"]),
        Route("/tt/v2/video/query/", tt_query, methods=["POST"]),
    ])


def _range(header: str) -> tuple[int, int, int]:
    """'bytes a-b/N' -> (a, b, N); 'bytes */N' -> (-1, -1, N)."""
    spec, _, total = header.removeprefix("bytes ").partition("/")
    if spec == "*":
        return -1, -1, int(total)
    a, _, b = spec.partition("-")
    return int(a), int(b), int(total)


def _yt_chunk(fake: Fake, up: Upload, rng: str, body: bytes) -> Response:
    first, last, total = _range(rng)
    if total != up.size:
        return google_error(400, "badContent", f"total {total} != declared {up.size}")
    if first >= 0:
        if first != len(up.data) or len(body) != last - first + 1:
            return google_error(400, "badContent", f"range {rng} does not continue at "
                                f"{len(up.data)}")
        if last != total - 1 and len(body) % (256 * 1024):
            return google_error(400, "badContent", "chunk not a multiple of 256 KiB")
        if fake.chunk_faults and len(up.data) >= fake.fault_after:
            up.data.extend(body[:fake.keep_on_fault])
            return google_error(fake.chunk_faults.pop(0), "backendError", "Backend Error",
                                "global")
        up.data.extend(body)
    if len(up.data) == up.size:
        up.video_id = up.video_id or f"vid{secrets.token_hex(4)}"
        return JSONResponse({"kind": "youtube#video", "id": up.video_id,
                             "snippet": up.meta.get("snippet", {}),
                             "status": {**up.meta.get("status", {}),
                                        "uploadStatus": "uploaded"}}, status_code=200)
    headers = {"Range": f"bytes=0-{len(up.data) - 1}"} if up.data else {}
    return Response(status_code=308, headers=headers)


@contextmanager
def serve() -> Iterator[Fake]:
    """Run the fakes on a free loopback port for the duration of the block."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    fake = Fake(base=f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(build_app(fake), host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(5)


def settings_for(fake: Fake) -> dict[str, str]:
    """The LIBRARIAN_* settings that point every platform at the fakes."""
    b = fake.base
    return {"youtube_api_url": f"{b}/yt", "youtube_analytics_url": f"{b}/yta",
            "google_auth_url": f"{b}/oauth2/auth", "google_token_url": f"{b}/oauth2/token",
            "google_trends_url": f"{b}/trends/trending/rss", "tiktok_api_url": f"{b}/tt",
            "tiktok_auth_url": f"{b}/tt-auth/", "youtube_client_id": CLIENT_ID,
            "youtube_client_secret": CLIENT_SECRET, "tiktok_client_key": TT_KEY,
            "tiktok_client_secret": TT_SECRET, "youtube_api_key": "fake-yt-api-key-1",
            "elevenlabs_url": f"{b}/el"}
