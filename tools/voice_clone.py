"""ElevenLabs instant voice cloning: `POST /v1/voices/add` with a name and audio samples; the
new voice is then used as `elevenlabs:<voice_id>` like any other ElevenLabs voice."""

from __future__ import annotations

import httpx

from storage.errors import ConfigError, Forbidden
from storage.settings import Settings
from tools.platform_http import TIMEOUT, send

SAMPLE_TYPES = {".mp3": "audio/mpeg", ".wav": "audio/wav", ".m4a": "audio/mp4",
                ".ogg": "audio/ogg", ".flac": "audio/flac", ".webm": "audio/webm"}


def api_key(settings: Settings) -> str:
    if settings.elevenlabs_api_key is None:
        raise ConfigError("voice cloning needs LIBRARIAN_ELEVENLABS_API_KEY (an ElevenLabs "
                          "account with instant voice cloning)")
    return settings.elevenlabs_api_key.get_secret_value()


async def clone(settings: Settings, name: str, samples: list[tuple[str, bytes, str]],
                description: str | None = None) -> str:
    """Create the voice from (file name, bytes, media type) samples; its library voice id."""
    key = api_key(settings)
    data = {"name": name, **({"description": description} if description else {})}
    files = [("files", (fn, body, mime)) for fn, body, mime in samples]
    async with httpx.AsyncClient(timeout=TIMEOUT) as http:
        resp = await send(http, "POST", f"{settings.elevenlabs_url}/v1/voices/add", None,
                          platform="ElevenLabs", what="voices/add", data=data, files=files,
                          headers={"xi-api-key": key}, passthrough=(401,))
    if resp.status_code == 401:
        raise Forbidden("ElevenLabs rejected LIBRARIAN_ELEVENLABS_API_KEY (401)")
    voice_id = resp.json().get("voice_id")
    if not voice_id:
        raise Forbidden(f"ElevenLabs created no voice: {resp.text[:200]}")
    return f"elevenlabs:{voice_id}"
