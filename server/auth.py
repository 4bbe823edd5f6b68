"""API keys: created once (printed, never stored), kept as a sha256 hash, sent as a bearer token.

A key belongs to an owner; every source, artifact and job is read and written as that owner.
An admin key may also switch plugins on and off for everyone and manage keys over REST. The
first key of a library is an admin key (nobody else could create one); later keys are admins
only when made so (`librarian keys create NAME --admin`, or an admin's `POST /api/keys`).
With `LIBRARIAN_AUTH=none` (single-user embedded mode, only when configured) every request is
the CLI's owner, "local", an admin.

The key travels in the Authorization header. Only the event streams (SSE, WebSocket: browsers
cannot set headers there) also take `?token=`, and the access log never shows it. The web studio
signs in once (`POST /api/session`) and the key then travels in an HttpOnly, SameSite=Strict
cookie; a cookie-authenticated request that changes data must also carry the `X-Librarian-UI`
header (a cross-site form cannot set it: the CSRF guard beside SameSite), and a WebSocket opened
with the cookie must come from the same origin. A client that sends too many bad keys
(LIBRARIAN_AUTH_FAIL_LIMIT) gets 429 before its key is even looked at.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket
from sqlalchemy import func, or_, select
from starlette.requests import HTTPConnection

from server.limits import COOKIE
from storage import db
from storage.errors import NotFound
from storage.models import ApiKey, utcnow
from storage.settings import Settings

LOCAL_OWNER = "local"
PREFIX = "lib_"
CACHE_S = 5.0  # a revoked key stops working within this many seconds on every server
STREAM_ROUTES = "GET /api/jobs/{id}/events and /ws/jobs/{id}"
CSRF_HEADER = "x-librarian-ui"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Caller:
    owner: str
    admin: bool


_cache: dict[str, tuple[Caller | None, float]] = {}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(settings: Settings, name: str, owner: str | None = None,
                     admin: bool = False) -> tuple[ApiKey, str]:
    """A new key for `owner` (default: the name); the plain key is returned only here.
    The first key of a library is always an admin key."""
    key = PREFIX + secrets.token_urlsafe(32)
    async with db.session(settings) as s:
        first = not (await s.execute(select(func.count()).select_from(ApiKey))).scalar()
        row = ApiKey(id=str(uuid.uuid4()), name=name, owner=owner or name, key_hash=hash_key(key),
                     admin=admin or first)
        s.add(row)
    return row, key


async def list_keys(settings: Settings) -> list[ApiKey]:
    async with db.session(settings) as s:
        return list((await s.execute(select(ApiKey).order_by(ApiKey.created_at))).scalars())


async def revoke_key(settings: Settings, key_id_or_name: str) -> list[ApiKey]:
    """Revoke the key with this id, or every live key with this name."""
    async with db.session(settings) as s:
        rows = list((await s.execute(select(ApiKey).where(
            or_(ApiKey.id == key_id_or_name, ApiKey.name == key_id_or_name),
            ApiKey.revoked_at.is_(None)))).scalars())
        if not rows:
            raise NotFound(f"no live key {key_id_or_name}")
        for row in rows:
            row.revoked_at = utcnow()
    return rows


async def caller_for(settings: Settings, key: str) -> Caller | None:
    """Owner and scope of a live key, or None (answers are cached for CACHE_S seconds)."""
    digest = hash_key(key)
    hit = _cache.get(digest)
    if hit is not None and time.monotonic() - hit[1] < CACHE_S:
        return hit[0]
    async with db.session(settings) as s:
        row = (await s.execute(select(ApiKey).where(ApiKey.key_hash == digest))).scalar()
    caller = None if row is None or row.revoked_at is not None else Caller(row.owner, row.admin)
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[digest] = (caller, time.monotonic())
    return caller


async def owner_for(settings: Settings, key: str) -> str | None:
    """The owner of a live key, or None."""
    caller = await caller_for(settings, key)
    return caller.owner if caller else None


def app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(app_settings)]


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(401, detail, headers={"WWW-Authenticate": "Bearer"})


def _bearer(authorization: str | None) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _cookie_key(conn: HTTPConnection, explicit: str | None) -> str | None:
    """The signed-in key from the cookie, when no key was sent explicitly; refuses a request
    that changes data without the CSRF header, and a WebSocket from another origin."""
    key = conn.cookies.get(COOKIE)
    if explicit or not key:
        return None
    if conn.scope["type"] == "websocket":
        origin = conn.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != conn.headers.get("host"):
            raise HTTPException(403, "the sign-in cookie is not accepted from another origin")
    elif conn.scope.get("method", "GET") not in SAFE_METHODS and CSRF_HEADER not in conn.headers:
        raise HTTPException(403, f"a signed-in browser request that changes data needs the "
                                 f"{CSRF_HEADER} header (or send 'Authorization: Bearer <key>')")
    return key


async def _caller(settings: Settings, authorization: str | None, query_token: str | None,
                  client: str, cookie: str | None = None) -> Caller:
    if settings.auth == "none":
        return Caller(LOCAL_OWNER, True)
    from server import limits

    try:
        await limits.check_auth_failures(settings, client)
    except limits.RateLimited as exc:
        raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from None
    token = (_bearer(authorization) if authorization else query_token) or cookie
    if not token:
        raise _unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    caller = await caller_for(settings, token)
    if caller is None:
        await limits.record_auth_failure(settings, client)
        raise _unauthorized("invalid or revoked API key")
    return caller


async def request_caller(request: Request, *, query_token: bool = False) -> Caller:
    """The caller of a request (cached on it); `?token=` counts only where `query_token`."""
    cached = getattr(request.state, "caller", None)
    if isinstance(cached, Caller):
        return cached
    token = request.query_params.get("token")
    if token and not query_token and not request.headers.get("authorization"):
        raise _unauthorized(f"?token= is accepted only on {STREAM_ROUTES}: send "
                            "'Authorization: Bearer <key>'")
    client = request.client.host if request.client else "unknown"
    explicit = request.headers.get("authorization") or (token if query_token else None)
    caller = await _caller(app_settings(request), request.headers.get("authorization"),
                           token if query_token else None, client,
                           _cookie_key(request, explicit))
    request.state.caller = caller
    return caller


async def current_owner(request: Request) -> str:
    """The caller's owner from the bearer token (or the web studio's cookie)."""
    return (await request_caller(request)).owner


async def stream_owner(request: Request) -> str:
    """Same for Server-Sent Events, where `?token=` is accepted too."""
    return (await request_caller(request, query_token=True)).owner


async def admin_owner(request: Request) -> str:
    """The owner of an admin key; 403 for any other key."""
    caller = await request_caller(request)
    if not caller.admin:
        raise HTTPException(403, "this needs an admin API key "
                                 "(librarian keys create NAME --admin)")
    return caller.owner


async def websocket_owner(websocket: WebSocket) -> str:
    """Same for WebSockets (browsers cannot set headers, so `?token=` is accepted)."""
    settings: Settings = websocket.app.state.settings
    client = websocket.client.host if websocket.client else "unknown"
    explicit = websocket.headers.get("authorization") or websocket.query_params.get("token")
    caller = await _caller(settings, websocket.headers.get("authorization"),
                           websocket.query_params.get("token"), client,
                           _cookie_key(websocket, explicit))
    return caller.owner


Owner = Annotated[str, Depends(current_owner)]
StreamOwner = Annotated[str, Depends(stream_owner)]
AdminOwner = Annotated[str, Depends(admin_owner)]
