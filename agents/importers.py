"""Importer plugins: extractors by kind, registered through the `librarian.importers` entry points.

Built-ins use the same mechanism (see pyproject.toml); a third-party package adds a kind by
declaring an entry point whose object is `fn(content: bytes, filename: str | None,
url: str | None) -> Document`.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points

from storage.errors import BadInput
from tools.document import Document

Importer = Callable[[bytes, str | None, str | None], Document]


def import_pdf(content: bytes, filename: str | None, url: str | None) -> Document:
    """Papers and other PDFs: text, structure, references, figures (model-free)."""
    from tools.pdf import extract_pdf

    return extract_pdf(content)


def import_webpage(content: bytes, filename: str | None, url: str | None) -> Document:
    """Web articles: main text and metadata with trafilatura."""
    from tools.web import extract_webpage

    return extract_webpage(content, url=url)


def import_document(content: bytes, filename: str | None, url: str | None) -> Document:
    """DOCX, Markdown and plain text documents."""
    from tools.detect import detect_kind
    from tools.documents import extract_docx, extract_markdown, extract_text

    kind = detect_kind(content, filename, None)
    if kind == "docx":
        return extract_docx(content, filename)
    text = _decode(content)
    if kind == "markdown":
        return extract_markdown(text, filename)
    return extract_text(text, filename)


def _decode(content: bytes) -> str:
    for enc in ("utf-8", "utf-16"):
        try:
            return content.decode(enc)
        except UnicodeDecodeError:
            continue
    return content.decode("latin-1")


# detected kind -> importer plugin name
KIND_TO_PLUGIN = {"pdf": "pdf", "webpage": "webpage", "docx": "document",
                  "markdown": "document", "text": "document", "audio": "media", "video": "media"}


def importers() -> dict[str, Importer]:
    """Every registered importer plugin by name."""
    found: dict[str, Importer] = {}
    for ep in entry_points(group="librarian.importers"):
        found[ep.name] = ep.load()
    # a source checkout that is not pip-installed still has its built-ins
    from agents.media import import_media

    for name, fn in (("pdf", import_pdf), ("webpage", import_webpage),
                     ("document", import_document), ("media", import_media)):
        found.setdefault(name, fn)
    return found


def importer_for(kind: str, disabled: set[str] | None = None) -> Importer:
    plugin = KIND_TO_PLUGIN.get(kind, kind)
    if disabled and plugin in disabled:
        raise BadInput(f"the '{plugin}' importer is disabled")
    fn = importers().get(plugin)
    if fn is None:
        known = ", ".join(sorted(importers()))
        raise BadInput(f"no importer for {kind} content (installed: {known})")
    return fn
