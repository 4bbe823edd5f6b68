"""The CLI's client for a remote server (LIBRARIAN_API_URL, bearer LIBRARIAN_API_KEY)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx

from storage.errors import BadInput, Forbidden, LibrarianError, NotFound, Retryable
from storage.settings import Settings

TERMINAL = {"completed", "failed", "cancelled"}


def _client(settings: Settings) -> httpx.Client:
    headers = {}
    if settings.api_key:
        headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
    return httpx.Client(base_url=str(settings.api_url), headers=headers, timeout=60.0)


def call(settings: Settings, method: str, path: str, **kwargs: Any) -> Any:
    """One request; HTTP errors become the library's error types with the server's reason."""
    with _client(settings) as c:
        try:
            resp = c.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise Retryable(f"cannot reach {settings.api_url}: {exc}") from None
    if resp.status_code >= 400:
        try:
            detail = resp.json().get("detail")
        except ValueError:
            detail = resp.text
        msg = detail if isinstance(detail, str) else json.dumps(detail)
        err = {404: NotFound, 403: Forbidden, 401: Forbidden}.get(resp.status_code)
        if err is None:
            err = Retryable if resp.status_code >= 500 else BadInput
        raise err(f"{resp.status_code}: {msg}")
    return resp.json() if resp.content else None


def import_item(settings: Settings, item: str, kind: str | None, priority: int) -> dict[str, Any]:
    """Start importing a URL or upload a local file; returns the job."""
    if "://" in item:
        return call(settings, "POST", "/api/content/import",  # type: ignore[no-any-return]
                    json={"url": item, "kind": kind, "priority": priority})
    path = Path(item).expanduser()
    if not path.is_file():
        raise BadInput(f"no such file: {item}")
    data: dict[str, str] = {"priority": str(priority)}
    if kind:
        data["kind"] = kind
    with path.open("rb") as f:
        return call(settings, "POST", "/api/content/import",  # type: ignore[no-any-return]
                    files={"file": (path.name, f)}, data=data)


async def wait(settings: Settings, job_id: str, poll_s: float = 0.5) -> dict[str, Any]:
    """Poll the job until it ends."""
    while True:
        job: dict[str, Any] = await asyncio.to_thread(call, settings, "GET", f"/api/jobs/{job_id}")
        if job["status"] in TERMINAL:
            return job
        await asyncio.sleep(poll_s)


def is_remote(settings: Settings) -> bool:
    return bool(settings.api_url)


__all__ = ["LibrarianError", "call", "import_item", "is_remote", "wait"]
