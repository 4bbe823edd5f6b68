"""What the web studio needs beside the seed routes: each export's (and publishing's) parameter
schema (from its typed request model, so a form built from it is complete and checked like the
API), the cost estimate of an export request before it starts, a source's paragraphs, and the
owner's images."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel

from agents.requests import EXPORTS, ExportRequest, RunFields
from server import operations as ops
from server import plugins
from server.auth import Owner, SettingsDep
from storage.errors import BadInput
from storage.objects import objects

router = APIRouter(tags=["studio"])
NOT_YOURS: dict[int | str, dict[str, Any]] = {404: {"description": "not found (or another "
                                                                   "owner's)"}}


class ExportKind(BaseModel):
    format: str
    enabled: bool
    description: str
    stages: list[str]
    parameters: dict[str, Any]  # the JSON schema of the kind's parameters


class Estimate(BaseModel):
    format: str
    voices: list[str]
    paid_voices: list[str]
    tts_cost_usd: float
    llm_writer: bool
    paid_llm: bool
    confirm: list[str]  # what the user should agree to before starting (empty: nothing paid)


class PublishOptions(BaseModel):
    platforms: list[str]
    parameters: dict[str, Any]  # the JSON schema of the publish options


class ChunkOut(BaseModel):
    chunk_id: str
    seq: int
    kind: str
    text: str
    page: int | None
    heading_path: list[str]
    char_start: int
    char_end: int
    start_s: float | None
    end_s: float | None


def _parameters_schema(name: str, request: type[BaseModel] | None) -> dict[str, Any]:
    if name in EXPORTS:
        model = EXPORTS[name].model_fields["parameters"].annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        return model.model_json_schema()
    if request is None:  # a plugin that checks its own parameters
        return {"type": "object", "additionalProperties": True, "properties": {}}
    schema = request.model_json_schema()
    for field in RunFields.model_fields:
        schema.get("properties", {}).pop(field, None)
        if field in schema.get("required", []):
            schema["required"].remove(field)
    return schema


@router.get("/api/exports", response_model=list[ExportKind])
async def export_kinds(settings: SettingsDep, owner: Owner) -> list[dict[str, Any]]:
    """Every installed export kind with its stages and the JSON schema of its parameters."""
    from graphs.registry import graphs

    off = plugins.disabled(settings)
    return [{"format": name, "enabled": name not in off, "description": spec.description,
             "stages": list(spec.stages), "parameters": _parameters_schema(name, spec.request)}
            for name, spec in sorted(graphs().items()) if name != "ingest"]


@router.get("/api/publish/options", response_model=PublishOptions, tags=["publishing"])
async def publish_options(owner: Owner) -> dict[str, Any]:
    """The platforms a video can be published to and the JSON schema of the options."""
    from agents.publish_requests import PLATFORMS, PublishParams

    return {"platforms": list(PLATFORMS), "parameters": PublishParams.model_json_schema()}


@router.post("/api/content/estimate", response_model=Estimate, responses={
    **NOT_YOURS, 403: {"description": "commercial use refused by a source's licence"},
    422: {"description": "unknown or disabled format, bad parameters"}})
async def estimate(req: ExportRequest, settings: SettingsDep, owner: Owner) -> dict[str, Any]:
    """What an export request would cost and use, checked as `POST /api/content/export` checks
    it, without starting anything."""
    from graphs import chat

    try:
        inp = await ops.check_export(settings, owner, req)
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None
    est: dict[str, Any] = {"voices": [], "paid_voices": [], "tts_cost_usd": 0.0}
    if req.format in ("podcast", "video"):
        est = await chat.estimate(req.format, inp, settings)
    paid_llm = chat.paid_llm(settings)
    confirm = []
    if est["tts_cost_usd"] > 0 or est["paid_voices"]:
        confirm.append(f"the voices ({', '.join(est['paid_voices'])}) cost about "
                       f"${est['tts_cost_usd']:.2f}")
    if paid_llm and inp.get("writer") != "extractive":
        confirm.append(f"the text is written by {settings.llm_model}, a paid API")
    return {"format": req.format, "voices": est["voices"], "paid_voices": est["paid_voices"],
            "tts_cost_usd": est["tts_cost_usd"], "llm_writer": settings.llm_configured,
            "paid_llm": paid_llm, "confirm": confirm}


@router.get("/api/content/{source_id}/chunks", response_model=list[ChunkOut],
            responses=NOT_YOURS)
async def source_chunks(source_id: str, settings: SettingsDep, owner: Owner,
                        limit: Annotated[int, Query(ge=1, le=2000)] = 500,
                        offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0
                        ) -> list[dict[str, Any]]:
    """The source's paragraphs in reading order, with page, headings and time span."""
    return await ops.source_chunks(settings, source_id, owner, limit=limit, offset=offset)


@router.get("/api/images/{image_id}", responses={
    200: {"content": {"image/png": {}, "image/jpeg": {}}}, **NOT_YOURS})
async def image(image_id: str, settings: SettingsDep, owner: Owner) -> Response:
    """A figure of one of your sources, or an image you uploaded."""
    from services.assets import check_image, image_key

    data = await objects(settings).get(await image_key(settings, owner, image_id))
    return Response(data, media_type=check_image(data),
                    headers={"cache-control": "private, max-age=3600"})
