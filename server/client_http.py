"""The HTTP client: the same `Client` over the REST API (LIBRARIAN_API_URL, bearer
LIBRARIAN_API_KEY). HTTP errors become the library's error types with the server's reason."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import httpx

from server.client_api import (
    SETTLED,
    Client,
    Event,
    JobAction,
    Listener,
    ProvenanceKind,
    ProvenanceView,
    export_body,
)
from storage.errors import BadInput, Conflict, Forbidden, NotFound, Retryable, TooLarge
from storage.settings import Settings

if TYPE_CHECKING:
    from agents.publish_requests import TrendsRequest
    from agents.requests import RunFields, SearchRequest
    from agents.script import ScriptEdit

POLL_S = 0.5
ERRORS: dict[int, type[Exception]] = {401: Forbidden, 403: Forbidden, 404: NotFound,
                                      409: Conflict, 413: TooLarge, 429: Retryable}


def error_of(resp: httpx.Response) -> Exception:
    """The library error for an HTTP error response, with the server's one-line reason."""
    try:
        detail = resp.json().get("detail")
    except ValueError:
        detail = resp.text
    msg = detail if isinstance(detail, str) else json.dumps(detail)
    err = ERRORS.get(resp.status_code) or (Retryable if resp.status_code >= 500 else BadInput)
    return err(f"{resp.status_code}: {msg}")


def _drop_none(params: dict[str, Any] | None) -> dict[str, Any] | None:
    return {k: v for k, v in params.items() if v is not None} if params else None


class HttpClient:
    """`Client` over a Librarian server."""

    def __init__(self, settings: Settings) -> None:
        headers = {}
        if settings.api_key:
            headers["Authorization"] = f"Bearer {settings.api_key.get_secret_value()}"
        self.url = str(settings.api_url)
        self.http = httpx.AsyncClient(base_url=self.url, headers=headers, timeout=60.0)

    async def call(self, method: str, path: str, *, params: dict[str, Any] | None = None,
                   **kwargs: Any) -> Any:
        try:
            resp = await self.http.request(method, path, params=_drop_none(params), **kwargs)
        except httpx.TransportError as exc:
            raise Retryable(f"cannot reach {self.url}: {exc}") from None
        if resp.status_code >= 400:
            raise error_of(resp)
        return resp.json() if resp.content else None

    async def _upload(self, path: Path, url: str, data: dict[str, str]) -> Any:
        path = path.expanduser()
        if not path.is_file():
            raise BadInput(f"no such file: {path}")
        with path.open("rb") as f:
            return await self.call("POST", url, files={"file": (path.name, f)}, data=data)

    async def import_item(self, item: str, *, kind: str | None = None,
                          priority: int = 5) -> dict[str, Any]:
        if "://" in item:
            return await self.call("POST", "/api/content/import",  # type: ignore[no-any-return]
                                   json={"url": item, "kind": kind, "priority": priority})
        data = {"priority": str(priority), **({"kind": kind} if kind else {})}
        return await self._upload(Path(item), "/api/content/import",  # type: ignore[no-any-return]
                                  data)

    async def wait(self, job_id: str, listener: Listener | None = None) -> dict[str, Any]:
        """Poll the job until it ends; each change is passed on as a progress/status event."""
        last: tuple[Any, ...] = ()
        while True:
            job: dict[str, Any] = await self.job(job_id)
            now = (job["status"], job["stage"], job["progress"], job["message"])
            if listener is not None and now != last:
                for event in ({"job_id": job_id, "type": "progress", "stage": job["stage"] or "",
                               "progress": job["progress"], "message": job["message"] or ""},
                              {"job_id": job_id, "type": "status", "status": job["status"]}):
                    res = listener(event)
                    if res is not None:
                        await res
            last = now
            if job["status"] in SETTLED:
                return job
            await asyncio.sleep(POLL_S)

    async def sources(self, *, kind: str | None = None, status: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
        return await self.call("GET", "/api/content",  # type: ignore[no-any-return]
                               params={"kind": kind, "status": status, "limit": limit})

    async def source(self, source_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/api/content/{source_id}")  # type: ignore[no-any-return]

    async def update_source(self, source_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        return await self.call("PATCH", f"/api/content/{source_id}",  # type: ignore[no-any-return]
                               json=patch)

    async def delete_source(self, source_id: str, *, hard: bool = False,
                            cascade: bool = False) -> dict[str, Any]:
        return await self.call(  # type: ignore[no-any-return]
            "DELETE", f"/api/content/{source_id}",
            params={"hard_delete": str(hard).lower(), "cascade": str(cascade).lower()})

    async def reprocess(self, source_id: str, *, priority: int = 5) -> dict[str, Any]:
        return await self.call("POST", f"/api/content/{source_id}/reprocess",  # type: ignore
                               params={"priority": priority})

    async def search(self, req: SearchRequest) -> list[dict[str, Any]]:
        return await self.call("GET", "/api/search",  # type: ignore[no-any-return]
                               params=req.model_dump())

    async def jobs(self, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        return await self.call("GET", "/api/jobs",  # type: ignore[no-any-return]
                               params={"status": status, "limit": limit})

    async def job(self, job_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/api/jobs/{job_id}")  # type: ignore[no-any-return]

    async def trace(self, job_id: str) -> list[dict[str, Any]]:
        return await self.call("GET", f"/api/jobs/{job_id}/trace")  # type: ignore

    async def job_action(self, job_id: str, action: JobAction) -> dict[str, Any]:
        if action == "cancel":
            return await self.call("DELETE", f"/api/jobs/{job_id}")  # type: ignore
        return await self.call("POST", f"/api/jobs/{job_id}/{action}")  # type: ignore

    async def script(self, job_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/api/jobs/{job_id}/script")  # type: ignore

    async def edit_script(self, job_id: str, edit: ScriptEdit) -> dict[str, Any]:
        return await self.call("PUT", f"/api/jobs/{job_id}/script",  # type: ignore
                               json=edit.model_dump(exclude_none=True))

    async def export(self, request: RunFields | dict[str, Any], *,
                     priority: int = 5) -> dict[str, Any]:
        return await self.call("POST", "/api/content/export",  # type: ignore[no-any-return]
                               json=export_body(request, priority))

    async def artifacts(self, *, kind: str | None = None, limit: int = 50
                        ) -> list[dict[str, Any]]:
        return await self.call("GET", "/api/artifacts",  # type: ignore[no-any-return]
                               params={"kind": kind, "limit": limit})

    async def artifact(self, artifact_id: str) -> dict[str, Any]:
        return await self.call("GET", f"/api/artifacts/{artifact_id}")  # type: ignore

    async def download(self, artifact_id: str, role: str, dest: Path | None = None) -> Path:
        files = (await self.artifact(artifact_id))["files"]
        if role not in files:
            raise NotFound(f"artifact {artifact_id} has no {role!r} file "
                           f"(has: {', '.join(sorted(files))})")
        async with self.http.stream("GET", files[role]) as resp:
            if resp.status_code >= 400:
                await resp.aread()
                raise error_of(resp)
            name = resp.headers.get("content-disposition", "").rpartition("filename=")[2]
            dest = dest or Path.cwd() / (name.strip('"') or f"{artifact_id}-{role}")
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("wb") as f:
                async for block in resp.aiter_bytes():
                    f.write(block)
        return dest

    async def upload_image(self, path: Path) -> str:
        return str((await self._upload(path, "/api/assets", {}))["image_id"])

    async def provenance(self, kind: ProvenanceKind, item_id: str, view: ProvenanceView, *,
                         depth: int = 1) -> Any:
        return await self.call("GET", f"/api/provenance/{kind}/{item_id}/{view}",
                               params={"depth": depth} if view == "citations" else None)

    async def regenerate(self, artifact_id: str, overrides: dict[str, Any],
                         reason: str | None = None) -> dict[str, Any]:
        return await self.call(  # type: ignore[no-any-return]
            "POST", f"/api/artifacts/{artifact_id}/regenerate",
            json={"parameters": overrides, "reason": reason})

    async def publish(self, platform: str, artifact_id: str,
                      params: dict[str, Any]) -> dict[str, Any]:
        return await self.call(  # type: ignore[no-any-return]
            "POST", f"/api/publish/{platform}/{artifact_id}", json=params)

    async def trends(self, req: TrendsRequest) -> dict[str, Any]:
        return await self.call(  # type: ignore[no-any-return]
            "GET", "/api/trends", params=req.model_dump(exclude_none=True))

    async def trend_sources(self, trend_id: int) -> dict[str, Any]:
        return await self.call("GET", f"/api/trends/{trend_id}/sources")  # type: ignore[no-any-return]

    async def analytics(self, artifact_id: str | None = None, *,
                        refresh: bool = False) -> dict[str, Any]:
        path = f"/api/analytics/video/{artifact_id}" if artifact_id else \
            "/api/analytics/dashboard"
        return await self.call("GET", path,  # type: ignore[no-any-return]
                               params={"refresh": "true" if refresh else None})

    async def plugins(self, group: Literal["import", "export"]) -> list[dict[str, Any]]:
        return await self.call("GET", f"/api/plugins/{group}")  # type: ignore[no-any-return]

    async def set_plugin(self, plugin_id: str, enabled: bool) -> dict[str, Any]:
        return await self.call(  # type: ignore[no-any-return]
            "POST", f"/api/plugins/{plugin_id}/{'enable' if enabled else 'disable'}")

    async def chat(self, message: str, attachments: list[str], thread_id: str
                   ) -> AsyncIterator[Event]:
        """POST /api/chat, its Server-Sent Events parsed; local files are uploaded first."""
        items = []
        for item in attachments:
            if "://" not in item and Path(item).is_file():
                job = await self.wait((await self.import_item(item))["job_id"])
                if job["status"] != "completed":
                    raise BadInput(f"could not import {item}: {job['error']}")
                item = job["result"]["source_id"]
            items.append(item)
        body = {"thread_id": thread_id, "message": message, "attachments": items}
        async with self.http.stream("POST", "/api/chat", json=body, timeout=None) as resp:
            if resp.status_code >= 400:
                await resp.aread()
                raise error_of(resp)
            async for line in resp.aiter_lines():
                if line.startswith("data:"):
                    event = json.loads(line[5:].strip())
                    if "type" in event:
                        yield event

    async def aclose(self) -> None:
        await self.http.aclose()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
