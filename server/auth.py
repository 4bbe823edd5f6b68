"""API keys: created once (printed, never stored), kept as a sha256 hash, sent as a bearer token.

A key belongs to an owner; every source, artifact and job is read and written as that owner.
With `LIBRARIAN_AUTH=none` (single-user embedded mode, only when configured) every request is
the CLI's owner, "local".
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from typing import Annotated

from fastapi import Depends, HTTPException, Request, WebSocket
from sqlalchemy import or_, select

from storage import db
from storage.errors import NotFound
from storage.models import ApiKey, utcnow
from storage.settings import Settings

LOCAL_OWNER = "local"
PREFIX = "lib_"
CACHE_S = 5.0  # a revoked key stops working within this many seconds on every server
_cache: dict[str, tuple[str | None, float]] = {}


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(settings: Settings, name: str, owner: str | None = None) -> tuple[ApiKey, str]:
    """A new key for `owner` (default: the name); the plain key is returned only here."""
    key = PREFIX + secrets.token_urlsafe(32)
    row = ApiKey(id=str(uuid.uuid4()), name=name, owner=owner or name, key_hash=hash_key(key))
    async with db.session(settings) as s:
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


async def owner_for(settings: Settings, key: str) -> str | None:
    """The owner of a live key, or None (answers are cached for CACHE_S seconds)."""
    digest = hash_key(key)
    hit = _cache.get(digest)
    if hit is not None and time.monotonic() - hit[1] < CACHE_S:
        return hit[0]
    async with db.session(settings) as s:
        row = (await s.execute(select(ApiKey).where(ApiKey.key_hash == digest))).scalar()
    owner = None if row is None or row.revoked_at is not None else row.owner
    if len(_cache) > 10_000:
        _cache.clear()
    _cache[digest] = (owner, time.monotonic())
    return owner


def app_settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


SettingsDep = Annotated[Settings, Depends(app_settings)]


def _token(authorization: str | None, query_token: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
        return None
    return query_token or None


async def _owner(settings: Settings, authorization: str | None, query_token: str | None) -> str:
    if settings.auth == "none":
        return LOCAL_OWNER
    token = _token(authorization, query_token)
    if not token:
        raise HTTPException(401, "missing API key: send 'Authorization: Bearer <key>'",
                            headers={"WWW-Authenticate": "Bearer"})
    owner = await owner_for(settings, token)
    if owner is None:
        raise HTTPException(401, "invalid or revoked API key",
                            headers={"WWW-Authenticate": "Bearer"})
    return owner


async def current_owner(request: Request) -> str:
    """The caller's owner from the bearer token (SSE clients may pass `?token=`)."""
    return await _owner(app_settings(request), request.headers.get("authorization"),
                        request.query_params.get("token"))


async def websocket_owner(websocket: WebSocket) -> str:
    """Same for WebSockets (browsers cannot set headers, so `?token=` is accepted)."""
    settings: Settings = websocket.app.state.settings
    return await _owner(settings, websocket.headers.get("authorization"),
                        websocket.query_params.get("token"))


Owner = Annotated[str, Depends(current_owner)]
