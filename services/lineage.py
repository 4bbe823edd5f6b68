"""Provenance queries over the metadata DB: genealogy, attribution, licences, lineage, recipes.

Plain async functions returning JSON-ready dicts (the CLI and the REST API render them).
`owner`, when given, restricts to that owner's artifacts and sources (NotFound otherwise).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from agents.references import in_text, reference, year_of
from storage import artifacts as artifacts_db
from storage import db, edges, library
from storage import metrics as platform_metrics
from storage.errors import BadInput, Forbidden, NotFound
from storage.models import Artifact, Job, Source
from storage.settings import Settings
from tools.licences import combine, get_licence

REGENERABLE = {"minutes", "hosts", "style", "voices", "topic", "audience", "title", "writer",
               "wav", "music", "commercial", "max_cost", "sources", "language"}


def _norm(text: str) -> str:
    return " ".join(text.split())


async def _artifact(s: AsyncSession, artifact_id: str, owner: str | None) -> Artifact:
    return await artifacts_db.get_artifact(s, artifact_id, owner)


async def _source_ids(s: AsyncSession, art: Artifact) -> list[str]:
    """The artifact's sources: its recipe's list first, then any other GENERATED_FROM."""
    ids = [str(i) for i in (art.recipe or {}).get("sources", [])]
    ids += [e.dst_id for e in await edges.edges_from(s, "artifact", [art.id], "GENERATED_FROM")
            if e.dst_type == "source"]
    return list(dict.fromkeys(ids))


async def _sources(s: AsyncSession, ids: list[str]) -> dict[str, Source | None]:
    return {i: await s.get(Source, i) for i in ids}


def _source_info(sid: str, src: Source | None) -> dict[str, Any]:
    if src is None:
        return {"source_id": sid, "missing": True, "licence": "unknown"}
    return {"source_id": sid, "title": src.title, "authors": list(src.authors or []),
            "year": year_of(src.published), "doi": src.doi, "url": src.url, "kind": src.kind,
            "licence": src.licence_id or "unknown", "deleted": src.deleted_at is not None}


async def _versions(s: AsyncSession, art: Artifact) -> dict[str, Any]:
    """The chain back to the first version, and the versions made from this one."""
    chain: list[dict[str, Any]] = []
    cur, seen = art, {art.id}
    while cur.version_of and cur.version_of not in seen:
        seen.add(cur.version_of)
        prev = await s.get(Artifact, cur.version_of)
        if prev is None:
            chain.append({"artifact_id": cur.version_of, "missing": True})
            break
        chain.append({"artifact_id": prev.id, "title": prev.title, "job_id": prev.job_id,
                      "created_at": prev.created_at.isoformat() if prev.created_at else None})
        cur = prev
    newer = [e.src_id for e in await edges.edges_to(s, "artifact", [art.id], "VERSION_OF")]
    reason = None
    if art.job_id:
        job = await s.get(Job, art.job_id)
        reason = (job.input or {}).get("reason") if job else None
    return {"version_of": art.version_of, "previous": chain, "newer": newer, "reason": reason}


async def genealogy(settings: Settings, artifact_id: str, *,
                    owner: str | None = None) -> dict[str, Any]:
    """Sources, chunks per segment (quoted span, support), models, voices, owner, versions,
    the run recipe, and the job whose checkpoints hold the trace."""
    async with db.session(settings) as s:
        art = await _artifact(s, artifact_id, owner)
        segs = await artifacts_db.segments(s, art.id)
        derived = await edges.edges_from(s, "segment", [g.id for g in segs], "DERIVED_FROM")
        by_seg: dict[str, list[Any]] = {}
        for e in derived:
            by_seg.setdefault(e.src_id, []).append(e)
        cited = {e.dst_id for e in derived} | {str(c) for g in segs
                                               for c in (g.meta or {}).get("citations", [])}
        chunks = await library.get_chunks(s, sorted(cited))
        src_ids = await _source_ids(s, art)
        srcs = await _sources(s, src_ids)
        out_edges = await edges.edges_from(s, "artifact", [art.id])
        segments = []
        for g in segs:
            meta = g.meta or {}
            links = {e.dst_id: e.props or {} for e in by_seg.get(g.id, [])}
            for c in meta.get("citations", []):
                links.setdefault(str(c), {"quote": meta.get("quote") or "", "support": g.support})
            items = []
            for cid, props in links.items():
                c = chunks.get(cid)
                quote = props.get("quote") or ""
                if c is None:
                    items.append({"chunk_id": cid, "missing": True, "quote": quote,
                                  "source_id": props.get("source_id")})
                    continue
                items.append({"chunk_id": cid, "source_id": c.source_id, "page": c.page,
                              "char_start": c.char_start, "char_end": c.char_end,
                              "start_s": c.start_s, "heading_path": list(c.heading_path or []),
                              "quote": quote, "support": props.get("support", g.support),
                              "quote_found": bool(quote) and _norm(quote) in _norm(c.text),
                              "text": c.text})
            segments.append({"segment_id": g.id, "seq": g.seq, "kind": g.kind,
                             "speaker": g.speaker, "text": g.text, "section": g.section,
                             "start_s": g.start_s, "end_s": g.end_s, "support": g.support,
                             "edited_by": meta.get("edited_by"), "chunks": items})
        versions = await _versions(s, art)
    return {
        "artifact": {"artifact_id": art.id, "kind": art.kind, "title": art.title,
                     "status": art.status, "owner": art.owner, "duration_s": art.duration_s,
                     "files": art.files, "created_at": art.created_at.isoformat()
                     if art.created_at else None},
        "owner": art.owner,
        "run": {"job_id": art.job_id, "trace": f"librarian job {art.job_id} --trace"
                if art.job_id else None},
        "recipe": art.recipe,
        "sources": [_source_info(i, srcs[i]) for i in src_ids],
        "segments": segments,
        "models": [{"model": e.dst_id, **(e.props or {})} for e in out_edges
                   if e.rel == "GENERATED_BY" and e.dst_type == "model"],
        "voices": [{"voice": e.dst_id, **(e.props or {})} for e in out_edges
                   if e.rel == "NARRATED_BY"],
        "versions": versions,
    }


async def attribution(settings: Settings, artifact_id: str, *,
                      owner: str | None = None) -> dict[str, Any]:
    """Per segment its sources and a citation line; the full credits text (APA-like)."""
    gen = await genealogy(settings, artifact_id, owner=owner)
    async with db.session(settings) as s:
        srcs = await _sources(s, [x["source_id"] for x in gen["sources"]])
    live = {i: src for i, src in srcs.items() if src is not None}
    segments = []
    for g in gen["segments"]:
        cites: list[str] = []
        for c in g["chunks"]:
            sid = c.get("source_id")
            if sid in live:
                page = f", p. {c['page']}" if c.get("page") else ""
                line = in_text(live[sid]) + page
                if line not in cites:
                    cites.append(line)
        segments.append({"segment_id": g["segment_id"], "seq": g["seq"], "speaker": g["speaker"],
                         "text": g["text"], "sources": list(dict.fromkeys(
                             c["source_id"] for c in g["chunks"] if c.get("source_id"))),
                         "citation": "; ".join(cites)})
    refs = [{"source_id": i, "reference": reference(src), "in_text": in_text(src),
             "licence": src.licence_id or "unknown"} for i, src in live.items()]
    missing = [i for i, src in srcs.items() if src is None]
    art = gen["artifact"]
    lines = [f"\u201c{art['title']}\u201d, a {art['kind']} generated by Librarian"
             + (f" on {art['created_at'][:10]}" if art.get("created_at") else "") + ".", "",
             "Sources:"]
    lines += [f"{n}. {r['reference']}" for n, r in enumerate(refs, 1)]
    lines += [f"- source {i} (removed from the library)" for i in missing]
    voices = ", ".join(f"{v.get('host', '')} ({v['voice']})".strip() for v in gen["voices"])
    models = ", ".join(m["model"] for m in gen["models"])
    if voices:
        lines += ["", f"Voices: {voices}."]
    if models:
        lines += [f"Script: {models}."]
    verdict = combine([r["licence"] for r in refs] + ["unknown" for _ in missing])
    if verdict.attribution_required:
        lines += ["", "Attribution is required by the licences of the sources above."]
    return {"artifact_id": art["artifact_id"], "segments": segments, "sources": refs,
            "missing_sources": missing, "text": "\n".join(lines) + "\n"}


def _flag(value: bool | None, yes: str, no: str) -> str:
    return "unknown" if value is None else (yes if value else no)


async def source_licences(settings: Settings, source_ids: list[str], *,
                          owner: str | None = None) -> dict[str, Any]:
    """The combined licence verdict for work generated from these sources."""
    async with db.session(settings) as s:
        srcs = await _sources(s, source_ids)
    for i, src in srcs.items():
        if owner is not None and src is not None and src.owner != owner:
            raise NotFound(f"no source {i}")
    ids = list(srcs)
    rows = [srcs[i] for i in ids]
    lic_ids = [(r.licence_id if r else None) or "unknown" for r in rows]
    v = combine(lic_ids)

    def who(i: int) -> dict[str, Any]:
        src = srcs[ids[i]]
        return {"source_id": ids[i], "title": src.title if src else None, "licence": lic_ids[i]}

    no_derivs = [who(i) for i, lid in enumerate(lic_ids)
                 if get_licence(lid).derivatives_allowed is False]
    return {
        "commercial_use": _flag(v.commercial_use_allowed, "allowed", "not allowed"),
        "attribution": _flag(v.attribution_required, "required", "not required"),
        "share_alike": _flag(v.share_alike_required, "required", "not required"),
        "derivatives": _flag(v.derivatives_allowed, "allowed", "not allowed"),
        "flags": {"commercial_use_allowed": v.commercial_use_allowed,
                  "attribution_required": v.attribution_required,
                  "share_alike_required": v.share_alike_required,
                  "derivatives_allowed": v.derivatives_allowed},
        "licences": sorted(set(lic_ids)),
        "sources": [{**who(i), "evidence": r.licence_evidence if r else None,
                     "name": get_licence(lid).name}
                    for i, (lid, r) in enumerate(zip(lic_ids, rows, strict=True))],
        "blocking_commercial": [who(i) for i in v.blocking_commercial],
        "blocking_derivatives": no_derivs,
        "unknown": [who(i) for i in v.unknown_sources],
        "share_alike_conflict": v.share_alike_conflict,
        "notes": v.notes,
    }


async def licences(settings: Settings, artifact_id: str, *,
                   owner: str | None = None) -> dict[str, Any]:
    """The artifact's licence verdict: commercial use, attribution, share-alike, derivatives."""
    async with db.session(settings) as s:
        art = await _artifact(s, artifact_id, owner)
        ids = await _source_ids(s, art)
    return {"artifact_id": art.id, **await source_licences(settings, ids)}


async def check_commercial_use(settings: Settings, source_ids: list[str], *,
                               owner: str | None = None) -> None:
    """Forbidden, naming the sources, when a commercial export may not use them: non-commercial,
    no-derivatives, or an unknown licence (never assumed free)."""
    v = await source_licences(settings, source_ids, owner=owner)
    problems = [f"{b['title'] or b['source_id']} ({b['source_id']}) is {b['licence']}"
                for b in v["blocking_commercial"] + v["blocking_derivatives"]]
    problems += [f"{b['title'] or b['source_id']} ({b['source_id']}) has no known licence"
                 for b in v["unknown"]]
    if problems:
        raise Forbidden("commercial export refused: " + "; ".join(dict.fromkeys(problems)))


async def _derived(s: AsyncSession, start: list[str]) -> list[tuple[str, str, str]]:
    """(artifact id, how, from id) for artifacts derived from these, transitively."""
    out: list[tuple[str, str, str]] = []
    seen = set(start)
    frontier = list(start)
    while frontier:
        nxt = []
        for e in await edges.edges_to(s, "artifact", frontier):
            if e.src_type != "artifact" or e.src_id in seen:
                continue
            if e.rel in {"VERSION_OF", "GENERATED_FROM"}:
                seen.add(e.src_id)
                nxt.append(e.src_id)
                out.append((e.src_id, "version_of" if e.rel == "VERSION_OF" else "derived_from",
                            e.dst_id))
        frontier = nxt
    return out


def _art_info(a: Artifact) -> dict[str, Any]:
    return {"artifact_id": a.id, "kind": a.kind, "title": a.title, "status": a.status,
            "job_id": a.job_id, "created_at": a.created_at.isoformat() if a.created_at else None,
            "deleted": a.deleted_at is not None}


async def generated_content(settings: Settings, source_id: str, *,
                            owner: str | None = None) -> list[dict[str, Any]]:
    """Every artifact built from the source, directly or through versions/derived artifacts."""
    async with db.session(settings) as s:
        await library.get_source(s, source_id, owner, include_deleted=True)
        direct = [e.src_id for e in await edges.edges_to(s, "source", [source_id],
                                                          "GENERATED_FROM")
                  if e.src_type == "artifact"]
        found = [(a, "direct", source_id) for a in dict.fromkeys(direct)]
        found += [x for x in await _derived(s, [a for a, _, _ in found])
                  if x[0] not in set(direct)]
        out = []
        for aid, how, via in found:
            a = await s.get(Artifact, aid)
            if a is not None:
                out.append({**_art_info(a), "via": how, "from": via})
    return out


async def dependent_artifacts(s: AsyncSession, source_id: str) -> list[str]:
    """Ids of artifacts that depend on the source (for hard delete)."""
    direct = list(dict.fromkeys(e.src_id for e in await edges.edges_to(
        s, "source", [source_id], "GENERATED_FROM") if e.src_type == "artifact"))
    return direct + [a for a, _, _ in await _derived(s, direct) if a not in direct]


async def citation_network(settings: Settings, source_id: str, depth: int = 1, *,
                           owner: str | None = None) -> dict[str, Any]:
    """Sources citing or cited by this one, out to `depth` hops (1-5), with the CITES edges."""
    if not 1 <= depth <= 5:
        raise BadInput("depth must be between 1 and 5")
    async with db.session(settings) as s:
        root = await library.get_source(s, source_id, owner, include_deleted=True)
        dist = {root.id: 0}
        found: dict[tuple[str, str], dict[str, Any]] = {}
        frontier = [root.id]
        for d in range(1, depth + 1):
            out_e = await edges.edges_from(s, "source", frontier, "CITES")
            in_e = await edges.edges_to(s, "source", frontier, "CITES")
            nxt = []
            for e in out_e + in_e:
                found[(e.src_id, e.dst_id)] = {
                    "from": e.src_id, "to": e.dst_id, "matched_by": (e.props or {}).get(
                        "matched_by"), "score": (e.props or {}).get("score"),
                    "reference": (e.props or {}).get("reference")}
                for n in (e.src_id, e.dst_id):
                    if n not in dist:
                        dist[n] = d
                        nxt.append(n)
            frontier = nxt
        nodes = []
        for n, d in sorted(dist.items(), key=lambda x: x[1]):
            src = await s.get(Source, n)
            nodes.append({"source_id": n, "depth": d, "title": src.title if src else None,
                          "year": year_of(src.published) if src else None,
                          "missing": src is None})
    return {"source_id": source_id, "depth": depth, "nodes": nodes,
            "edges": list(found.values()),
            "cites": [e["to"] for e in found.values() if e["from"] == source_id],
            "cited_by": [e["from"] for e in found.values() if e["to"] == source_id]}


async def impact(settings: Settings, artifact_id: str, *,
                 owner: str | None = None) -> dict[str, Any]:
    """Derivative works (versions, artifacts generated from it) and what cites it.

    Publications (PUBLISHED_TO) and each platform's latest views, likes, comments, shares and
    watch time (the analytics refresh) with their totals; metrics are absent, never 0, for an
    artifact no refresh has measured."""
    async with db.session(settings) as s:
        art = await _artifact(s, artifact_id, owner)
        derived = await _derived(s, [art.id])
        works = []
        for aid, how, via in derived:
            a = await s.get(Artifact, aid)
            if a is not None:
                works.append({**_art_info(a), "via": how, "from": via})
        citing = [{"type": e.src_type, "id": e.src_id}
                  for e in await edges.edges_to(s, "artifact", [art.id], "CITES")]
        published = [dict(e.props or {}) for e in await edges.edges_from(
            s, "artifact", [art.id], "PUBLISHED_TO")]
        measured = (await platform_metrics.latest(s, [art.id])).get(art.id, {})
    out: dict[str, Any] = {"artifact_id": art.id, "derivative_works": works,
                           "citing": citing, "published": published}
    if measured:
        out["metrics"] = measured
        out["totals"] = {f: sum(m[f] or 0 for m in measured.values())
                         for f in platform_metrics.FIELDS}
    return out


async def recipe(settings: Settings, artifact_id: str, *,
                 owner: str | None = None) -> dict[str, Any]:
    """How the artifact was made: graph, versions, parameters, sources and their hashes, models."""
    async with db.session(settings) as s:
        art = await _artifact(s, artifact_id, owner)
    return {"artifact_id": art.id, "job_id": art.job_id, "version_of": art.version_of,
            **(art.recipe or {})}


def parse_value(text: str) -> Any:
    """A `--param` value: JSON when it parses (numbers, booleans, lists), else the string."""
    import json

    try:
        return json.loads(text)
    except ValueError:
        return text


async def remake_input(settings: Settings, artifact_id: str,
                       overrides: dict[str, Any] | None = None, reason: str | None = None, *,
                       owner: str | None = None) -> tuple[str, dict[str, Any], str]:
    """(graph, job input, owner) that remake the artifact from its recipe (+ overrides),
    VERSION_OF it. `server.runner.regenerate` submits it with the runner's checks."""
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - REGENERABLE)
    if unknown:
        raise BadInput(f"cannot override {', '.join(unknown)} (allowed: "
                       f"{', '.join(sorted(REGENERABLE))})")
    async with db.session(settings) as s:
        art = await _artifact(s, artifact_id, owner)
        rec = art.recipe or {}
        if not rec.get("graph") or "parameters" not in rec:
            raise BadInput(f"artifact {artifact_id} has no recipe to regenerate from")
        params = {k: v for k, v in rec["parameters"].items() if v is not None}
        params["sources"] = list(rec.get("sources") or [])
        params.update(overrides)
        for sid in params["sources"]:
            src = await s.get(Source, sid) if isinstance(sid, str) else None
            if src is None or src.deleted_at is not None:
                raise BadInput(f"source {sid} of artifact {artifact_id} is no longer in the "
                               "library")
    params.update(version_of=art.id, reason=reason or "regenerate")
    return str(rec["graph"]), params, art.owner


async def mark_orphaned(s: AsyncSession, artifact_ids: list[str], source_id: str) -> None:
    """Mark artifacts whose source is hard-deleted as orphaned (files stay until deleted)."""
    from datetime import UTC, datetime

    for aid in artifact_ids:
        a = await s.get(Artifact, aid)
        if a is None:
            continue
        a.status = "orphaned"
        meta = dict(a.meta or {})
        meta["orphaned"] = [*meta.get("orphaned", []),
                            {"source_id": source_id, "at": datetime.now(UTC).isoformat()}]
        a.meta = meta
    await s.flush()


# --- the same views of a source -------------------------------------------------------------

async def source_genealogy(settings: Settings, source_id: str, *,
                           owner: str | None = None) -> dict[str, Any]:
    """Where a source came from: origin (URL or file, hash), the import job, owner, licence and
    its evidence, the library sources it cites, and what was generated from it."""
    async with db.session(settings) as s:
        src = await library.get_source(s, source_id, owner, include_deleted=True)
        out_edges = await edges.edges_from(s, "source", [src.id])
    created = [e for e in out_edges if e.rel == "CREATED_BY"]
    return {"source": _source_info(src.id, src),
            "origin": {"url": src.url, "filename": src.filename, "doi": src.doi,
                       "content_hash": src.content_hash, "object_key": src.object_key},
            "owner": src.owner,
            "run": {"job_id": (created[0].props or {}).get("job_id") if created else None},
            "licence": {"licence": src.licence_id or "unknown",
                        "evidence": src.licence_evidence},
            "cites": [e.dst_id for e in out_edges if e.rel == "CITES"],
            "generated_content": await generated_content(settings, src.id, owner=owner)}


async def source_attribution(settings: Settings, source_id: str, *,
                             owner: str | None = None) -> dict[str, Any]:
    """How to credit a source: its APA-like reference and in-text citation."""
    async with db.session(settings) as s:
        src = await library.get_source(s, source_id, owner, include_deleted=True)
    return {"source_id": src.id, "reference": reference(src), "in_text": in_text(src),
            "licence": src.licence_id or "unknown", "text": reference(src) + "\n"}


async def source_licence_view(settings: Settings, source_id: str, *,
                              owner: str | None = None) -> dict[str, Any]:
    """A source's licence verdict, as `licences` gives it for an artifact."""
    async with db.session(settings) as s:
        await library.get_source(s, source_id, owner, include_deleted=True)
    return {"source_id": source_id, **await source_licences(settings, [source_id], owner=owner)}


async def source_impact(settings: Settings, source_id: str, *,
                        owner: str | None = None) -> dict[str, Any]:
    """What a source led to: artifacts generated from it and library sources citing it."""
    made = await generated_content(settings, source_id, owner=owner)
    async with db.session(settings) as s:
        citing = [e.src_id for e in await edges.edges_to(s, "source", [source_id], "CITES")]
    return {"source_id": source_id, "derivative_works": made,
            "citing": [{"type": "source", "id": i} for i in dict.fromkeys(citing)]}
