"""The library as users see it: search, describe and delete sources across every store."""

from __future__ import annotations

from typing import Any

from agents import answers
from agents.answers import SearchHit
from services.lineage import dependent_artifacts, mark_orphaned
from storage import db, edges, jobs, library, vectors
from storage.errors import BadInput, Conflict
from storage.models import Source
from storage.objects import objects
from storage.settings import Settings
from tools.embed import embed_one


async def search(settings: Settings, query: str, *, owner: str | None = None, limit: int = 10,
                 source_ids: list[str] | None = None) -> list[SearchHit]:
    """Chunks nearest in meaning to the query; only chunks of live sources are returned."""
    if not query.strip():
        return []
    hits = await vectors.search(settings, embed_one(query), limit=limit * 2, owner=owner,
                                source_ids=source_ids)
    async with db.session(settings) as s:
        chunks = await library.get_chunks(s, [h.chunk_id for h in hits])
        sources: dict[str, Source] = {}
        out: list[SearchHit] = []
        for h in hits:
            c = chunks.get(h.chunk_id)
            if c is None:
                continue
            if c.source_id not in sources:
                src = await s.get(Source, c.source_id)
                if src is None:
                    continue
                sources[c.source_id] = src
            src = sources[c.source_id]
            if src.deleted_at is not None:
                continue
            out.append(SearchHit(c.id, src.id, src.title, c.text, c.page, list(c.heading_path),
                                 round(h.score, 4), c.start_s, src.url))
            if len(out) >= limit:
                break
    return out


async def ask(settings: Settings, question: str, *, owner: str | None = None,
              limit: int = 8) -> dict[str, Any]:
    """A question answered from the library with citations (`agents.answers.answer`)."""
    async with db.session(settings) as s:
        titles = [(r.id, r.title) for r in await library.list_sources(s, owner, limit=10_000)]
    ids, names = answers.named_sources(question, titles)
    hits = await search(settings, question, owner=owner, limit=limit, source_ids=ids or None)
    return answers.answer(question, hits, names)


async def delete_source(settings: Settings, source_id: str, *, owner: str | None = None,
                        hard: bool = False, cascade: bool = False) -> dict[str, Any]:
    """Soft delete hides the source; hard delete removes rows, vectors, objects and edges.

    A hard delete of a source that artifacts were generated from (directly or through versions)
    is refused unless `cascade`, which marks those artifacts `orphaned` (their files remain).
    """
    async with db.session(settings) as s:
        src = await library.get_source(s, source_id, owner, include_deleted=hard)
        busy = await jobs.active_jobs_using(s, source_id)
        if busy:
            raise Conflict(f"source {source_id} is used by unfinished job {busy[0].id} "
                           f"({busy[0].graph}, {busy[0].status}); cancel it or wait for it")
        if not hard:
            await library.soft_delete(s, src)
            return {"source_id": source_id, "deleted": "soft"}
        chunk_ids = [c.id for c in await library.source_chunks(s, source_id)]
        dependants = await dependent_artifacts(s, source_id)
        if dependants and not cascade:
            raise BadInput(f"source {source_id} has {len(dependants)} dependent artifact(s): "
                           f"{', '.join(dependants)}; delete with cascade (--cascade) to remove "
                           "it and mark them orphaned")
        await mark_orphaned(s, dependants, source_id)
        await edges.delete_node_edges(s, "chunk", chunk_ids)
        await edges.delete_node_edges(s, "source", [source_id])
        await library.hard_delete(s, src)
    await vectors.delete_source(settings, source_id)
    removed = await objects(settings).delete_prefix(f"sources/{source_id}/")
    return {"source_id": source_id, "deleted": "hard", "chunks": len(chunk_ids),
            "objects": removed, "dependent_artifacts": dependants,
            "orphaned": dependants}
