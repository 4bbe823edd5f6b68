"""The embedded vector store: Qdrant Edge (`qdrant-edge-py`), the Qdrant engine in-process.

Same schema as the server collection (storage.vectors): a named dense vector, a named sparse
vector with the IDF modifier, keyword payload indexes; the same queries (dense, sparse, hybrid
fused by RRF with prefetches). Plain synchronous functions over an open shard; the caller
(storage.vectors) holds the folder lock and runs them in a thread.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import qdrant_edge as qe

DENSE = "dense"
SPARSE = "lexical"
RRF_K = 2  # the constant Qdrant server uses for FusionQuery(RRF): both rank alike
KEYWORDS = ("owner", "source_id", "kind", "language", "licence")
Row = tuple[str, float, dict[str, Any], list[float] | None]  # id, score, payload, dense vector


def open_shard(path: Path, dim: int) -> Any:
    """Load the shard at `path`, creating it (with payload indexes) when the folder is new."""
    if path.is_dir() and any(path.iterdir()):
        return qe.EdgeShard.load(str(path))
    path.mkdir(parents=True, exist_ok=True)
    shard = qe.EdgeShard.create(str(path), qe.EdgeConfig(
        vectors={DENSE: qe.EdgeVectorParams(size=dim, distance=qe.Distance.Cosine)},
        sparse_vectors={SPARSE: qe.EdgeSparseVectorParams(modifier=qe.Modifier.Idf)}))
    for key in KEYWORDS:
        shard.update(qe.UpdateOperation.create_field_index(key, qe.PayloadSchemaType.Keyword))
    return shard


def _filter(conditions: dict[str, list[str]]) -> Any:
    must: list[Any] = []
    for key, values in conditions.items():
        match = (qe.MatchValue(value=values[0]) if len(values) == 1
                 else qe.MatchAny(any=list(values)))
        must.append(qe.FieldCondition(key=key, match=match))
    return qe.Filter(must=must) if must else None


def upsert(shard: Any, ids: list[str], dense: list[list[float]],
           sparse: list[tuple[list[int], list[float]]], payloads: list[dict[str, Any]]) -> None:
    for start in range(0, len(ids), 256):
        end = start + 256
        shard.update(qe.UpdateOperation.upsert_points([
            qe.Point(id=i, vector={DENSE: v, SPARSE: qe.SparseVector(s[0], s[1])}, payload=p)
            for i, v, s, p in zip(ids[start:end], dense[start:end], sparse[start:end],
                                  payloads[start:end], strict=True)]))
    shard.flush()


def _dense_of(point: Any) -> list[float] | None:
    vec = point.vector
    got = vec.get(DENSE) if isinstance(vec, dict) else None
    return [float(x) for x in got] if isinstance(got, list) else None


def query(shard: Any, mode: str, vector: list[float] | None,
          sparse: tuple[list[int], list[float]] | None, conditions: dict[str, list[str]],
          limit: int, related: float | None) -> list[Row]:
    """Dense, sparse or hybrid (RRF over both prefetches) search under one filter."""
    flt = _filter(conditions)
    sv = qe.SparseVector(sparse[0], sparse[1]) if sparse and sparse[0] else None
    if mode == "sparse":
        if sv is None:
            return []
        req = qe.QueryRequest(limit=limit, query=qe.Query.Nearest(sv, using=SPARSE),
                              filter=flt, with_payload=True)
    elif vector is None:
        raise ValueError(f"{mode} search needs the query's dense vector")
    elif mode == "dense" or sv is None:
        req = qe.QueryRequest(limit=limit, query=qe.Query.Nearest(vector, using=DENSE),
                              filter=flt, with_payload=True, with_vector=[DENSE])
    else:
        depth = max(limit * 4, 40)
        req = qe.QueryRequest(
            limit=limit, filter=flt, with_payload=True, with_vector=[DENSE],
            query=qe.Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]  # (the stub omits Rrf)
            prefetches=[qe.Prefetch(limit=depth, query=qe.Query.Nearest(vector, using=DENSE),
                                    filter=flt, score_threshold=related),
                        qe.Prefetch(limit=depth, query=qe.Query.Nearest(sv, using=SPARSE),
                                    filter=flt)])
    return [(str(p.id), float(p.score), dict(p.payload or {}), _dense_of(p))
            for p in shard.query(req)]


def retrieve_dense(shard: Any, ids: list[str]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for start in range(0, len(ids), 256):
        for r in shard.retrieve(ids[start:start + 256], with_payload=False, with_vector=[DENSE]):
            out[str(r.id)] = _dense_of(r) or []
    return out


def delete_where(shard: Any, conditions: dict[str, list[str]]) -> None:
    shard.update(qe.UpdateOperation.delete_points_by_filter(_filter(conditions)))
    shard.flush()


def count(shard: Any, conditions: dict[str, list[str]]) -> int:
    return int(shard.count(qe.CountRequest(exact=True, filter=_filter(conditions))))


def scroll_dense(shard: Any) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    offset: Any = None
    while True:
        recs, offset = shard.scroll(qe.ScrollRequest(offset=offset, limit=1024,
                                                     with_payload=False, with_vector=[DENSE]))
        for r in recs:
            out[str(r.id)] = _dense_of(r) or []
        if offset is None:
            return out
