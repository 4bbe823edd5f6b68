"""The in-process client: the library's operations called directly, jobs run in this process.

Module imports stay light: the storage layer, the runner, LangGraph and the vector store are
imported by the methods that use them. Reading a home that has no database yet (the embedded
default before the first import) answers from that fact alone, without creating one.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

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
from storage.errors import BadInput, NotFound

if TYPE_CHECKING:
    from agents.publish_requests import TrendsRequest
    from agents.requests import RunFields, SearchRequest
    from agents.script import ScriptEdit
    from storage.settings import Settings

POLL_S = 0.5


class LocalClient:
    """`Client` over this process: the embedded stores or the configured services."""

    def __init__(self, settings: Settings, *, owner: str = "local") -> None:
        self.settings, self.owner = settings, owner

    def _empty(self) -> bool:
        """No database yet: the embedded SQLite file is not there (nothing was imported)."""
        url = self.settings.db_url
        return url.startswith("sqlite") and not Path(url.split(":///", 1)[-1]).exists()

    async def _submit(self, graph: str, inp: dict[str, Any], priority: int) -> dict[str, Any]:
        from server import runner

        job_id = await runner.submit(self.settings, graph, inp, owner=self.owner,
                                     priority=priority)
        return await self.job(job_id)

    async def import_item(self, item: str, *, kind: str | None = None,
                          priority: int = 5) -> dict[str, Any]:
        from server.operations import ingest_input

        if "://" not in item and not Path(item).expanduser().is_file():
            raise BadInput(f"no such file: {item}")
        source = item if "://" in item else str(Path(item).expanduser().resolve())
        return await self._submit("ingest", ingest_input(self.settings, source=source,
                                                         kind=kind), priority)

    async def wait(self, job_id: str, listener: Listener | None = None) -> dict[str, Any]:
        """Run a pending job here; one handed to arq workers (queued, with Redis) is polled."""
        from server import runner
        from server.views import job_dict

        job = await self.job(job_id)  # NotFound for another owner's job
        while self.settings.redis_url and job["status"] in ("queued", "running", "retrying"):
            await asyncio.sleep(POLL_S)
            job = await self.job(job_id)
        if job["status"] in SETTLED:
            return job
        return job_dict(await runner.run_job(self.settings, job_id, listener))

    async def sources(self, *, kind: str | None = None, status: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
        if self._empty():
            return []
        from server.operations import list_sources

        return await list_sources(self.settings, self.owner, kind=kind, status=status,
                                  limit=limit)

    async def source(self, source_id: str) -> dict[str, Any]:
        if self._empty():
            raise NotFound(f"no source {source_id}")
        from server.operations import get_source

        return await get_source(self.settings, source_id, self.owner)

    async def update_source(self, source_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        from server.source_edits import update_source

        return await update_source(self.settings, source_id, self.owner, patch)

    async def delete_source(self, source_id: str, *, hard: bool = False,
                            cascade: bool = False) -> dict[str, Any]:
        from services import catalog

        return await catalog.delete_source(self.settings, source_id, owner=self.owner,
                                           hard=hard, cascade=cascade)

    async def reprocess(self, source_id: str, *, priority: int = 5) -> dict[str, Any]:
        from server.operations import check_reprocess

        inp = await check_reprocess(self.settings, source_id, self.owner)
        return await self._submit("ingest", inp, priority)

    async def search(self, req: SearchRequest) -> list[dict[str, Any]]:
        if self._empty():
            return []
        from services import catalog

        hits = await catalog.search(self.settings, req.q, owner=self.owner, **req.filters())
        return [h.as_dict() for h in hits]

    async def jobs(self, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        if self._empty():
            return []
        from server.views import job_dict
        from storage import db
        from storage import jobs as jobs_db

        async with db.session(self.settings) as s:
            rows = await jobs_db.list_jobs(s, self.owner, status=status, limit=limit)
        return [job_dict(j) for j in rows]

    async def job(self, job_id: str) -> dict[str, Any]:
        if self._empty():
            raise NotFound(f"no job {job_id}")
        from server.views import job_dict
        from storage import db
        from storage import jobs as jobs_db

        async with db.session(self.settings) as s:
            return job_dict(await jobs_db.get_job(s, job_id, self.owner))

    async def trace(self, job_id: str) -> list[dict[str, Any]]:
        from server import runner

        await self.job(job_id)
        return await runner.trace(self.settings, job_id)

    async def job_action(self, job_id: str, action: JobAction) -> dict[str, Any]:
        """Cancel; retry or resume from the last checkpoint (`wait` then runs it here)."""
        from server import review, runner
        from server.views import job_dict

        if action == "cancel":
            return job_dict(await runner.request_cancel(self.settings, job_id, self.owner))
        if action == "approve":
            return job_dict(await review.approve(self.settings, job_id, self.owner))
        info = await self.job(job_id)
        if action == "retry" or info["status"] in ("failed", "cancelled"):
            await runner.prepare_retry(self.settings, job_id, self.owner,
                                       manual=action == "retry")
        elif info["status"] == "completed":
            raise BadInput(f"job {job_id} is already completed")
        return await self.job(job_id)

    async def script(self, job_id: str) -> dict[str, Any]:
        from server import review

        return await review.script(self.settings, job_id, self.owner)

    async def edit_script(self, job_id: str, edit: ScriptEdit) -> dict[str, Any]:
        from server import review

        return await review.edit_script(self.settings, job_id, self.owner, edit)

    async def export(self, request: RunFields | dict[str, Any], *,
                     priority: int = 5) -> dict[str, Any]:
        from server.operations import check_export, validate_export

        req = validate_export(export_body(request, priority))
        inp = await check_export(self.settings, self.owner, req)
        return await self._submit(req.format, inp, req.priority)

    async def artifacts(self, *, kind: str | None = None, limit: int = 50
                        ) -> list[dict[str, Any]]:
        if self._empty():
            return []
        from server.views import artifact_out
        from storage import artifacts as artifacts_db
        from storage import db

        async with db.session(self.settings) as s:
            rows = await artifacts_db.list_artifacts(s, self.owner, kind=kind, limit=limit)
        return [artifact_out(a) for a in rows]

    async def artifact(self, artifact_id: str) -> dict[str, Any]:
        if self._empty():
            raise NotFound(f"no artifact {artifact_id}")
        from server.views import artifact_out
        from storage import artifacts as artifacts_db
        from storage import db

        async with db.session(self.settings) as s:
            return artifact_out(await artifacts_db.get_artifact(s, artifact_id, self.owner))

    async def download(self, artifact_id: str, role: str, dest: Path | None = None) -> Path:
        from storage.objects import LocalObjects, objects

        files = (await self.artifact(artifact_id))["files"]
        key = files.get(role)
        if not isinstance(key, str):
            raise NotFound(f"artifact {artifact_id} has no {role!r} file "
                           f"(has: {', '.join(sorted(files))})")
        store = objects(self.settings)
        if dest is None:
            if isinstance(store, LocalObjects):
                return store.path(key)
            dest = Path.cwd() / Path(key).name
        dest.parent.mkdir(parents=True, exist_ok=True)
        return await store.get_file(key, dest)

    async def upload_image(self, path: Path) -> str:
        from services.assets import put_image

        try:
            data = path.read_bytes()
        except OSError as exc:
            raise BadInput(f"cannot read {path}: {exc.strerror}") from None
        return await put_image(self.settings, self.owner, data)

    async def provenance(self, kind: ProvenanceKind, item_id: str, view: ProvenanceView, *,
                         depth: int = 1) -> Any:
        from server.operations import provenance_view

        return await provenance_view(self.settings, kind, item_id, view, self.owner, depth)

    async def regenerate(self, artifact_id: str, overrides: dict[str, Any],
                         reason: str | None = None) -> dict[str, Any]:
        from server import runner

        job_id = await runner.regenerate(self.settings, artifact_id, overrides, reason,
                                         owner=self.owner)
        return await self.job(job_id)

    async def publish(self, platform: str, artifact_id: str,
                      params: dict[str, Any]) -> dict[str, Any]:
        from server.operations import check_publish

        inp = await check_publish(self.settings, self.owner, platform, artifact_id, params)
        return await self._submit("publish", inp, 5)

    async def trends(self, req: TrendsRequest) -> dict[str, Any]:
        from services import trends

        return await trends.ranked(self.settings, self.owner, req)

    async def trend_sources(self, trend_id: int) -> dict[str, Any]:
        from services import trends

        return await trends.video_input(self.settings, self.owner, trend_id)

    async def analytics(self, artifact_id: str | None = None, *,
                        refresh: bool = False) -> dict[str, Any]:
        from services import analytics

        if artifact_id:
            return await analytics.video(self.settings, self.owner, artifact_id,
                                         refresh_first=refresh)
        return await analytics.dashboard(self.settings, self.owner, refresh_first=refresh)

    async def plugins(self, group: Literal["import", "export"]) -> list[dict[str, Any]]:
        from server import plugins

        return plugins.listing(self.settings, group)

    async def set_plugin(self, plugin_id: str, enabled: bool) -> dict[str, Any]:
        from server import plugins

        return plugins.set_enabled(self.settings, plugin_id, enabled)

    async def chat(self, message: str, attachments: list[str], thread_id: str
                   ) -> AsyncIterator[Event]:
        from graphs import chat
        from server.operations import ingest_input

        async def run_job(graph: str, inp: dict[str, Any], owner: str, listener: Listener
                          ) -> dict[str, Any]:
            if graph == "ingest":
                inp = ingest_input(self.settings, **inp)
            job = await self._submit(graph, inp, 5)
            return await self.wait(job["job_id"], listener)

        async for event in chat.converse(self.settings, thread_id, message, attachments,
                                         owner=self.owner, run_job=run_job):
            yield event

    async def aclose(self) -> None:
        """Release what this process opened: database engines, the local Qdrant folder lock."""
        db, vectors = sys.modules.get("storage.db"), sys.modules.get("storage.vectors")
        if db is not None:
            await db.dispose()
        if vectors is not None:
            vectors.close()

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()
