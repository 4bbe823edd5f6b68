"""What the REST routes and the in-process client both do: list and show sources, build
ingest inputs, check an export request, answer provenance views.

One definition per operation, so the CLI's local mode and the API refuse the same requests and
give the same fields (`server.views`).
"""

from __future__ import annotations

from typing import Any

from server.client_api import ProvenanceKind, ProvenanceView
from server.views import describe, source_detail
from storage import db, library
from storage.errors import BadInput, NotFound
from storage.settings import Settings

RESERVED = {"owner", "sources", "result", "version_of", "reason"}  # set by the server only
POLL_S = 0.5


async def list_sources(settings: Settings, owner: str, **filters: Any) -> list[dict[str, Any]]:
    """The owner's sources (filters: kind, status, author, licence, limit, offset)."""
    async with db.session(settings) as s:
        rows = await library.list_sources(s, owner, **filters)
        counts = await library.chunk_counts(s, [r.id for r in rows])
    return [describe(r, counts.get(r.id, 0)) for r in rows]


async def get_source(settings: Settings, source_id: str, owner: str) -> dict[str, Any]:
    """One of the owner's sources with sections and figures (NotFound otherwise)."""
    async with db.session(settings) as s:
        src = await library.get_source(s, source_id, owner)
        chunks = await library.source_chunks(s, source_id)
        figures = await library.source_figures(s, source_id)
    return source_detail(src, chunks, figures)


async def source_chunks(settings: Settings, source_id: str, owner: str, *, limit: int = 500,
                        offset: int = 0) -> list[dict[str, Any]]:
    """One of the owner's sources' paragraphs in reading order (NotFound otherwise)."""
    async with db.session(settings) as s:
        await library.get_source(s, source_id, owner)
        chunks = (await library.source_chunks(s, source_id))[offset:offset + limit]
    return [{"chunk_id": c.id, "seq": c.seq, "kind": c.kind, "text": c.text, "page": c.page,
             "heading_path": list(c.heading_path or []), "char_start": c.char_start,
             "char_end": c.char_end, "start_s": c.start_s, "end_s": c.end_s} for c in chunks]


def ingest_input(settings: Settings, **values: Any) -> dict[str, Any]:
    """An ingest job's input: the given fields and the importers switched off."""
    from server import plugins

    return {**{k: v for k, v in values.items() if v is not None},
            "disabled": sorted(plugins.disabled(settings))}


async def check_reprocess(settings: Settings, source_id: str, owner: str) -> dict[str, Any]:
    """The ingest input that extracts one of the owner's sources again."""
    async with db.session(settings) as s:
        await library.get_source(s, source_id, owner)
    return ingest_input(settings, source="", reprocess_of=source_id)


async def _plugin_input(fmt: str, parameters: dict[str, Any]) -> dict[str, Any]:
    from graphs.registry import graphs

    spec = graphs()[fmt]
    if spec.request is not None:
        from pydantic import ValidationError

        from agents.requests import first_error

        try:
            return dict(spec.request.model_validate(parameters).model_dump())
        except ValidationError as exc:
            raise BadInput(first_error(exc)) from None
    reserved = sorted(set(parameters) & RESERVED)
    if reserved:
        raise BadInput(f"parameters {reserved} are set by the server")
    return dict(parameters)


async def check_export(settings: Settings, owner: str, req: Any) -> dict[str, Any]:
    """The job input of a validated export body (`agents.requests.ExportRequest`).

    Refused before any work starts (BadInput): an unknown or disabled format, a logo that is
    not the owner's image, parameters a plugin does not take, a language other than the sources'
    without an LLM to translate; NotFound for a source that is not the owner's; Forbidden for a
    commercial request on sources whose licence forbids it."""
    from pydantic import BaseModel

    from graphs.registry import export_formats
    from server import plugins

    known = export_formats()
    if req.format not in known:
        raise BadInput(f"unknown format {req.format!r} (known: {', '.join(known)})")
    if req.format in plugins.disabled(settings):
        raise BadInput(f"the {req.format!r} exporter is disabled")
    ids = list(dict.fromkeys(req.source_ids))
    async with db.session(settings) as s:
        languages = {sid: (await library.get_source(s, sid, owner)).language for sid in ids}
    if isinstance(req.parameters, BaseModel):
        logo = getattr(req.parameters, "logo", None)
        if logo:
            from services import assets

            try:
                await assets.image_key(settings, owner, logo)
            except NotFound as exc:
                raise BadInput(f"parameters.logo: {exc}") from None
        inp = req.parameters.model_dump()
    else:
        inp = await _plugin_input(req.format, req.parameters)
    if "language" in inp:
        from agents import translator

        if req.format in ("podcast", "video"):  # narrated: translated by the LLM, or refused
            translator.settle(inp["language"], languages, settings.llm_configured)
        else:
            translator.check_written(req.format, inp["language"], languages)
    if inp.get("commercial"):
        from services.lineage import check_commercial_use

        await check_commercial_use(settings, ids, owner=owner)
    return {**inp, "sources": ids}


def validate_export(body: dict[str, Any]) -> Any:
    """A REST export body checked by the same union model the API declares."""
    from pydantic import TypeAdapter, ValidationError

    from agents.requests import ExportRequest, first_error

    try:
        return TypeAdapter(ExportRequest).validate_python(body)
    except ValidationError as exc:
        raise BadInput(first_error(exc)) from None


def _views(kind: ProvenanceKind) -> dict[str, Any]:
    from services import lineage as prov

    if kind == "artifact":
        return {"genealogy": prov.genealogy, "attribution": prov.attribution,
                "licenses": prov.licences, "impact": prov.impact, "recipe": prov.recipe}
    return {"genealogy": prov.source_genealogy, "attribution": prov.source_attribution,
            "licenses": prov.source_licence_view, "impact": prov.source_impact,
            "generated-content": prov.generated_content}


async def provenance_view(settings: Settings, kind: ProvenanceKind, item_id: str,
                          view: ProvenanceView, owner: str, depth: int = 1) -> Any:
    """One provenance view of the owner's artifact or source (NotFound for anyone else's)."""
    if kind == "source" and view == "citations":
        from services import lineage as prov

        return await prov.citation_network(settings, item_id, depth, owner=owner)
    views = _views(kind)
    if view not in views:
        names = [*views, *(["citations"] if kind == "source" else [])]
        raise BadInput(f"no {view!r} view of a {kind} (views: {', '.join(names)})")
    return await views[view](settings, item_id, owner=owner)


async def check_publish(settings: Settings, owner: str, platform: str, artifact_id: str,
                        params: dict[str, Any]) -> dict[str, Any]:
    """The publish job's input, refused before any upload: a bad option (BadInput), not the
    owner's video (NotFound/BadInput), a licence that forbids it (Forbidden, naming the source),
    missing credentials (ConfigError, naming the setting or command), the daily quota (429)."""
    from agents.publish_requests import PublishRequest, validated
    from server import limits
    from services import publishing

    req: PublishRequest = validated(PublishRequest, {**params, "platform": platform,
                                                     "artifact_id": artifact_id})
    await publishing.prepare(settings, owner, req)
    if req.platform != "instagram":
        await publishing.auth_for(settings, owner, req.platform)
    await limits.charge_publish(settings, owner)
    return req.model_dump(exclude_none=True)


async def check_video_batch(settings: Settings, owner: str, req: Any) -> list[dict[str, Any]]:
    """Every video's job input (`agents.batch_requests.VideoBatchRequest`), all checked (and the
    daily video quota charged for all of them) before any job starts."""
    from agents.requests import VideoExport
    from server import limits

    inputs = []
    for n, item in enumerate(req.videos):
        export = VideoExport(format="video", parameters=item.parameters,
                             source_ids=item.source_ids, priority=req.priority)
        try:
            inputs.append(await check_export(settings, owner, export))
        except BadInput as exc:
            raise BadInput(f"videos.{n}: {exc}") from None
    await limits.charge_export(settings, owner, "video", count=len(inputs))
    return inputs
