"""Vector store: Qdrant: local on-disk mode, or a server when LIBRARIAN_QDRANT_URL is set."""

from __future__ import annotations

import asyncio
import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from qdrant_client import QdrantClient, models

from storage.settings import Settings

COLLECTION = "chunks"
DIM = 384
_clients: dict[str, QdrantClient] = {}
_lock = threading.Lock()


@dataclass
class Hit:
    chunk_id: str
    score: float
    payload: dict[str, Any]


def _connect(settings: Settings) -> QdrantClient:
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        c = QdrantClient(url=settings.qdrant_url, api_key=key, timeout=30)
    else:
        settings.vectors_dir.mkdir(parents=True, exist_ok=True)
        c = QdrantClient(path=str(settings.vectors_dir))
    if not c.collection_exists(COLLECTION):
        c.create_collection(COLLECTION, vectors_config=models.VectorParams(
            size=DIM, distance=models.Distance.COSINE))
        if settings.qdrant_url:  # payload indexes do nothing in local mode
            for field in ("owner", "source_id"):
                c.create_payload_index(COLLECTION, field, models.PayloadSchemaType.KEYWORD)
    return c


def client(settings: Settings) -> QdrantClient:
    """One client per location; the collection is created on first use."""
    where = settings.qdrant_url or str(settings.vectors_dir)
    with _lock:
        if where not in _clients:
            _clients[where] = _connect(settings)
        return _clients[where]


def shared_local(settings: Settings) -> bool:
    """Local mode: any number of processes (server, workers, CLI commands) share the folder."""
    return not settings.qdrant_url


@contextmanager
def _use(settings: Settings) -> Iterator[QdrantClient]:
    """The client for one operation. Qdrant local mode lets one process open a folder, so when
    several processes share it (workers + API server on one machine) each operation takes an
    exclusive lock file and opens and closes the folder; a Qdrant server needs none of this."""
    if not shared_local(settings):
        yield client(settings)
        return
    settings.vectors_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.vectors_dir.parent / "vectors.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            c = _connect(settings)
            try:
                yield c
            finally:
                c.close()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def close(settings: Settings | None = None) -> None:
    """Release clients (local mode holds a file lock on its folder)."""
    with _lock:
        for where in list(_clients):
            if settings is None or where in {settings.qdrant_url, str(settings.vectors_dir)}:
                _clients.pop(where).close()


async def upsert(settings: Settings, ids: list[str], vectors: list[list[float]],
                 payloads: list[dict[str, Any]]) -> None:
    """Insert or replace points by id (idempotent, so a resumed job writes no duplicates)."""
    points = [models.PointStruct(id=i, vector=v, payload=p)
              for i, v, p in zip(ids, vectors, payloads, strict=True)]

    def _do() -> None:
        with _use(settings) as c:
            for start in range(0, len(points), 256):
                c.upsert(COLLECTION, points[start:start + 256], wait=True)

    await asyncio.to_thread(_do)


def _filter(owner: str | None, source_ids: list[str] | None) -> models.Filter | None:
    must: list[Any] = []
    if owner is not None:
        must.append(models.FieldCondition(key="owner", match=models.MatchValue(value=owner)))
    if source_ids:
        must.append(models.FieldCondition(key="source_id", match=models.MatchAny(any=source_ids)))
    return models.Filter(must=must) if must else None


async def search(settings: Settings, vector: list[float], *, limit: int = 10,
                 owner: str | None = None, source_ids: list[str] | None = None) -> list[Hit]:
    def _do() -> list[Hit]:
        with _use(settings) as c:
            res = c.query_points(COLLECTION, query=vector, limit=limit,
                                 query_filter=_filter(owner, source_ids), with_payload=True)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {})) for p in res.points]

    return await asyncio.to_thread(_do)


async def fetch(settings: Settings, ids: list[str]) -> dict[str, list[float]]:
    """Stored vectors by id (for MMR and grounding checks)."""
    def _do() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        with _use(settings) as c:
            for start in range(0, len(ids), 256):
                recs = c.retrieve(COLLECTION, ids[start:start + 256], with_vectors=True)
                for r in recs:
                    vec = r.vector
                    out[str(r.id)] = ([float(x) for x in vec]  # type: ignore[arg-type]
                                      if isinstance(vec, list) else [])
        return out

    return await asyncio.to_thread(_do)


async def delete_source(settings: Settings, source_id: str) -> None:
    def _do() -> None:
        with _use(settings) as c:
            c.delete(COLLECTION, points_selector=models.FilterSelector(
                filter=_filter(None, [source_id]) or models.Filter()), wait=True)

    await asyncio.to_thread(_do)


async def count(settings: Settings, source_id: str | None = None) -> int:
    def _do() -> int:
        flt = _filter(None, [source_id]) if source_id else None
        with _use(settings) as c:
            return c.count(COLLECTION, count_filter=flt, exact=True).count

    return await asyncio.to_thread(_do)
