"""Provenance: genealogy, attribution, licences and impact of an artifact or a source, what was
generated from a source, its citation network, an artifact's recipe; regenerate; image uploads.

Every route is owner-scoped: another owner's id answers 404, exactly like an unknown one.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from server import executor
from server import limits as server_limits
from server import operations as ops
from server.auth import Owner, SettingsDep
from server.routes_jobs import JobOut, job_out
from storage.errors import BadInput

router = APIRouter(tags=["provenance"])
Kind = Literal["artifact", "source"]
ID = Annotated[str, Field(min_length=1, max_length=64)]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "no such artifact or source among yours"},
    422: {"description": "unknown kind, or a malformed id or parameter"}}


async def _view(settings: Any, kind: Kind, item_id: str, view: Any, owner: str,
                depth: int = 1) -> dict[str, Any]:
    try:
        res = await ops.provenance_view(settings, kind, item_id, view, owner, depth)
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None
    return res if isinstance(res, dict) else {"items": res}


@router.get("/api/provenance/{kind}/{item_id}/genealogy", responses=NOT_FOUND)
async def genealogy(kind: Kind, item_id: str, settings: SettingsDep, owner: Owner
                    ) -> dict[str, Any]:
    """An artifact: its segments with the chunks and quotes behind each, sources, models,
    voices, versions and run. A source: its origin, import job, licence evidence, what it
    cites and what was generated from it."""
    return await _view(settings, kind, item_id, "genealogy", owner)


@router.get("/api/provenance/{kind}/{item_id}/attribution", responses=NOT_FOUND)
async def attribution(kind: Kind, item_id: str, settings: SettingsDep, owner: Owner
                      ) -> dict[str, Any]:
    """Credits: per segment its citation line and an APA-like reference per source (for a
    source: its own reference and in-text citation). `text` is ready to print."""
    return await _view(settings, kind, item_id, "attribution", owner)


@router.get("/api/provenance/{kind}/{item_id}/licenses", responses=NOT_FOUND)
async def licenses(kind: Kind, item_id: str, settings: SettingsDep, owner: Owner
                   ) -> dict[str, Any]:
    """What it may be used for: commercial use, attribution, share-alike, derivatives, from the
    licences of the sources involved (an unknown licence is never assumed free)."""
    return await _view(settings, kind, item_id, "licenses", owner)


@router.get("/api/provenance/{kind}/{item_id}/impact", responses=NOT_FOUND)
async def impact(kind: Kind, item_id: str, settings: SettingsDep, owner: Owner
                 ) -> dict[str, Any]:
    """Derivative works (versions, artifacts made from it) and what cites it."""
    return await _view(settings, kind, item_id, "impact", owner)


@router.get("/api/provenance/source/{source_id}/generated-content", responses=NOT_FOUND)
async def generated_content(source_id: str, settings: SettingsDep, owner: Owner
                            ) -> list[dict[str, Any]]:
    """Every artifact built from the source, directly or through versions and derived works."""
    res: list[dict[str, Any]] = await ops.provenance_view(
        settings, "source", source_id, "generated-content", owner)
    return res


@router.get("/api/provenance/source/{source_id}/citations", responses={
    **NOT_FOUND, 400: {"description": "depth out of range"}})
async def citations(source_id: str, settings: SettingsDep, owner: Owner,
                    depth: Annotated[int, Query(ge=1, le=5)] = 1) -> dict[str, Any]:
    """Library sources citing or cited by this one, out to `depth` hops, with the CITES edges."""
    return await _view(settings, "source", source_id, "citations", owner, depth)


@router.get("/api/provenance/artifact/{artifact_id}/recipe", responses=NOT_FOUND)
async def recipe(artifact_id: str, settings: SettingsDep, owner: Owner) -> dict[str, Any]:
    """How the artifact was made: graph, parameters, sources and their hashes, models."""
    return await _view(settings, "artifact", artifact_id, "recipe", owner)


class RegenerateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    parameters: dict[str, Any] = Field(default_factory=dict, description=(
        "overrides on top of the recipe (minutes, hosts, style, voices, topic, audience, "
        "title, writer, wav, music, commercial, max_cost, sources)"))
    reason: str | None = Field(None, max_length=500, description="why it is remade")


@router.post("/api/artifacts/{artifact_id}/regenerate", status_code=202, response_model=JobOut,
             tags=["artifacts"], responses={
                 **NOT_FOUND, 400: {"description": "a source is gone, or no recipe"},
                 429: {"description": "daily export quota reached"}})
async def regenerate(artifact_id: str, body: RegenerateIn, settings: SettingsDep,
                     owner: Owner) -> JobOut:
    """Make the artifact again from its recipe (+ overrides); the new one is VERSION_OF it."""
    from server import runner

    rec = await ops.provenance_view(settings, "artifact", artifact_id, "recipe", owner)
    await server_limits.charge_export(settings, owner, str(rec.get("graph") or "export"))
    job_id = await runner.regenerate(settings, artifact_id, body.parameters, body.reason,
                                     owner=owner)
    return job_out(await executor.enqueue(settings, job_id))


class ImageOut(BaseModel):
    image_id: str


UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary"}}}}}}}


@router.post("/api/assets", status_code=201, response_model=ImageOut, tags=["content"],
             openapi_extra=UPLOAD, responses={
                 400: {"description": "not a PNG or JPEG"},
                 413: {"description": "larger than the upload limit"},
                 415: {"description": "not a multipart body"},
                 422: {"description": "no file part"}})
async def upload_image(request: Request, settings: SettingsDep, owner: Owner) -> ImageOut:
    """Store a PNG/JPEG of yours (e.g. a video logo); use its `image_id` in export parameters."""
    from services.assets import put_image

    if request.headers.get("content-type", "").split(";")[0].strip() != "multipart/form-data":
        raise HTTPException(415, "send multipart/form-data with a 'file' part")
    try:
        form = await request.form(max_files=1, max_fields=2)
    except Exception as exc:  # malformed multipart bodies
        raise HTTPException(400, f"malformed multipart body: {exc}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, "multipart body needs a 'file' part")
    data = await upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"upload larger than {settings.max_upload_bytes} bytes")
    return ImageOut(image_id=await put_image(settings, owner, data))
