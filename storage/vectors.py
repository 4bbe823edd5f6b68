"""Vector store: Qdrant Edge in-process by default, a Qdrant server with LIBRARIAN_QDRANT_URL.

One schema for both (a named dense vector, a named sparse vector with Qdrant's IDF modifier,
keyword payload indexes) and the same queries: dense (cosine), sparse (BM25) or hybrid
(both as prefetches fused by reciprocal rank). The embedded shard lives in `vectors-edge/`
beside the old qdrant-client folder `vectors/`; a library indexed before (dense-only, or by
qdrant-client's local mode) fails loudly until `librarian reindex` moves it.
"""

from __future__ import annotations

import asyncio
import fcntl
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from qdrant_client import QdrantClient, models

from storage import vectors_edge as edge
from storage.errors import ConfigError
from storage.settings import Settings

COLLECTION = "chunks_v2"  # the server collection: named dense + sparse vectors
LEGACY = "chunks"  # the dense-only collection before hybrid search
DENSE = edge.DENSE
SPARSE = edge.SPARSE
DIM = 384
Mode = Literal["hybrid", "dense", "sparse"]
STALE = ("the vector index predates hybrid search: run `librarian reindex` once to rebuild it "
         "from the library (no re-import; stored embeddings are kept)")
Sparse = tuple[list[int], list[float]]
Conditions = dict[str, list[str]]
_clients: dict[str, QdrantClient] = {}
_lock = threading.Lock()


@dataclass
class Hit:
    chunk_id: str
    score: float  # the mode's own score: cosine (dense), BM25 (sparse), RRF (hybrid)
    payload: dict[str, Any]
    similarity: float | None = None  # cosine to the query vector, when one was given


def edge_dir(settings: Settings) -> Path:
    return settings.vectors_dir.with_name(settings.vectors_dir.name + "-edge")


def shared_local(settings: Settings) -> bool:
    """Embedded: any number of processes (server, workers, CLI commands) share the folder."""
    return not settings.qdrant_url


# --- the server (qdrant-client) -------------------------------------------------------------

def _create(c: QdrantClient) -> None:
    c.create_collection(
        COLLECTION,
        vectors_config={DENSE: models.VectorParams(size=DIM, distance=models.Distance.COSINE)},
        sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)})
    for field in edge.KEYWORDS:
        c.create_payload_index(COLLECTION, field, models.PayloadSchemaType.KEYWORD)


def _connect(settings: Settings, *, legacy_ok: bool = False) -> QdrantClient:
    key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
    c = QdrantClient(url=settings.qdrant_url, api_key=key, timeout=30)
    if not c.collection_exists(COLLECTION):
        if c.collection_exists(LEGACY) and not legacy_ok:
            c.close()
            raise ConfigError(STALE)
        _create(c)
    return c


def client(settings: Settings) -> QdrantClient:
    """One client per server URL; the collection is created on first use."""
    where = str(settings.qdrant_url)
    with _lock:
        if where not in _clients:
            _clients[where] = _connect(settings)
        return _clients[where]


def close(settings: Settings | None = None) -> None:
    """Release server clients (the embedded shard is opened per operation)."""
    with _lock:
        for where in list(_clients):
            if settings is None or where == settings.qdrant_url:
                _clients.pop(where).close()


def _filter(conditions: Conditions) -> models.Filter | None:
    must: list[Any] = [models.FieldCondition(key=k, match=models.MatchAny(any=v))
                       for k, v in conditions.items()]
    return models.Filter(must=must) if must else None


def _points(ids: list[str], dense: list[list[float]], sparse: list[Sparse],
            payloads: list[dict[str, Any]]) -> list[models.PointStruct]:
    return [models.PointStruct(id=i, payload=p, vector={
        DENSE: v, SPARSE: models.SparseVector(indices=s[0], values=s[1])})
        for i, v, s, p in zip(ids, dense, sparse, payloads, strict=True)]


def _dense_of(vec: Any) -> list[float] | None:
    got = vec.get(DENSE) if isinstance(vec, dict) else vec
    return [float(x) for x in got] if isinstance(got, list) and got and not isinstance(
        got[0], list) else None


def _server_query(c: QdrantClient, mode: Mode, vector: list[float] | None,
                  sparse: Sparse | None, conditions: Conditions, limit: int,
                  related: float | None) -> list[edge.Row]:
    flt = _filter(conditions)
    sv = models.SparseVector(indices=sparse[0], values=sparse[1]) if sparse and sparse[0] \
        else None
    if mode == "sparse" and sv is None:
        return []
    if mode == "dense" or (mode == "hybrid" and sv is None):
        points = c.query_points(COLLECTION, query=vector, using=DENSE, limit=limit,
                                query_filter=flt, with_payload=True, with_vectors=[DENSE]).points
    elif mode == "sparse":
        points = c.query_points(COLLECTION, query=sv, using=SPARSE, limit=limit,
                                query_filter=flt, with_payload=True).points
    else:
        depth = max(limit * 4, 40)  # each side's candidates; RRF rewards agreement
        points = c.query_points(
            COLLECTION, limit=limit, query_filter=flt, with_payload=True, with_vectors=[DENSE],
            prefetch=[models.Prefetch(query=vector, using=DENSE, limit=depth, filter=flt,
                                      score_threshold=related),
                      models.Prefetch(query=sv, using=SPARSE, limit=depth, filter=flt)],
            query=models.FusionQuery(fusion=models.Fusion.RRF)).points
    return [(str(p.id), float(p.score), dict(p.payload or {}), _dense_of(p.vector))
            for p in points]


def _server_scroll(c: QdrantClient, name: str) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    offset: Any = None
    while True:
        recs, offset = c.scroll(name, limit=1024, offset=offset, with_vectors=True,
                                with_payload=False)
        for r in recs:
            got = _dense_of(r.vector)
            if got:
                out[str(r.id)] = got
        if offset is None:
            return out


# --- the embedded shard ---------------------------------------------------------------------

def _old_local(settings: Settings) -> bool:
    """Whether a qdrant-client local folder (the embedded store before Qdrant Edge) has data."""
    return (settings.vectors_dir / "collection").is_dir() and any(
        (settings.vectors_dir / "collection").iterdir())


@contextmanager
def _shard(settings: Settings, *, legacy_ok: bool = False, fresh: bool = False) -> Iterator[Any]:
    """The embedded shard for one operation, under an exclusive lock file: several processes
    (workers + API server + CLI) share the folder, and one process opens it at a time.
    `fresh` starts from an empty shard (a rebuild)."""
    path = edge_dir(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.parent / "vectors.lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not legacy_ok and _old_local(settings):
                raise ConfigError(STALE)
            if fresh:
                shutil.rmtree(path, ignore_errors=True)
            shard = edge.open_shard(path, DIM)
            try:
                yield shard
            finally:
                shard.close()
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# --- operations -------------------------------------------------------------------------------

def conditions(owner: str | None = None, source_ids: list[str] | None = None,
               **fields: list[str] | None) -> Conditions:
    """Owner and any of the given values per payload key (source_id, kind, language, licence)."""
    out = {"owner": [owner]} if owner is not None else {}
    for key, values in {"source_id": source_ids, **fields}.items():
        if values:
            out[key] = list(values)
    return out


async def upsert(settings: Settings, ids: list[str], vectors: list[list[float]],
                 sparse: list[Sparse], payloads: list[dict[str, Any]]) -> None:
    """Insert or replace points by id (idempotent, so a resumed job writes no duplicates).
    Each point has its dense vector and its sparse term weights (tools.lexical)."""
    def _do() -> None:
        if shared_local(settings):
            with _shard(settings) as s:
                edge.upsert(s, ids, vectors, sparse, payloads)
            return
        points = _points(ids, vectors, sparse, payloads)
        for start in range(0, len(points), 256):
            client(settings).upsert(COLLECTION, points[start:start + 256], wait=True)

    await asyncio.to_thread(_do)


def _cosine(vector: list[float] | None, got: list[float] | None) -> float | None:
    if vector is None or not got:
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
    conds = conditions(owner, source_ids, kind=kinds, language=languages, licence=licences)

    def _do() -> list[edge.Row]:
        if shared_local(settings):
            with _shard(settings) as s:
                return edge.query(s, mode, vector, sparse, conds, limit, related)
        return _server_query(client(settings), mode, vector, sparse, conds, limit, related)

    rows = await asyncio.to_thread(_do)
    return [Hit(i, score, payload, _cosine(vector, dense)) for i, score, payload, dense in rows]


async def fetch(settings: Settings, ids: list[str]) -> dict[str, list[float]]:
    """Stored dense vectors by id (for MMR and grounding checks)."""
    def _do() -> dict[str, list[float]]:
        if shared_local(settings):
            with _shard(settings) as s:
                return edge.retrieve_dense(s, ids)
        out: dict[str, list[float]] = {}
        for start in range(0, len(ids), 256):
            for r in client(settings).retrieve(COLLECTION, ids[start:start + 256],
                                               with_vectors=[DENSE]):
                out[str(r.id)] = _dense_of(r.vector) or []
        return out

    return await asyncio.to_thread(_do)


async def delete_source(settings: Settings, source_id: str) -> None:
    def _do() -> None:
        conds = conditions(source_ids=[source_id])
        if shared_local(settings):
            with _shard(settings) as s:
                edge.delete_where(s, conds)
            return
        client(settings).delete(COLLECTION, points_selector=models.FilterSelector(
            filter=_filter(conds) or models.Filter()), wait=True)

    await asyncio.to_thread(_do)


async def count(settings: Settings, source_id: str | None = None) -> int:
    def _do() -> int:
        conds = conditions(source_ids=[source_id] if source_id else None)
        if shared_local(settings):
            with _shard(settings) as s:
                return edge.count(s, conds)
        return client(settings).count(COLLECTION, count_filter=_filter(conds), exact=True).count

    return await asyncio.to_thread(_do)


# --- migration and rebuild ------------------------------------------------------------------

def _old_dense(settings: Settings) -> dict[str, list[float]] | None:
    """Dense vectors of an index in an older form, or None when there is none."""
    if shared_local(settings):
        if not _old_local(settings):
            return None
        c = QdrantClient(path=str(settings.vectors_dir))
        try:
            out: dict[str, list[float]] = {}
            for name in (LEGACY, COLLECTION):
                if c.collection_exists(name):
                    out.update(_server_scroll(c, name))
            return out
        finally:
            c.close()
    c = _connect(settings, legacy_ok=True)
    try:
        return _server_scroll(c, LEGACY) if c.collection_exists(LEGACY) else None
    finally:
        c.close()


async def stored_dense(settings: Settings) -> dict[str, list[float]]:
    """Every stored dense vector by point id: from an older index while one exists (a
    migration in progress), else from the current one (a rebuild)."""
    def _do() -> dict[str, list[float]]:
        old = _old_dense(settings)
        if old is not None:
            return old
        if shared_local(settings):
            with _shard(settings) as s:
                return edge.scroll_dense(s)
        return _server_scroll(client(settings), COLLECTION)

    return await asyncio.to_thread(_do)


def _rebuild_server(settings: Settings, ids: list[str], dense: list[list[float]],
                    sparse: list[Sparse], payloads: list[dict[str, Any]]) -> None:
    c = _connect(settings, legacy_ok=True)
    try:
        c.delete_collection(COLLECTION)
        _create(c)
        for start in range(0, len(ids), 256):
            end = start + 256
            c.upsert(COLLECTION, _points(ids[start:end], dense[start:end], sparse[start:end],
                                         payloads[start:end]), wait=True)
        if c.collection_exists(LEGACY):
            c.delete_collection(LEGACY)
    finally:
        c.close()
    close(settings)  # a cached client must see the new collection


async def rebuild(settings: Settings, ids: list[str], dense: list[list[float]],
                  sparse: list[Sparse], payloads: list[dict[str, Any]]) -> None:
    """Replace the index with exactly these points, then remove the older index (last, so an
    interrupted rebuild can be run again from it)."""
    def _do() -> None:
        if not shared_local(settings):
            _rebuild_server(settings, ids, dense, sparse, payloads)
            return
        with _shard(settings, legacy_ok=True, fresh=True) as s:
            edge.upsert(s, ids, dense, sparse, payloads)
        shutil.rmtree(settings.vectors_dir, ignore_errors=True)

    await asyncio.to_thread(_do)
