"""Cloud video clips from Kling, Veo, Runway or Synthesia behind one interface: submit, poll, fetch.

Keys come from the environment (`LIBRARIAN_KLING_API_KEY`, `..._VEO_API_KEY`,
`..._RUNWAY_API_KEY`, `..._SYNTHESIA_API_KEY`). `route` picks a backend by the rule of the design
(avatar -> Synthesia; longer than 120 s -> Veo; cinematic and shorter than 30 s -> Kling; low
budget -> Runway; otherwise Kling). `generate` never raises for a backend problem: without a key,
or when the backend fails, it returns no clip and says why, and the caller renders the scene
locally. The request shapes follow each vendor's public REST documentation.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from storage.settings import Settings

POLL_S = 5.0
TIMEOUT_S = 600.0


@dataclass(frozen=True)
class ClipRequest:
    prompt: str
    seconds: float
    aspect: str = "16:9"
    avatar: bool = False
    cinematic: bool = False
    budget: str = "normal"  # "low" | "normal"


@dataclass(frozen=True)
class ClipResult:
    path: Path | None  # None: render locally
    backend: str
    note: str


class BackendError(Exception):
    """The backend refused or failed the job (the scene falls back to the local renderer)."""


class Backend(ABC):
    """One vendor's API: `submit` returns a job id, `poll` a download URL once the clip is done."""

    name = ""
    setting = ""
    base_url = ""

    def __init__(self, key: str, client: httpx.AsyncClient) -> None:
        self.key = key
        self.client = client

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    @abstractmethod
    async def submit(self, req: ClipRequest) -> str:
        """Start a clip; returns the vendor's job id."""

    @abstractmethod
    async def poll(self, job: str) -> str | None:
        """The clip's URL when done, None while running; BackendError when it failed."""

    async def _json(self, method: str, url: str, **kw: Any) -> dict[str, Any]:
        resp = await self.client.request(method, url, headers=self.headers(), **kw)
        if resp.status_code >= 400:
            raise BackendError(f"{self.name}: HTTP {resp.status_code}: {resp.text[:200]}")
        data = resp.json()
        if not isinstance(data, dict):
            raise BackendError(f"{self.name}: unexpected response {str(data)[:200]}")
        return data

    async def download(self, url: str, dest: Path) -> Path:
        resp = await self.client.get(url, headers=self.download_headers(), follow_redirects=True)
        if resp.status_code >= 400 or not resp.content:
            raise BackendError(f"{self.name}: download failed (HTTP {resp.status_code})")
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_suffix(".part")
        tmp.write_bytes(resp.content)
        tmp.replace(dest)
        return dest

    def download_headers(self) -> dict[str, str]:
        return {}


class Kling(Backend):
    """Kling text-to-video: POST /v1/videos/text2video, GET /v1/videos/text2video/{task_id}."""

    name, setting, base_url = "kling", "kling_api_key", "https://api.klingai.com"

    async def submit(self, req: ClipRequest) -> str:
        body = {"model_name": "kling-v1", "prompt": req.prompt, "aspect_ratio": req.aspect,
                "duration": "10" if req.seconds > 5 else "5", "mode": "std"}
        data = await self._json("POST", f"{self.base_url}/v1/videos/text2video", json=body)
        if data.get("code", 0) != 0:
            raise BackendError(f"kling: {data.get('message', data)}")
        return str(data["data"]["task_id"])

    async def poll(self, job: str) -> str | None:
        data = await self._json("GET", f"{self.base_url}/v1/videos/text2video/{job}")
        task = data.get("data") or {}
        status = task.get("task_status")
        if status == "failed":
            raise BackendError(f"kling: {task.get('task_status_msg', 'task failed')}")
        if status == "succeed":
            return str(task["task_result"]["videos"][0]["url"])
        return None


class Veo(Backend):
    """Google Veo through the Gemini API: predictLongRunning, then the operation until done."""

    name, setting = "veo", "veo_api_key"
    base_url = "https://generativelanguage.googleapis.com/v1beta"
    model = "veo-2.0-generate-001"

    def headers(self) -> dict[str, str]:
        return {"x-goog-api-key": self.key}

    def download_headers(self) -> dict[str, str]:
        return self.headers()

    async def submit(self, req: ClipRequest) -> str:
        body = {"instances": [{"prompt": req.prompt}],
                "parameters": {"aspectRatio": req.aspect,
                               "durationSeconds": int(min(8, max(5, req.seconds)))}}
        data = await self._json("POST", f"{self.base_url}/models/{self.model}:predictLongRunning",
                                json=body)
        return str(data["name"])

    async def poll(self, job: str) -> str | None:
        data = await self._json("GET", f"{self.base_url}/{job}")
        if not data.get("done"):
            return None
        if "error" in data:
            raise BackendError(f"veo: {data['error'].get('message', data['error'])}")
        samples = data["response"]["generateVideoResponse"]["generatedSamples"]
        return str(samples[0]["video"]["uri"])


class Runway(Backend):
    """Runway: POST /v1/text_to_video, GET /v1/tasks/{id} (X-Runway-Version header)."""

    name, setting, base_url = "runway", "runway_api_key", "https://api.dev.runwayml.com"

    def headers(self) -> dict[str, str]:
        return {**super().headers(), "X-Runway-Version": "2024-11-06"}

    async def submit(self, req: ClipRequest) -> str:
        ratio = "1280:720" if req.aspect == "16:9" else "720:1280"
        body = {"model": "gen4_turbo", "promptText": req.prompt, "ratio": ratio,
                "duration": 10 if req.seconds > 5 else 5}
        data = await self._json("POST", f"{self.base_url}/v1/text_to_video", json=body)
        return str(data["id"])

    async def poll(self, job: str) -> str | None:
        data = await self._json("GET", f"{self.base_url}/v1/tasks/{job}")
        status = data.get("status")
        if status in {"FAILED", "CANCELLED"}:
            raise BackendError(f"runway: {data.get('failure', status)}")
        if status == "SUCCEEDED":
            return str(data["output"][0])
        return None


class Synthesia(Backend):
    """Synthesia avatar videos: POST /v2/videos, GET /v2/videos/{id} until complete."""

    name, setting, base_url = "synthesia", "synthesia_api_key", "https://api.synthesia.io"

    def headers(self) -> dict[str, str]:
        return {"Authorization": self.key}

    async def submit(self, req: ClipRequest) -> str:
        body = {"test": False, "title": req.prompt[:80], "visibility": "private",
                "aspectRatio": req.aspect,
                "input": [{"scriptText": req.prompt, "avatar": "anna_costume1_cameraA",
                           "background": "off_white"}]}
        data = await self._json("POST", f"{self.base_url}/v2/videos", json=body)
        return str(data["id"])

    async def poll(self, job: str) -> str | None:
        data = await self._json("GET", f"{self.base_url}/v2/videos/{job}")
        status = data.get("status")
        if status in {"error", "rejected"}:
            raise BackendError(f"synthesia: video {status}")
        if status == "complete":
            return str(data["download"])
        return None


BACKENDS: dict[str, type[Backend]] = {b.name: b for b in (Kling, Veo, Runway, Synthesia)}


def route(req: ClipRequest) -> str:
    """The backend the design's routing rule picks for a request."""
    if req.avatar:
        return "synthesia"
    if req.seconds > 120:
        return "veo"
    if req.cinematic and req.seconds < 30:
        return "kling"
    if req.budget == "low":
        return "runway"
    return "kling"


def key_for(settings: Settings, name: str) -> str | None:
    secret = getattr(settings, BACKENDS[name].setting, None)
    value = secret.get_secret_value() if secret is not None else ""
    return value or None


def configured(settings: Settings) -> list[str]:
    return [name for name in BACKENDS if key_for(settings, name)]


async def generate(settings: Settings, req: ClipRequest, *, prefer: str | None = None,
                   cache: Path, transport: httpx.AsyncBaseTransport | None = None,
                   poll_s: float = POLL_S, timeout_s: float = TIMEOUT_S) -> ClipResult:
    """A clip from a backend (cached by request), or no clip and the reason for the fallback."""
    name = prefer if prefer in BACKENDS else route(req)
    key = key_for(settings, name)
    env = f"LIBRARIAN_{BACKENDS[name].setting.upper()}"
    if key is None:
        return ClipResult(None, name, f"{name}: no {env} set; scene rendered locally")
    digest = hashlib.sha256(f"{name}|{req}".encode()).hexdigest()[:24]
    dest = cache / f"{name}-{digest}.mp4"
    if dest.is_file():
        return ClipResult(dest, name, f"{name}: clip from cache")
    async with httpx.AsyncClient(transport=transport, timeout=60) as client:
        backend = BACKENDS[name](key, client)
        try:
            job = await backend.submit(req)
            deadline = time.monotonic() + timeout_s
            url = await backend.poll(job)
            while url is None:
                if time.monotonic() > deadline:
                    raise BackendError(f"{name}: job {job} not done after {timeout_s:.0f}s")
                await asyncio.sleep(poll_s)
                url = await backend.poll(job)
            await backend.download(url, dest)
        except (BackendError, httpx.HTTPError, KeyError, IndexError, TypeError,
                ValueError) as exc:
            return ClipResult(None, name, f"{name} failed ({exc}); scene rendered locally")
    return ClipResult(dest, name, f"{name}: clip generated (job {job})")
