"""`/api/health`: each dependency checked (database, Redis, object store, vector store); 503
when one is down, so a load balancer or an operator sees which."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text

from storage import db, vectors
from storage.objects import objects
from storage.settings import Settings

router = APIRouter(tags=["meta"])
CHECK_TIMEOUT_S = 2.0


class Check(BaseModel):
    status: str  # ok | down
    ms: float
    error: str | None = None


class Health(BaseModel):
    status: str  # ok | degraded
    executor: str
    checks: dict[str, Check]


async def _database(settings: Settings) -> None:
    async with db.engine(settings).connect() as conn:
        await conn.execute(text("select 1"))


async def _redis(settings: Settings) -> None:
    from server import events

    await events.redis(settings).ping()


async def _vectors(settings: Settings) -> None:
    """A Qdrant server is asked; the local folder is only checked (opening it takes its lock,
    which a running import may hold for a while)."""
    if settings.qdrant_url:
        await asyncio.to_thread(lambda: vectors.client(settings).get_collections())
    elif (folder := vectors.edge_dir(settings)).exists() and not os.access(folder, os.W_OK):
        raise OSError(f"vector folder {folder} is not writable")


async def _objects(settings: Settings) -> None:
    await objects(settings).check()


async def _timed(fn: Callable[[Settings], Awaitable[None]], settings: Settings) -> Check:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(fn(settings), CHECK_TIMEOUT_S)
    except Exception as exc:
        reason = str(exc).splitlines()[0][:200] if str(exc) else ""
        return Check(status="down", ms=round((time.perf_counter() - start) * 1000, 1),
                     error=f"{type(exc).__name__}: {reason}".rstrip(": "))
    return Check(status="ok", ms=round((time.perf_counter() - start) * 1000, 1))


@router.get("/api/health", response_model=Health,
            responses={503: {"model": Health, "description": "a dependency is down"}})
async def health(request: Request) -> Any:
    """Liveness, the executor that runs jobs, and each dependency's state."""
    settings: Settings = request.app.state.settings
    checks: dict[str, Callable[[Settings], Awaitable[None]]] = {
        "database": _database, "object_store": _objects, "vector_store": _vectors}
    if settings.redis_url:
        checks["redis"] = _redis
    results = await asyncio.gather(*(_timed(fn, settings) for fn in checks.values()))
    out = Health(status="ok", executor="arq" if settings.redis_url else "in-process",
                 checks=dict(zip(checks, results, strict=True)))
    if any(c.status != "ok" for c in results):
        out.status = "degraded"
        return JSONResponse(out.model_dump(), status_code=503)
    return out
