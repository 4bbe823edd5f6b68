"""Request limits: streamed body sizes, per-key rate limits, failed-auth throttling, export quotas.

Counters live in Redis when `LIBRARIAN_REDIS_URL` is set (shared by every server), else in this
process; the `limits` library keeps the windows. A counter store that is down lets requests
through (logged): rate limiting must never take the API down with it.

The body limit is a plain ASGI middleware (not a route check) so that it stops *reading* at the
limit: a chunked upload without Content-Length is cut off after the limit, never spooled whole.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
import time

from limits import RateLimitItem, RateLimitItemPerDay, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import FixedWindowRateLimiter, MovingWindowRateLimiter
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storage.errors import Forbidden
from storage.settings import Settings

log = logging.getLogger(__name__)
MULTIPART_SLACK = 64 * 1024  # multipart framing around the file part
UNLIMITED_PATHS = ("/api/health",)
_TOKEN_IN_URL = re.compile(r"([?&](?:token|api_key|access_token)=)[^&\s\"]*", re.I)
_stores: dict[tuple[str, str, str], Storage] = {}
COOKIE = "librarian_key"  # the web studio's sign-in (set by server.routes_web, read by auth)


class RateLimited(Forbidden):
    """Over a rate limit or quota: 429 with Retry-After."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = max(1, math.ceil(retry_after))


def store(settings: Settings) -> Storage:
    """The counter store for these settings (one per Redis prefix, or per library home)."""
    key = (settings.redis_url or "", settings.redis_prefix, str(settings.home))
    if key not in _stores:
        _stores[key] = (RedisStorage(settings.redis_url, implementation="redispy",
                                     key_prefix=f"{settings.redis_prefix}:limits")
                        if settings.redis_url else MemoryStorage())
    return _stores[key]


async def hit(settings: Settings, items: list[RateLimitItem], *ids: str,
              moving: bool = True, cost: int = 1) -> float | None:
    """Count `cost` hits against every item (all or none); the seconds to wait when one is
    exhausted, else None."""
    storage = store(settings)
    limiter = MovingWindowRateLimiter(storage) if moving else FixedWindowRateLimiter(storage)
    try:
        for item in items:
            short = cost > 1 and not await limiter.test(item, *ids, cost=cost)  # none taken
            if short or not await limiter.hit(item, *ids, cost=cost):
                stats = await limiter.get_window_stats(item, *ids)
                return max(1.0, stats.reset_time - time.time())
    except Exception as exc:  # noqa: BLE001 - a counter store outage must not fail requests
        log.warning("rate-limit store unavailable, not limiting: %s", exc)
    return None


async def blocked(settings: Settings, items: list[RateLimitItem], *ids: str) -> float | None:
    """Seconds until `ids` may try again when an item is already exhausted (no hit counted)."""
    limiter = MovingWindowRateLimiter(store(settings))
    try:
        for item in items:
            if not await limiter.test(item, *ids):
                stats = await limiter.get_window_stats(item, *ids)
                return max(1.0, stats.reset_time - time.time())
    except Exception as exc:  # noqa: BLE001
        log.warning("rate-limit store unavailable, not limiting: %s", exc)
    return None


def parse(value: str) -> list[RateLimitItem]:
    """'50/second;1200/minute' -> items ('' or 'none': no limit)."""
    return [] if value.strip().lower() in ("", "none", "off") else parse_many(value)


async def charge_export(settings: Settings, owner: str, fmt: str, count: int = 1) -> None:
    """Count `count` generations of `fmt` for `owner` against the daily quota
    (LIBRARIAN_EXPORT_QUOTA): all of them, or none when they do not fit."""
    per_day = settings.export_quota.get(fmt)
    if per_day is None:
        return
    if per_day <= 0:
        raise Forbidden(f"{fmt} generation is switched off (LIBRARIAN_EXPORT_QUOTA)")
    wait = await hit(settings, [RateLimitItemPerDay(per_day)], "export", fmt, owner,
                     moving=False, cost=count)
    if wait is not None:
        raise RateLimited(f"daily quota of {per_day} {fmt} generation(s) used up "
                          f"(LIBRARIAN_EXPORT_QUOTA); try again in {math.ceil(wait)} s", wait)


async def charge_publish(settings: Settings, owner: str) -> None:
    """Count one publication for `owner` against the daily quota (LIBRARIAN_PUBLISH_QUOTA)."""
    per_day = settings.publish_quota
    if per_day <= 0:
        raise Forbidden("publishing is switched off (LIBRARIAN_PUBLISH_QUOTA=0)")
    wait = await hit(settings, [RateLimitItemPerDay(per_day)], "publish", owner, moving=False)
    if wait is not None:
        raise RateLimited(f"daily quota of {per_day} publication(s) used up "
                          f"(LIBRARIAN_PUBLISH_QUOTA); try again in {math.ceil(wait)} s", wait)


async def check_auth_failures(settings: Settings, client: str) -> None:
    """Refuse a client that sent too many bad keys lately (before looking at its key)."""
    wait = await blocked(settings, parse(settings.auth_fail_limit), "authfail", client)
    if wait is not None:
        raise RateLimited(f"too many invalid API keys from {client}; try again in "
                          f"{math.ceil(wait)} s", wait)


async def record_auth_failure(settings: Settings, client: str) -> None:
    await hit(settings, parse(settings.auth_fail_limit), "authfail", client)


# --- ASGI middleware -----------------------------------------------------------------------------

def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def _answer(send: Send, status: int, detail: str, headers: dict[str, str] | None = None
                  ) -> None:
    body = json.dumps({"detail": detail}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
           (b"connection", b"close")]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def body_limit(settings: Settings, scope: Scope) -> tuple[int, str]:
    """The byte limit for this request's body and the setting that holds it."""
    if _header(scope, b"content-type").lower().startswith("multipart/form-data"):
        return settings.max_upload_bytes + MULTIPART_SLACK, "LIBRARIAN_MAX_UPLOAD_BYTES"
    return settings.max_json_bytes, "LIBRARIAN_MAX_JSON_BYTES"


class BodyLimit:
    """413 for a body over its limit: at once from Content-Length, else when the streamed bytes
    pass it (reading stops there; the app sees a disconnect and its answer is replaced)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit, setting = body_limit(self.settings, scope)
        detail = f"request body larger than {limit:,} bytes ({setting})"
        declared = _header(scope, b"content-length")
        if declared.isdigit() and int(declared) > limit:
            await _answer(send, 413, detail)
            return
        seen, tripped, started = 0, False, False

        async def limited_receive() -> Message:
            nonlocal seen, tripped
            if tripped:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    tripped = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if tripped:
                return  # the app's answer to the cut-off body is replaced by the 413
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not tripped:
                raise
        if tripped and not started:
            await _answer(send, 413, detail)


def caller_id(scope: Scope) -> str:
    """Who is calling, for rate limits: a hash of the bearer token (or the sign-in cookie),
    else the client address."""
    auth = _header(scope, b"authorization")
    token = auth.partition(" ")[2].strip() if auth else ""
    if not token:
        query = scope.get("query_string", b"").decode("latin-1")
        token = next((v for k, _, v in (p.partition("=") for p in query.split("&"))
                      if k == "token"), "")
    if not token:
        token = cookie_parser(_header(scope, b"cookie")).get(COOKIE, "")
    if token:
        return "key:" + hashlib.sha256(token.encode()).hexdigest()[:24]
    client = scope.get("client") or ("unknown", 0)
    return f"addr:{client[0]}"


class RateLimit:
    """Per-caller request rate (LIBRARIAN_RATE_LIMIT): 429 with Retry-After when exceeded."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings
        self.items = parse(settings.rate_limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (scope["type"] in ("http", "websocket") and self.items
                and path.startswith(("/api", "/ws")) and path not in UNLIMITED_PATHS):
            wait = await hit(self.settings, self.items, "rate", caller_id(scope))
            if wait is not None:
                if scope["type"] == "websocket":
                    await send({"type": "websocket.close", "code": 4429,
                                "reason": "rate limit exceeded"})
                    return
                await _answer(send, 429, f"rate limit exceeded ({self.settings.rate_limit}, "
                              f"LIBRARIAN_RATE_LIMIT); try again in {math.ceil(wait)} s",
                              {"Retry-After": str(math.ceil(wait))})
                return
        await self.app(scope, receive, send)


# --- access log ---------------------------------------------------------------------------------

def redact(text: str) -> str:
    """A URL or log line with any token in its query string replaced."""
    return _TOKEN_IN_URL.sub(r"\1[redacted]", text)


class RedactTokens(logging.Filter):
    """Keeps `?token=` values out of the access log."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())

