"""What the surfaces show: sources, artifacts and jobs as JSON-ready dicts.

The REST responses and the in-process client are built by these same functions, so the CLI's
local and remote modes print the same fields. Imports nothing heavy (the rows are passed in).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from storage.models import Artifact, Chunk, Figure, Job, Source


def aware(value: datetime | None) -> datetime | None:
    """A stored timestamp with its timezone (SQLite gives them back naive, in UTC)."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def describe(src: Source, chunks: int | None = None) -> dict[str, Any]:
    """A source's fields (the REST `SourceOut`)."""
    return {"source_id": src.id, "kind": src.kind, "title": src.title, "authors": src.authors,
            "published": src.published, "url": src.url, "doi": src.doi, "pages": src.pages,
            "duration_s": src.duration_s, "chunks": chunks, "licence": src.licence_id,
            "language": src.language, "status": src.status, "filename": src.filename,
            "created_at": aware(src.created_at), "deleted": src.deleted_at is not None}


def source_detail(src: Source, chunks: list[Chunk], figures: list[Figure]) -> dict[str, Any]:
    """A source with its sections, figures, reference count and licence evidence."""
    sections = list(dict.fromkeys(" > ".join(c.heading_path) for c in chunks if c.heading_path))
    return {**describe(src, len(chunks)), "abstract": src.abstract, "sections": sections,
            "figures": [{"id": f.id, "label": f.label, "caption": f.caption, "page": f.page}
                        for f in figures],
            "references": len(src.references or []), "licence_evidence": src.licence_evidence}


def artifact_out(art: Artifact, files: dict[str, str] | None = None) -> dict[str, Any]:
    """An artifact's fields; `files` maps each role to where it is fetched from (default: the
    object keys)."""
    return {"artifact_id": art.id, "kind": art.kind, "title": art.title, "status": art.status,
            "job_id": art.job_id, "duration_s": art.duration_s,
            "files": files if files is not None else dict(art.files or {}),
            "created_at": aware(art.created_at), "meta": art.meta or {}}


def job_dict(job: Job) -> dict[str, Any]:
    """A job as the REST API shows it (no owner, no internal switches)."""
    return {"job_id": job.id, "graph": job.graph, "status": str(job.status), "stage": job.stage,
            "progress": job.progress or 0.0, "message": job.message, "error": job.error,
            "attempts": job.attempts or 0, "priority": job.priority,
            "result": job.result or {},
            "input": {k: v for k, v in (job.input or {}).items()
                      if k not in ("owner", "disabled")},
            "created_at": aware(job.created_at), "started_at": aware(job.started_at),
            "finished_at": aware(job.finished_at)}
