"""The owner's corrections to a source's metadata (REST PATCH, `librarian edit`).

Each corrected field is also kept in the source's `metadata.user_edits`, so reprocessing the
stored original (a newer importer) keeps what the owner set (`agents.importer.keep_user_edits`).
"""

from __future__ import annotations

from typing import Any

from server.views import describe
from storage import db, library
from storage.errors import BadInput
from storage.settings import Settings

EDITABLE = ("title", "authors", "published", "abstract", "language", "licence")


async def _ensure_licence(s: Any, lic: str) -> None:
    from tools.licences import LICENCES

    meta = LICENCES.get(lic)
    if meta is None:
        raise BadInput(f"unknown licence {lic!r} (known: {', '.join(sorted(LICENCES))})")
    await library.ensure_licence(s, {
        "id": lic, "name": meta.name, "url": meta.url,
        "commercial_use_allowed": meta.commercial_use_allowed,
        "attribution_required": meta.attribution_required,
        "share_alike_required": meta.share_alike_required,
        "derivatives_allowed": meta.derivatives_allowed})


async def update_source(settings: Settings, source_id: str, owner: str,
                        values: dict[str, Any]) -> dict[str, Any]:
    """Set the given fields (None clears one; a title can't be cleared); returns the source."""
    unknown = sorted(set(values) - set(EDITABLE))
    if unknown:
        raise BadInput(f"cannot edit {', '.join(unknown)} (editable: {', '.join(EDITABLE)})")
    values = {k: v for k, v in values.items() if not (k == "title" and v is None)}
    async with db.session(settings) as s:
        src = await library.get_source(s, source_id, owner)
        for field, value in values.items():
            if field == "licence":
                if value is not None:
                    await _ensure_licence(s, value)
                src.licence_id = value
                src.licence_evidence = "set by the owner" if value else None
            else:
                setattr(src, field, value if field != "authors" else (value or []))
        edits = {**((src.meta or {}).get("user_edits") or {}), **values}
        src.meta = {**(src.meta or {}), "user_edits": edits}
        await s.flush()
        counts = await library.chunk_counts(s, [source_id])
    return describe(src, counts.get(source_id, 0))
