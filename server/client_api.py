"""The client protocol (`Client`) and the types its two implementations share; `server.client`
re-exports them beside `connect`, which picks an implementation. Kept apart so that the
implementations (`client_local`, `client_http`) and `operations` import these without importing
`server.client`, which imports them: no cycle."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from agents.publish_requests import TrendsRequest
    from agents.requests import RunFields, SearchRequest
    from agents.script import ScriptEdit

Event = dict[str, Any]
Listener = Callable[[Event], Awaitable[None] | None]
JobAction = Literal["retry", "resume", "cancel", "approve"]
ProvenanceKind = Literal["artifact", "source"]
ProvenanceView = Literal["genealogy", "attribution", "licenses", "impact", "recipe",
                         "generated-content", "citations"]
TERMINAL = frozenset({"completed", "failed", "cancelled"})
SETTLED = TERMINAL | {"review"}  # a wait ends here: a reviewed run waits for its approval


class Client(Protocol):
    """What every surface can do with the library (the CLI, scripts, tests)."""

    async def import_item(self, item: str, *, kind: str | None = None,
                          priority: int = 5) -> dict[str, Any]:
        """Start importing a file or an http(s) URL; returns the job."""
    async def wait(self, job_id: str, listener: Listener | None = None) -> dict[str, Any]:
        """The job once it has ended (in-process: runs it here), with its progress events."""
    async def sources(self, *, kind: str | None = None, status: str | None = None,
                      limit: int = 100) -> list[dict[str, Any]]:
        """The library's sources, oldest first."""
    async def source(self, source_id: str) -> dict[str, Any]:
        """One source with its sections, figures and licence evidence."""
    async def update_source(self, source_id: str, patch: dict[str, Any]) -> dict[str, Any]:
        """Correct a source's metadata (kept when it is reprocessed)."""
    async def delete_source(self, source_id: str, *, hard: bool = False,
                            cascade: bool = False) -> dict[str, Any]:
        """Soft delete, or hard delete (cascade: dependent artifacts become orphaned)."""
    async def reprocess(self, source_id: str, *, priority: int = 5) -> dict[str, Any]:
        """Extract the stored original again; returns the job."""
    async def search(self, req: SearchRequest) -> list[dict[str, Any]]:
        """Chunks that answer the query (hybrid by default; each hit names its mode)."""
    async def jobs(self, *, status: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Jobs, newest first."""
    async def job(self, job_id: str) -> dict[str, Any]:
        """One job: status, stage, progress, error, result."""
    async def trace(self, job_id: str) -> list[dict[str, Any]]:
        """Node by node: what ran and what it wrote."""
    async def job_action(self, job_id: str, action: JobAction) -> dict[str, Any]:
        """Retry, resume, cancel or approve (after review) a job; returns the job."""
    async def script(self, job_id: str) -> dict[str, Any]:
        """The script of a job waiting for review, with its citable passages."""
    async def edit_script(self, job_id: str, edit: ScriptEdit) -> dict[str, Any]:
        """Stage the owner's edits of a job waiting for review (checked as applied)."""
    async def export(self, request: RunFields | dict[str, Any], *,
                     priority: int = 5) -> dict[str, Any]:
        """Submit an export: a typed request (`PodcastRequest`, `VideoRequest`) of library
        source ids, or a REST export body (`format`, `source_ids`, `parameters`) for a plugin
        format; returns the job."""
    async def artifacts(self, *, kind: str | None = None, limit: int = 50
                        ) -> list[dict[str, Any]]:
        """Generated artifacts, newest first."""
    async def artifact(self, artifact_id: str) -> dict[str, Any]:
        """One artifact with its files by role."""
    async def download(self, artifact_id: str, role: str, dest: Path | None = None) -> Path:
        """Where one file of an artifact can be opened (a local path, or a copy at `dest`)."""
    async def upload_image(self, path: Path) -> str:
        """Store a PNG/JPEG (a video logo) as the owner's image; returns its id."""
    async def provenance(self, kind: ProvenanceKind, item_id: str, view: ProvenanceView, *,
                         depth: int = 1) -> Any:
        """A provenance view of an artifact or a source (the REST `/api/provenance/...`)."""
    async def regenerate(self, artifact_id: str, overrides: dict[str, Any],
                         reason: str | None = None) -> dict[str, Any]:
        """Remake an artifact from its recipe (+ overrides); returns the job."""
    async def publish(self, platform: str, artifact_id: str,
                      params: dict[str, Any]) -> dict[str, Any]:
        """Publish a video artifact (`agents.publish_requests.PublishParams`); returns the job."""
    async def trends(self, req: TrendsRequest) -> dict[str, Any]:
        """Trending topics ranked by virality and by what the library supports."""
    async def trend_sources(self, trend_id: int) -> dict[str, Any]:
        """A supported trend's topic and supporting sources (Forbidden when it has none)."""
    async def analytics(self, artifact_id: str | None = None, *,
                        refresh: bool = False) -> dict[str, Any]:
        """The dashboard of published videos, or one video's figures (`refresh`: read the
        platforms first)."""
    async def plugins(self, group: Literal["import", "export"]) -> list[dict[str, Any]]:
        """Installed importers or exporters and whether each is enabled."""
    async def set_plugin(self, plugin_id: str, enabled: bool) -> dict[str, Any]:
        """Enable or disable a plugin (for every owner)."""
    def chat(self, message: str, attachments: list[str], thread_id: str
             ) -> AsyncIterator[Event]:
        """One chat turn: the jobs' progress events, interim messages, then the `reply`."""
    async def aclose(self) -> None:
        """Release connections (and the local vector store's folder lock)."""
    async def __aenter__(self) -> Client: ...
    async def __aexit__(self, et: type[BaseException] | None, e: BaseException | None,
                        tb: TracebackType | None) -> None: ...


def export_body(request: RunFields | dict[str, Any], priority: int = 5) -> dict[str, Any]:
    """The REST export body of a typed request (a dict is taken as such a body already)."""
    if isinstance(request, dict):
        return {"priority": priority, **request}
    from agents.requests import REQUESTS

    fmt = next((k for k, m in REQUESTS.items() if isinstance(request, m)), None)
    if fmt is None:
        raise TypeError(f"not an export request: {type(request).__name__}")
    params = request.model_dump(mode="json", exclude={"sources", "version_of", "reason"},
                                exclude_none=True)
    return {"format": fmt, "source_ids": list(request.sources), "parameters": params,
            "priority": priority}
