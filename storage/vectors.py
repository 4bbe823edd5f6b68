"""Vector store: Qdrant: local on-disk mode, or a server when LIBRARIAN_QDRANT_URL is set."""

from __future__ import annotations

import asyncio
import fcntl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from qdrant_client import QdrantClient, models

from storage.errors import ConfigError
from storage.settings import Settings

COLLECTION = "chunks_v2"  # named dense + sparse vectors (hybrid search)
LEGACY = "chunks"  # the dense-only collection before hybrid search: `librarian reindex` migrates
DENSE = "dense"
SPARSE = "lexical"
DIM = 384
PAYLOAD_KEYS = ("owner", "source_id", "kind", "language", "licence")
Mode = Literal["hybrid", "dense", "sparse"]
STALE = ("the vector index predates hybrid search: run `librarian reindex` once to rebuild it "
         "from the library (no re-import; stored embeddings are kept)")
_clients: dict[str, QdrantClient] = {}
_lock = threading.Lock()


@dataclass
class Hit:
    chunk_id: str
    score: float  # the mode's own score: cosine (dense), BM25 (sparse), RRF (hybrid)
    payload: dict[str, Any]
    similarity: float | None = None  # cosine to the query vector, when one was given


Sparse = tuple[list[int], list[float]]


def _create(c: QdrantClient, server: bool) -> None:
    c.create_collection(
        COLLECTION,
        vectors_config={DENSE: models.VectorParams(size=DIM, distance=models.Distance.COSINE)},
        sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)})
    if server:  # payload indexes do nothing in local mode
        for field in PAYLOAD_KEYS:
            c.create_payload_index(COLLECTION, field, models.PayloadSchemaType.KEYWORD)


def _connect(settings: Settings, *, legacy_ok: bool = False) -> QdrantClient:
    if settings.qdrant_url:
        key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        c = QdrantClient(url=settings.qdrant_url, api_key=key, timeout=30)
    else:
        settings.vectors_dir.mkdir(parents=True, exist_ok=True)
        c = QdrantClient(path=str(settings.vectors_dir))
    if not c.collection_exists(COLLECTION):
        if c.collection_exists(LEGACY) and not legacy_ok:
            c.close()
            raise ConfigError(STALE)
        _create(c, bool(settings.qdrant_url))
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
def _use(settings: Settings, *, legacy_ok: bool = False) -> Iterator[QdrantClient]:
    """The client for one operation. Qdrant local mode lets one process open a folder, so when
    several processes share it (workers + API server on one machine) each operation takes an
    exclusive lock file and opens and closes the folder; a Qdrant server needs none of this."""
    if not shared_local(settings):
        if not legacy_ok:
            yield client(settings)
            return
        own = _connect(settings, legacy_ok=True)
        try:
            yield own
        finally:
            own.close()
        return
    settings.vectors_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.vectors_dir.parent / "vectors.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            c = _connect(settings, legacy_ok=legacy_ok)
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


def _points(ids: list[str], dense: list[list[float]], sparse: list[Sparse],
            payloads: list[dict[str, Any]]) -> list[models.PointStruct]:
    return [models.PointStruct(id=i, payload=p, vector={
        DENSE: v, SPARSE: models.SparseVector(indices=s[0], values=s[1])})
        for i, v, s, p in zip(ids, dense, sparse, payloads, strict=True)]


async def upsert(settings: Settings, ids: list[str], vectors: list[list[float]],
                 sparse: list[Sparse], payloads: list[dict[str, Any]]) -> None:
    """Insert or replace points by id (idempotent, so a resumed job writes no duplicates).
    Each point has its dense vector and its sparse term weights (tools.lexical)."""
    points = _points(ids, vectors, sparse, payloads)

    def _do() -> None:
        with _use(settings) as c:
            for start in range(0, len(points), 256):
                c.upsert(COLLECTION, points[start:start + 256], wait=True)

    await asyncio.to_thread(_do)


def _filter(owner: str | None, source_ids: list[str] | None,
            **fields: list[str] | None) -> models.Filter | None:
    """Owner and any of the given values per payload key (kind, language, licence)."""
    must: list[Any] = []
    if owner is not None:
        must.append(models.FieldCondition(key="owner", match=models.MatchValue(value=owner)))
    for key, values in {"source_id": source_ids, **fields}.items():
        if values:
            must.append(models.FieldCondition(key=key, match=models.MatchAny(any=values)))
    return models.Filter(must=must) if must else None


def _query(c: QdrantClient, mode: Mode, vector: list[float] | None, sparse: Sparse | None,
           flt: models.Filter | None, limit: int,
           related: float | None) -> list[models.ScoredPoint]:
    sv = models.SparseVector(indices=sparse[0], values=sparse[1]) if sparse else None
    if mode == "dense" or (mode == "hybrid" and not (sv and sv.indices)):
        return c.query_points(COLLECTION, query=vector, using=DENSE, limit=limit,
                              query_filter=flt, with_payload=True, with_vectors=[DENSE]).points
    if mode == "sparse":
        if sv is None or not sv.indices:
            return []
        return c.query_points(COLLECTION, query=sv, using=SPARSE, limit=limit,
                              query_filter=flt, with_payload=True).points
    depth = max(limit * 4, 40)  # each side's candidates; RRF rewards agreement between them
    return c.query_points(
        COLLECTION, limit=limit, query_filter=flt, with_payload=True, with_vectors=[DENSE],
        prefetch=[models.Prefetch(query=vector, using=DENSE, limit=depth, filter=flt,
                                  score_threshold=related),
                  models.Prefetch(query=sv, using=SPARSE, limit=depth, filter=flt)],
        query=models.FusionQuery(fusion=models.Fusion.RRF)).points


def _cosine(vector: list[float] | None, point: models.ScoredPoint) -> float | None:
    got = point.vector.get(DENSE) if isinstance(point.vector, dict) else None
    if vector is None or not isinstance(got, list):
        return None
    return float(np.dot(np.asarray(vector, dtype=np.float32), np.asarray(got, dtype=np.float32)))


async def search(settings: Settings, vector: list[float] | None, sparse: Sparse | None = None,
                 *, mode: Mode = "hybrid", limit: int = 10, owner: str | None = None,
                 source_ids: list[str] | None = None, kinds: list[str] | None = None,
                 languages: list[str] | None = None,
                 licences: list[str] | None = None, related: float | None = None) -> list[Hit]:
    """Nearest chunks: dense (cosine), sparse (BM25 with Qdrant's IDF) or both fused by RRF
    in Qdrant's query API; filtered by owner, source, kind, language and licence. In hybrid
    mode only dense candidates with cosine >= `related` take part: an unrelated nearest
    neighbour would otherwise tie with the best exact-term match."""
    if mode != "sparse" and vector is None:
        raise ValueError(f"{mode} search needs the query's dense vector")
    flt = _filter(owner, source_ids, kind=kinds, language=languages, licence=licences)

    def _do() -> list[Hit]:
        with _use(settings) as c:
            points = _query(c, mode, vector, sparse, flt, limit, related)
        return [Hit(str(p.id), float(p.score), dict(p.payload or {}), _cosine(vector, p))
                for p in points]

    return await asyncio.to_thread(_do)


async def fetch(settings: Settings, ids: list[str]) -> dict[str, list[float]]:
    """Stored dense vectors by id (for MMR and grounding checks)."""
    def _do() -> dict[str, list[float]]:
        out: dict[str, list[float]] = {}
        with _use(settings) as c:
            for start in range(0, len(ids), 256):
                recs = c.retrieve(COLLECTION, ids[start:start + 256], with_vectors=[DENSE])
                for r in recs:
                    vec = r.vector.get(DENSE) if isinstance(r.vector, dict) else None
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


def _scroll_dense(c: QdrantClient, name: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    offset: Any = None
    while True:
        recs, offset = c.scroll(name, limit=1024, offset=offset, with_vectors=True,
                                with_payload=False)
        for r in recs:
            vec = r.vector.get(DENSE) if isinstance(r.vector, dict) else r.vector
            if isinstance(vec, list) and vec and isinstance(vec[0], float):
                out[str(r.id)] = [float(x) for x in vec]  # type: ignore[arg-type]
        if offset is None:
            return out


async def stored_dense(settings: Settings) -> dict[str, list[float]]:
    """Every stored dense vector by point id: from the legacy collection while one exists
    (a migration in progress), else from the current one (a rebuild)."""
    def _do() -> dict[str, list[float]]:
        with _use(settings, legacy_ok=True) as c:
            return _scroll_dense(c, LEGACY if c.collection_exists(LEGACY) else COLLECTION)

    return await asyncio.to_thread(_do)


async def rebuild(settings: Settings, ids: list[str], dense: list[list[float]],
                  sparse: list[Sparse], payloads: list[dict[str, Any]]) -> None:
    """Replace the collection with exactly these points, then drop the legacy collection
    (last, so an interrupted rebuild can be run again from it)."""
    def _do() -> None:
        with _use(settings, legacy_ok=True) as c:
            c.delete_collection(COLLECTION)
            _create(c, bool(settings.qdrant_url))
            for start in range(0, len(ids), 256):
                end = start + 256
                c.upsert(COLLECTION, _points(ids[start:end], dense[start:end],
                                             sparse[start:end], payloads[start:end]), wait=True)
            if c.collection_exists(LEGACY):
                c.delete_collection(LEGACY)
        close(settings)  # a cached client must see the new collection

    await asyncio.to_thread(_do)
