"""Owner configuration: the brand voice, script templates, and ElevenLabs voice cloning."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from starlette.datastructures import UploadFile

from agents.brand import BrandVoice
from server.auth import Owner, SettingsDep
from services import brand
from tools import voice_clone

router = APIRouter(tags=["config"])
CLONE_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["name", "file"], "properties": {
        "name": {"type": "string", "maxLength": 100},
        "description": {"type": "string", "maxLength": 500},
        "file": {"type": "string", "format": "binary"}}}}}}}


@router.get("/api/config/brand-voice", response_model=BrandVoice)
async def get_brand_voice(settings: SettingsDep, owner: Owner) -> BrandVoice:
    """Your brand voice: tone, words to use and avoid, intro/outro lines, accent colour, logo."""
    return await brand.get(settings, owner)


@router.put("/api/config/brand-voice", response_model=BrandVoice,
            responses={400: {"description": "the logo is not an image of yours"}})
async def put_brand_voice(profile: BrandVoice, settings: SettingsDep,
                          owner: Owner) -> BrandVoice:
    """Replace your brand voice: publishing puts the intro/outro around every description and
    caption, adds the words to use to the tags and refuses a title with a word to avoid;
    videos take the logo when a request names none."""
    return await brand.put(settings, owner, profile)


@router.get("/api/config/templates")
async def templates(owner: Owner) -> list[dict[str, Any]]:
    """Script templates: every export style with the parameters it starts from."""
    return brand.templates()


@router.post("/api/config/voice-clone", status_code=201, openapi_extra=CLONE_UPLOAD,
             responses={400: {"description": "no audio sample, or a bad name"},
                        415: {"description": "not a multipart body"},
                        503: {"description": "LIBRARIAN_ELEVENLABS_API_KEY is not set"}})
async def clone_voice(request: Request, settings: SettingsDep, owner: Owner
                      ) -> dict[str, Any]:
    """Clone a voice from an audio sample with ElevenLabs; use the returned `voice` id in
    `voices` of a podcast or video. Refused without LIBRARIAN_ELEVENLABS_API_KEY."""
    voice_clone.api_key(settings)  # no key: refuse before reading the upload
    if request.headers.get("content-type", "").split(";")[0].strip() != "multipart/form-data":
        raise HTTPException(415, "send multipart/form-data with 'name' and a 'file' part")
    try:
        form = await request.form(max_files=3, max_fields=4)
    except Exception as exc:  # malformed multipart bodies
        raise HTTPException(400, f"malformed multipart body: {exc}") from None
    name = str(form.get("name") or "").strip()
    if not name or len(name) > 100:
        raise HTTPException(400, "give the voice a 'name' (1 to 100 characters)")
    samples = []
    for part in form.getlist("file"):
        if not isinstance(part, UploadFile):
            continue
        suffix = PurePath(part.filename or "").suffix.lower()
        if suffix not in voice_clone.SAMPLE_TYPES:
            raise HTTPException(400, f"{part.filename}: not an audio sample "
                                     f"({', '.join(voice_clone.SAMPLE_TYPES)})")
        samples.append((part.filename or f"sample{suffix}", await part.read(),
                        voice_clone.SAMPLE_TYPES[suffix]))
    if not samples:
        raise HTTPException(400, "multipart body needs a 'file' part (an audio sample)")
    desc = form.get("description")
    voice = await voice_clone.clone(settings, name, samples,
                                    str(desc)[:500] if isinstance(desc, str) else None)
    return {"voice": voice, "name": name}
