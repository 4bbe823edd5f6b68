"""Content: import (URL or upload), list, get, update, delete, reprocess, search, export."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.datastructures import UploadFile

from agents.answers import SearchHit
from agents.requests import ExportRequest, SearchRequest, first_error
from server import executor, plugins, views
from server import limits as server_limits
from server import operations as ops
from server.auth import Owner, SettingsDep
from server.routes_jobs import JobOut, job_out
from server.source_edits import update_source
from services import catalog
from storage import artifacts as artifacts_db
from storage import db
from storage.errors import BadInput, Retryable
from storage.objects import LocalObjects, objects
from storage.settings import Settings
from tools import limits
from tools.detect import detect_kind
from tools.fetch import check_url, safe_filename

router = APIRouter(tags=["content"])
NOT_YOURS: dict[int | str, dict[str, Any]] = {
    404: {"description": "not found (or another owner's)"}}
IMPORTABLE = {"pdf", "webpage", "docx", "markdown", "text"}
KINDS = ("pdf", "webpage", "document", "docx", "markdown", "text")


class ImportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: str = Field(min_length=1, max_length=4096, description="http(s) URL to import")
    kind: str | None = Field(None, description="kind hint: pdf, webpage, document")
    priority: int = Field(5, ge=1, le=10)


class SourceOut(BaseModel):
    source_id: str
    kind: str
    title: str
    authors: list[Any]
    published: str | None
    url: str | None
    doi: str | None
    pages: int | None
    duration_s: float | None
    chunks: int | None
    licence: str | None
    language: str | None = None
    status: str
    filename: str | None
    created_at: datetime | None
    deleted: bool


class SourceDetail(SourceOut):
    abstract: str | None = None
    sections: list[str] = []
    figures: list[dict[str, Any]] = []
    references: int = 0
    licence_evidence: str | None = None


class SourcePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: str | None = Field(None, min_length=1, max_length=2000)
    authors: list[Annotated[str, Field(max_length=500)]] | None = Field(None, max_length=500)
    published: str | None = Field(None, max_length=40)
    abstract: str | None = Field(None, max_length=100_000)
    language: str | None = Field(None, max_length=20)
    licence: str | None = Field(None, max_length=64, description="an SPDX id, e.g. CC-BY-4.0")


class ArtifactOut(BaseModel):
    artifact_id: str
    kind: str
    title: str
    status: str
    job_id: str | None
    duration_s: float | None
    files: dict[str, str]  # role -> download path
    created_at: datetime
    meta: dict[str, Any]


IMPORT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ImportRequest.model_json_schema()},
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"},
                       "kind": {"type": "string"},
                       "priority": {"type": "integer", "minimum": 1, "maximum": 10}}}}}}}


async def _precheck_url(url: str, settings: Settings) -> None:
    """Refuse bad and private-network URLs now (the fetch node checks every hop again)."""
    try:
        await check_url(url, settings)
    except BadInput:
        raise
    except (Retryable, OSError, RuntimeError):
        return  # resolution failed for now: the job retries it


def _upload_kind(head: bytes, filename: str, content_type: str | None) -> str:
    try:
        kind = detect_kind(head, filename, content_type)
    except BadInput as exc:
        raise HTTPException(415, str(exc)) from None
    if kind not in IMPORTABLE:
        raise HTTPException(415, f"unsupported upload type {kind} "
                                 f"(supported: {', '.join(sorted(IMPORTABLE))})")
    return kind


def _priority(value: Any) -> int:
    try:
        priority = int(value)
    except (TypeError, ValueError):
        raise HTTPException(422, "priority must be an integer from 1 to 10") from None
    if not 1 <= priority <= 10:
        raise HTTPException(422, "priority must be an integer from 1 to 10")
    return priority


def _kind(value: Any) -> str | None:
    if value in (None, ""):
        return None
    if value not in KINDS:
        raise HTTPException(422, f"unknown kind {value!r} (known: {', '.join(KINDS)})")
    return str(value)


@router.post("/api/content/import", status_code=202, response_model=JobOut,
             openapi_extra=IMPORT_BODY)
async def import_content(request: Request, settings: SettingsDep, owner: Owner) -> JobOut:
    """Import a URL (JSON body) or an uploaded file (multipart `file`); returns the job."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    disabled = sorted(plugins.disabled(settings))
    if ctype == "application/json":
        try:
            req = ImportRequest.model_validate_json(await request.body())
        except ValidationError as exc:
            raise HTTPException(422, first_error(exc)) from None
        await _precheck_url(req.url, settings)
        inp: dict[str, Any] = {"source": req.url, "disabled": disabled}
        if _kind(req.kind):
            inp["kind"] = req.kind
        job = await executor.submit(settings, "ingest", inp, owner=owner, priority=req.priority)
        return job_out(job)
    if ctype != "multipart/form-data":
        raise HTTPException(415, "send application/json {url} or multipart/form-data with a file")
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > settings.max_upload_bytes + 65536:
        raise HTTPException(413, f"upload larger than {settings.max_upload_bytes} bytes")
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception as exc:  # malformed multipart bodies
        raise HTTPException(400, f"malformed multipart body: {exc}") from None
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise HTTPException(422, "multipart body needs a 'file' part")
    data = await upload.read(settings.max_upload_bytes + 1)
    if len(data) > settings.max_upload_bytes:
        raise HTTPException(413, f"upload larger than {settings.max_upload_bytes} bytes")
    if not data.strip():
        raise HTTPException(400, "empty file")
    filename = safe_filename(upload.filename or "", "upload")
    kind_hint = _kind(form.get("kind"))
    priority = _priority(form.get("priority") or 5)
    with limits.applied(settings):
        limits.check_upload(_upload_kind(data[:65536], filename, upload.content_type), data)
    job_id = str(uuid.uuid4())
    key = f"staging/{job_id}/original"
    await objects(settings).put(key, data)
    inp = {"source": filename, "staged_key": key, "filename": filename, "disabled": disabled}
    if kind_hint:
        inp["kind"] = kind_hint
    try:
        job = await executor.submit(settings, "ingest", inp, owner=owner, priority=priority,
                                    job_id=job_id)
    except BaseException:
        await objects(settings).delete_prefix(f"staging/{job_id}/")
        raise
    return job_out(job)


@router.get("/api/content", response_model=list[SourceOut])
async def list_content(
    settings: SettingsDep, owner: Owner,
    kind: Annotated[str | None, Query(max_length=20)] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    author: Annotated[str | None, Query(max_length=200)] = None,
    licence: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, Any]]:
    """The caller's sources, oldest first."""
    return await ops.list_sources(settings, owner, kind=kind, status=status, author=author,
                                    licence=licence, limit=limit, offset=offset)


@router.get("/api/content/{source_id}", response_model=SourceDetail, responses=NOT_YOURS)
async def get_content(source_id: str, settings: SettingsDep, owner: Owner) -> dict[str, Any]:
    """One source with its sections and figures."""
    return await ops.get_source(settings, source_id, owner)


@router.patch("/api/content/{source_id}", response_model=SourceOut,
              responses={**NOT_YOURS, 422: {"description": "unknown field or licence"}})
async def update_content(source_id: str, patch: SourcePatch, settings: SettingsDep,
                         owner: Owner) -> dict[str, Any]:
    """Correct a source's metadata (title, authors, published, abstract, language, licence);
    the corrections are kept when the source is reprocessed."""
    try:
        return await update_source(settings, source_id, owner, patch.model_dump(
            exclude_unset=True))
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None


@router.delete("/api/content/{source_id}", responses={
    **NOT_YOURS, 400: {"description": "hard delete of a source artifacts depend on, without "
                                      "cascade"},
    409: {"description": "an unfinished job uses the source"}})
async def delete_content(
    source_id: str, settings: SettingsDep, owner: Owner,
    hard_delete: Annotated[bool, Query(description="Remove it from every store.")] = False,
    cascade: Annotated[bool, Query(description=(
        "With hard_delete: remove it even when artifacts were made from it; they are marked "
        "orphaned (their files stay)."))] = False,
) -> dict[str, Any]:
    """Soft delete hides the source; `hard_delete=true` removes it from every store."""
    return await catalog.delete_source(settings, source_id, owner=owner, hard=hard_delete,
                                       cascade=cascade)


@router.post("/api/content/{source_id}/reprocess", status_code=202, response_model=JobOut,
             responses=NOT_YOURS)
async def reprocess_content(source_id: str, settings: SettingsDep, owner: Owner,
                            priority: Annotated[int, Query(ge=1, le=10)] = 5) -> JobOut:
    """Extract the stored original again (after an importer upgrade); metadata the owner
    corrected (PATCH) is kept."""
    inp = await ops.check_reprocess(settings, source_id, owner)
    return job_out(await executor.submit(settings, "ingest", inp, owner=owner,
                                         priority=priority))


@router.get("/api/search", response_model=list[SearchHit])
async def search(settings: SettingsDep, owner: Owner,
                 req: Annotated[SearchRequest, Query()]) -> list[dict[str, Any]]:
    """The caller's chunks that answer `q`: hybrid (meaning + exact terms, fused by RRF) by
    default; each hit names the `mode` that ran. Repeat `source`, `kind`, `language`,
    `licence` to filter."""
    hits = await catalog.search(settings, req.q, owner=owner, **req.filters())
    return [h.as_dict() for h in hits]


@router.post("/api/content/export", status_code=202, response_model=JobOut,
             responses={403: {"description": "commercial use refused by a source's licence"},
                        404: {"description": "a source is not in your library"},
                        422: {"description": "unknown or disabled format, bad parameters"},
                        429: {"description": "daily export quota reached"}})
async def export(req: ExportRequest, settings: SettingsDep, owner: Owner) -> JobOut:
    """Generate content (`format`: an installed exporter) from library sources; returns the job."""
    try:
        inp = await ops.check_export(settings, owner, req)
    except BadInput as exc:
        raise HTTPException(422, str(exc)) from None
    await server_limits.charge_export(settings, owner, req.format)
    job = await executor.submit(settings, req.format, inp, owner=owner, priority=req.priority)
    return job_out(job)


def artifact_out(art: Any) -> dict[str, Any]:
    """An artifact with each file's download path."""
    return views.artifact_out(art, {role: f"/api/artifacts/{art.id}/files/{role}"
                                    for role in art.files or {}})


@router.get("/api/artifacts", response_model=list[ArtifactOut], tags=["artifacts"])
async def list_artifacts(settings: SettingsDep, owner: Owner,
                         kind: Annotated[str | None, Query(max_length=20)] = None,
                         limit: Annotated[int, Query(ge=1, le=500)] = 50,
                         offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
                         ) -> list[dict[str, Any]]:
    async with db.session(settings) as s:
        rows = await artifacts_db.list_artifacts(s, owner, kind=kind, limit=limit, offset=offset)
    return [artifact_out(a) for a in rows]


@router.get("/api/artifacts/{artifact_id}", response_model=ArtifactOut, tags=["artifacts"],
            responses=NOT_YOURS)
async def get_artifact(artifact_id: str, settings: SettingsDep, owner: Owner) -> dict[str, Any]:
    async with db.session(settings) as s:
        return artifact_out(await artifacts_db.get_artifact(s, artifact_id, owner))


MEDIA = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".json": "application/json",
         ".md": "text/markdown", ".txt": "text/plain", ".html": "text/html",
         ".mp4": "video/mp4", ".pdf": "application/pdf", ".vtt": "text/vtt",
         ".srt": "application/x-subrip", ".png": "image/png", ".csv": "text/csv",
         ".epub": "application/epub+zip", ".apkg": "application/apkg",
         ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation"}


@router.get("/api/artifacts/{artifact_id}/files/{role}", tags=["artifacts"],
            responses={200: {"content": {"application/octet-stream": {}}}, **NOT_YOURS})
async def download_artifact(artifact_id: str, role: str, settings: SettingsDep,
                            owner: Owner) -> Response:
    """One file of an artifact (audio, transcript, ...) by role."""
    async with db.session(settings) as s:
        art = await artifacts_db.get_artifact(s, artifact_id, owner)
    key = (art.files or {}).get(role)
    if not isinstance(key, str):
        raise HTTPException(404, f"artifact {artifact_id} has no {role!r} file "
                                 f"(has: {', '.join(sorted(art.files or {}))})")
    name = key.rsplit("/", 1)[-1]
    media = MEDIA.get("." + name.rsplit(".", 1)[-1].lower(), "application/octet-stream")
    store = objects(settings)
    if isinstance(store, LocalObjects):
        path = store.path(key)
        if not path.is_file():
            raise HTTPException(404, f"file {role!r} of artifact {artifact_id} is missing")
        return FileResponse(path, media_type=media, filename=name)
    data = await store.get(key)
    return Response(data, media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})
