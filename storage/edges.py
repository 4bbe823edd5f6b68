"""Provenance edges stored in the metadata DB: add (idempotent), query by either end."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Edge
from storage.neo4j_mirror import record_add, record_delete_edge, record_delete_nodes

RELS = {"GENERATED_FROM", "DERIVED_FROM", "GENERATED_BY", "NARRATED_BY", "CREATED_BY",
        "VERSION_OF", "CITES", "HAS_LICENSE", "PUBLISHED_TO"}


async def add_edge(s: AsyncSession, src: tuple[str, str], rel: str, dst: tuple[str, str],
                   props: dict[str, Any] | None = None) -> Edge:
    """Add an edge, or update the properties of the same edge if it exists."""
    if rel not in RELS:
        raise ValueError(f"unknown relation {rel}")
    res = await s.execute(select(Edge).where(
        Edge.src_type == src[0], Edge.src_id == src[1], Edge.rel == rel,
        Edge.dst_type == dst[0], Edge.dst_id == dst[1]))
    edge = res.scalar_one_or_none()
    if edge is None:
        edge = Edge(src_type=src[0], src_id=src[1], rel=rel, dst_type=dst[0], dst_id=dst[1],
                    props=props or {})
        s.add(edge)
    elif props is not None:
        edge.props = props
    await s.flush()
    record_add(s, edge)
    return edge


async def delete_edge(s: AsyncSession, edge: Edge) -> None:
    """Remove one edge."""
    record_delete_edge(s, edge)
    await s.delete(edge)
    await s.flush()


async def edges_from(s: AsyncSession, src_type: str, src_ids: list[str],
                     rel: str | None = None) -> list[Edge]:
    if not src_ids:
        return []
    q = select(Edge).where(Edge.src_type == src_type, Edge.src_id.in_(src_ids))
    if rel:
        q = q.where(Edge.rel == rel)
    return list((await s.execute(q.order_by(Edge.id))).scalars())


async def edges_to(s: AsyncSession, dst_type: str, dst_ids: list[str],
                   rel: str | None = None) -> list[Edge]:
    if not dst_ids:
        return []
    q = select(Edge).where(Edge.dst_type == dst_type, Edge.dst_id.in_(dst_ids))
    if rel:
        q = q.where(Edge.rel == rel)
    return list((await s.execute(q.order_by(Edge.id))).scalars())


async def delete_node_edges(s: AsyncSession, node_type: str, node_ids: list[str]) -> int:
    """Remove every edge touching these nodes (hard delete)."""
    if not node_ids:
        return 0
    res = await s.execute(delete(Edge).where(or_(
        (Edge.src_type == node_type) & Edge.src_id.in_(node_ids),
        (Edge.dst_type == node_type) & Edge.dst_id.in_(node_ids))))
    record_delete_nodes(s, node_type, node_ids)
    return int(getattr(res, "rowcount", 0) or 0)
