"""The library as users see it: search, describe and delete sources across every store."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from agents import answers
from agents.answers import SearchHit
from services.lineage import dependent_artifacts, mark_orphaned
from storage import db, edges, jobs, library, vectors
from storage.errors import BadInput, Conflict
from storage.models import Source
from storage.objects import objects
from storage.settings import Settings
from tools.chunking import embedding_text
from tools.embed import RELATED, embed_one
from tools.lexical import document_vector, query_vector


async def library_languages(settings: Settings, owner: str | None) -> list[str]:
    """The languages of the live sources (of `owner`): the query is stemmed in each."""
    q = select(Source.language).where(Source.deleted_at.is_(None),
                                      Source.language.is_not(None)).distinct()
    if owner is not None:
        q = q.where(Source.owner == owner)
    async with db.session(settings) as s:
        return [str(code) for code in (await s.execute(q)).scalars()]


async def search(settings: Settings, query: str, *, owner: str | None = None, limit: int = 10,
                 source_ids: list[str] | None = None, mode: vectors.Mode = "hybrid",
                 kinds: list[str] | None = None, languages: list[str] | None = None,
                 licences: list[str] | None = None) -> list[SearchHit]:
    """Chunks that answer the query, best first: by meaning (dense), by exact terms (sparse)
    or both fused (hybrid, the default); only chunks of live sources are returned."""
    if not query.strip():
        return []
    dense = embed_one(query) if mode != "sparse" else None
    langs = languages or await library_languages(settings, owner)
    hits = await vectors.search(settings, dense, query_vector(query, langs), mode=mode,
                                limit=limit * 2, owner=owner, source_ids=source_ids,
                                kinds=kinds, languages=languages, licences=licences,
                                related=RELATED)
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
            score = h.similarity if h.similarity is not None else h.score
            out.append(SearchHit(c.id, src.id, src.title, c.text, c.page, list(c.heading_path),
                                 round(score, 4), c.start_s, src.url, mode=mode,
                                 end_s=c.end_s))
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


async def reindex(settings: Settings, *, reembed: bool = False) -> dict[str, Any]:
    """Rebuild the vector index from the library's chunks: dense vectors kept from the old
    index (embedded again when missing or with `reembed`), sparse vectors computed anew.
    Migrates a dense-only index to the hybrid schema; safe to run again if interrupted."""
    from tools.embed import embed

    stored = {} if reembed else await vectors.stored_dense(settings)
    ids: list[str] = []
    texts: list[str] = []
    payloads: list[dict[str, Any]] = []
    async with db.session(settings) as s:
        for src in await library.list_sources(s, limit=10**9, include_deleted=True):
            for c in await library.source_chunks(s, src.id):
                ids.append(c.id)
                texts.append(embedding_text(src.title or "", {
                    "text": c.text, "heading_path": list(c.heading_path or [])}))
                payloads.append({"source_id": src.id, "owner": src.owner, "seq": c.seq,
                                 "page": c.page, "kind": src.kind, "language": src.language,
                                 "licence": src.licence_id})
    missing = [i for i, cid in enumerate(ids) if len(stored.get(cid) or []) != vectors.DIM]
    fresh = embed([texts[i] for i in missing]) if missing else None
    dense = [stored.get(cid, []) for cid in ids]
    for row, i in enumerate(missing):
        dense[i] = [float(x) for x in fresh[row]] if fresh is not None else []
    await vectors.rebuild(settings, ids, dense, [document_vector(t, p["language"])
                                                 for t, p in zip(texts, payloads, strict=True)],
                          payloads)
    return {"chunks": len(ids), "embedded": len(missing), "kept": len(ids) - len(missing),
            "collection": vectors.COLLECTION}


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
