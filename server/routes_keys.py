"""API keys over REST (admin keys only): list, create (the key is shown once), revoke."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from server import auth
from server.auth import AdminOwner, SettingsDep

router = APIRouter(tags=["keys"])


class KeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    owner: str | None = Field(None, min_length=1, max_length=200,
                              description="whose data the key reads and writes (default: name)")
    admin: bool = False


class KeyOut(BaseModel):
    id: str
    name: str
    owner: str
    admin: bool
    created_at: datetime
    revoked_at: datetime | None


class NewKey(KeyOut):
    key: str = Field(description="the key itself: shown only in this answer")


def key_out(row: object) -> dict[str, object]:
    return {f: getattr(row, f) for f in KeyOut.model_fields}


@router.get("/api/keys", response_model=list[KeyOut])
async def list_keys(settings: SettingsDep, owner: AdminOwner) -> list[dict[str, object]]:
    """Every key (never the keys themselves)."""
    return [key_out(r) for r in await auth.list_keys(settings)]


@router.post("/api/keys", status_code=201, response_model=NewKey)
async def create_key(req: KeyIn, settings: SettingsDep, owner: AdminOwner) -> dict[str, object]:
    """A new key; the answer holds it once, only its hash is stored."""
    row, key = await auth.create_key(settings, req.name, req.owner, admin=req.admin)
    return {**key_out(row), "key": key}


@router.delete("/api/keys/{key}", response_model=list[KeyOut])
async def revoke_key(key: str, settings: SettingsDep, owner: AdminOwner) -> list[dict[str, object]]:
    """Revoke the key with this id, or every live key with this name."""
    return [key_out(r) for r in await auth.revoke_key(settings, key)]
