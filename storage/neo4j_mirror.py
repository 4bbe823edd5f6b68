"""A Neo4j mirror of the provenance graph, kept when `LIBRARIAN_NEO4J_URL` is set.

The metadata DB is the system of record. `storage.edges` notes every edge write on the session
(`session.info`); `storage.db.session` hands those notes to `mirror` after the commit, so only
committed edges reach Neo4j, in the order they were written, as batched `UNWIND ... MERGE`
statements (idempotent: replaying them changes nothing). A mirror failure is logged, never
raised: the DB write stands, and `sync` (`librarian provenance sync`) rebuilds the mirror.
Labels and relation types cannot be Cypher parameters, so they come from fixed whitelists;
ids and properties always travel as parameters.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import db
from storage.models import Artifact, Chunk, Edge, Licence, Segment, Source

if TYPE_CHECKING:
    from storage.settings import Settings

log = logging.getLogger(__name__)
OPS_KEY = "provenance_ops"
BATCH = 500
LABELS = {"source": "Source", "chunk": "Chunk", "artifact": "Artifact", "segment": "Segment",
          "run": "Run", "model": "Model", "voice": "Voice", "licence": "Licence",
          "owner": "Owner", "publication": "Publication"}
RELS = {"GENERATED_FROM", "DERIVED_FROM", "GENERATED_BY", "NARRATED_BY", "CREATED_BY",
        "VERSION_OF", "CITES", "HAS_LICENSE", "PUBLISHED_TO"}
Op = tuple[str, dict[str, Any]]
Statement = tuple[str, dict[str, Any]]


# --- what edges.py records on the session ------------------------------------------------------

def _row(edge: Edge) -> dict[str, Any]:
    return {"src_type": edge.src_type, "src": edge.src_id, "rel": edge.rel,
            "dst_type": edge.dst_type, "dst": edge.dst_id, "props": dict(edge.props or {})}


def record_add(s: AsyncSession, edge: Edge) -> None:
    s.info.setdefault(OPS_KEY, []).append(("add", _row(edge)))


def record_delete_edge(s: AsyncSession, edge: Edge) -> None:
    s.info.setdefault(OPS_KEY, []).append(("del_edge", _row(edge)))


def record_delete_nodes(s: AsyncSession, node_type: str, ids: Sequence[str]) -> None:
    s.info.setdefault(OPS_KEY, []).append(("del_nodes", {"type": node_type, "ids": list(ids)}))


def take_ops(s: AsyncSession) -> list[Op]:
    """The edge writes noted on this session (and forget them)."""
    return list(s.info.pop(OPS_KEY, None) or [])


# --- Cypher ------------------------------------------------------------------------------------

def label(node_type: str) -> str:
    try:
        return LABELS[node_type]
    except KeyError:
        raise ValueError(f"no Neo4j label for node type {node_type!r}") from None


def clean_props(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j properties hold primitives and lists of primitives; anything else becomes JSON."""
    out: dict[str, Any] = {}
    for k, v in props.items():
        if v is None:
            continue
        primitive = isinstance(v, str | int | float | bool)
        if primitive or (isinstance(v, list) and all(isinstance(x, str) for x in v)):
            out[k] = v
        else:
            out[k] = json.dumps(v, sort_keys=True, default=str)
    return out


def _batches(rows: list[Any], size: int) -> Iterable[list[Any]]:
    for i in range(0, len(rows), size):
        yield rows[i:i + size]


def edge_statements(rows: list[dict[str, Any]], batch: int = BATCH) -> list[Statement]:
    """MERGE both ends and the relationship, one statement per (labels, rel) and batch."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in rows:
        if r["rel"] not in RELS:
            raise ValueError(f"unknown relation {r['rel']}")
        key = (label(r["src_type"]), r["rel"], label(r["dst_type"]))
        groups.setdefault(key, []).append({"src": r["src"], "dst": r["dst"],
                                           "props": clean_props(r["props"])})
    out = []
    for (a, rel, b), items in groups.items():
        q = (f"UNWIND $rows AS row MERGE (a:{a} {{id: row.src}}) MERGE (b:{b} {{id: row.dst}}) "
             f"MERGE (a)-[r:{rel}]->(b) SET r = row.props")
        out += [(q, {"rows": chunk}) for chunk in _batches(items, batch)]
    return out


def delete_edge_statements(rows: list[dict[str, Any]], batch: int = BATCH) -> list[Statement]:
    groups: dict[tuple[str, str, str], list[dict[str, str]]] = {}
    for r in rows:
        key = (label(r["src_type"]), r["rel"], label(r["dst_type"]))
        groups.setdefault(key, []).append({"src": r["src"], "dst": r["dst"]})
    out = []
    for (a, rel, b), items in groups.items():
        if rel not in RELS:
            raise ValueError(f"unknown relation {rel}")
        q = (f"UNWIND $rows AS row MATCH (a:{a} {{id: row.src}})-[r:{rel}]->"
             f"(b:{b} {{id: row.dst}}) DELETE r")
        out += [(q, {"rows": chunk}) for chunk in _batches(items, batch)]
    return out


def delete_node_statements(node_type: str, ids: list[str], batch: int = BATCH) -> list[Statement]:
    q = f"UNWIND $ids AS id MATCH (n:{label(node_type)} {{id: id}}) DETACH DELETE n"
    return [(q, {"ids": chunk}) for chunk in _batches(ids, batch)]


def node_statements(props: dict[tuple[str, str], dict[str, Any]],
                    batch: int = BATCH) -> list[Statement]:
    """MERGE nodes and set their descriptive properties (title, kind, page, ...)."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for (node_type, node_id), p in props.items():
        groups.setdefault(label(node_type), []).append({"id": node_id, "props": clean_props(p)})
    out = []
    for lab, items in groups.items():
        q = f"UNWIND $rows AS row MERGE (n:{lab} {{id: row.id}}) SET n += row.props"
        out += [(q, {"rows": chunk}) for chunk in _batches(items, batch)]
    return out


def statements(ops: list[Op], node_props: dict[tuple[str, str], dict[str, Any]] | None = None,
               batch: int = BATCH) -> list[Statement]:
    """Cypher for a list of edge writes, in order: each run of same-kind ops is batched."""
    out: list[Statement] = []
    i = 0
    while i < len(ops):
        kind = ops[i][0]
        j = i
        while j < len(ops) and ops[j][0] == kind:
            j += 1
        run = [data for _, data in ops[i:j]]
        if kind == "add":
            out += edge_statements(run, batch)
        elif kind == "del_edge":
            out += delete_edge_statements(run, batch)
        else:
            by_type: dict[str, list[str]] = {}
            for d in run:
                by_type.setdefault(d["type"], []).extend(d["ids"])
            for node_type, ids in by_type.items():
                out += delete_node_statements(node_type, list(dict.fromkeys(ids)), batch)
        i = j
    if node_props:
        out += node_statements(node_props, batch)
    return out


def constraint_statements() -> list[Statement]:
    return [(f"CREATE CONSTRAINT librarian_{lab.lower()}_id IF NOT EXISTS "
             f"FOR (n:{lab}) REQUIRE n.id IS UNIQUE", {}) for lab in LABELS.values()]


# --- node properties from the DB -----------------------------------------------------------------

async def node_properties(s: AsyncSession, nodes: Iterable[tuple[str, str]]
                          ) -> dict[tuple[str, str], dict[str, Any]]:
    """Descriptive properties of the nodes that have a row (sources, artifacts, chunks, ...)."""
    wanted: dict[str, set[str]] = {}
    for node_type, node_id in nodes:
        wanted.setdefault(node_type, set()).add(node_id)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    models: list[tuple[str, Any]] = [("source", Source), ("artifact", Artifact),
                                     ("chunk", Chunk), ("segment", Segment),
                                     ("licence", Licence)]
    for node_type, model in models:
        ids = sorted(wanted.get(node_type, ()))
        for chunk in _batches(ids, BATCH):
            rows = (await s.execute(select(model).where(model.id.in_(chunk)))).scalars()
            for r in rows:
                out[(node_type, r.id)] = _describe(r)
    return out


def _describe(r: Any) -> dict[str, Any]:
    if isinstance(r, Source):
        return {"title": r.title, "kind": r.kind, "owner": r.owner, "doi": r.doi,
                "published": r.published, "licence": r.licence_id, "authors": list(
                    map(str, r.authors or [])), "status": r.status}
    if isinstance(r, Artifact):
        return {"title": r.title, "kind": r.kind, "owner": r.owner, "status": r.status,
                "job_id": r.job_id, "created_at": r.created_at.isoformat() if r.created_at
                else None}
    if isinstance(r, Chunk):
        return {"source_id": r.source_id, "seq": r.seq, "page": r.page,
                "text": r.text[:300]}
    if isinstance(r, Segment):
        return {"artifact_id": r.artifact_id, "seq": r.seq, "speaker": r.speaker,
                "text": r.text[:300]}
    if isinstance(r, Licence):
        return {"name": r.name, "url": r.url}
    return {}


def _touched(ops: list[Op]) -> set[tuple[str, str]]:
    nodes: set[tuple[str, str]] = set()
    for kind, d in ops:
        if kind == "add":
            nodes.add((d["src_type"], d["src"]))
            nodes.add((d["dst_type"], d["dst"]))
    return nodes


# --- the driver boundary -------------------------------------------------------------------------

def open_driver(settings: Settings) -> Any:
    """The official async driver (the `neo4j` extra)."""
    try:
        from neo4j import AsyncGraphDatabase
    except ImportError as exc:
        from storage.errors import ConfigError

        raise ConfigError("LIBRARIAN_NEO4J_URL is set but the neo4j driver is not installed "
                          "(pip install 'librarian[neo4j]')") from exc
    password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
    return AsyncGraphDatabase.driver(str(settings.neo4j_url), auth=(settings.neo4j_user, password))


async def run_statements(driver: Any, stmts: list[Statement]) -> None:
    """Run the statements in one write transaction (retried by the driver when transient)."""
    if not stmts:
        return

    async def work(tx: Any) -> None:
        for query, params in stmts:
            result = await tx.run(query, params)
            await result.consume()

    async with driver.session() as session:
        await session.execute_write(work)


@db.after_commit
async def mirror_committed(settings: Settings, s: AsyncSession) -> None:
    """After a commit: mirror the session's edge writes when Neo4j is configured."""
    if settings.neo4j_url and s.info.get("provenance_ops"):
        await mirror(settings, take_ops(s))


async def mirror(settings: Settings, ops: list[Op], driver: Any = None) -> bool:
    """Mirror committed edge writes; False (and a warning) when Neo4j could not take them."""
    if not ops or not (settings.neo4j_url or driver is not None):
        return False
    try:
        async with db.session(settings) as s:
            props = await node_properties(s, _touched(ops))
        own = driver is None
        drv = open_driver(settings) if own else driver
        try:
            await run_statements(drv, statements(ops, props))
        finally:
            if own:
                await drv.close()
    except Exception as exc:  # the DB write stands; `librarian provenance sync` repairs
        log.warning("neo4j mirror failed (%s: %s); run `librarian provenance sync`",
                    type(exc).__name__, exc)
        return False
    return True


async def sync(settings: Settings, driver: Any = None, batch: int = BATCH) -> dict[str, int]:
    """Rebuild the mirror from the DB: drop the mirrored labels, then write every edge."""
    if driver is None and not settings.neo4j_url:
        from storage.errors import ConfigError

        raise ConfigError("set LIBRARIAN_NEO4J_URL (and LIBRARIAN_NEO4J_PASSWORD) to sync")
    async with db.session(settings) as s:
        rows = [_row(e) for e in (await s.execute(select(Edge).order_by(Edge.id))).scalars()]
        nodes = _touched([("add", r) for r in rows])
        nodes |= {("source", i) for i in (await s.execute(select(Source.id))).scalars()}
        nodes |= {("artifact", i) for i in (await s.execute(select(Artifact.id))).scalars()}
        props = await node_properties(s, nodes)
    own = driver is None
    drv = open_driver(settings) if own else driver
    try:
        for stmt in constraint_statements():  # schema changes run in their own transactions
            await run_statements(drv, [stmt])
        wipe = "MATCH (n) WHERE " + " OR ".join(f"n:{lab}" for lab in LABELS.values())
        await run_statements(drv, [(wipe + " DETACH DELETE n", {})])
        stmts = edge_statements(rows, batch) + node_statements(
            {n: props.get(n, {}) for n in nodes}, batch)
        for group in _batches(stmts, 20):
            await run_statements(drv, group)
    finally:
        if own:
            await drv.close()
    return {"edges": len(rows), "nodes": len(nodes), "statements": len(stmts)}
