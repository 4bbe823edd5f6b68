"""Limits on what an import may grow to: zip members, XML parts, HTML, pages, text, chunks.

Each check is cheap (zip directory, byte counts, page count) and runs before the expensive
parse, so a bomb is refused in milliseconds with no memory spent. A breach raises `TooLarge`
naming its `LIBRARIAN_MAX_*` setting. The limits are read from the settings the extract node
applies (`applied`), else the process-wide settings.

Markup depth is bounded by libxml2 itself (256 levels without XML_PARSE_HUGE, which nothing here
sets): deeper XML fails to parse (a clean BadInput), deeper HTML is cut at that depth.
Element counts are bounded from the bytes (one `<` per start tag), which is exact enough and
costs no tree: a streaming parse of a 50 MB page takes seconds, counting takes milliseconds.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from storage.errors import BadInput, TooLarge
from storage.settings import Settings, get_settings

_current: ContextVar[Settings | None] = ContextVar("librarian_limits", default=None)


def current() -> Settings:
    """The settings whose limits apply here."""
    return _current.get() or get_settings()


@contextmanager
def applied(settings: Settings) -> Iterator[None]:
    """Apply these settings' limits in this context (threads started by `to_thread` inherit)."""
    token = _current.set(settings)
    try:
        yield
    finally:
        _current.reset(token)


def _size(n: float) -> str:
    for unit, step in (("GB", 2**30), ("MB", 2**20), ("KB", 2**10)):
        if n >= step:
            return f"{n / step:.1f} {unit}"
    return f"{int(n)} bytes"


def breach(what: str, value: float, setting: str, *, size: bool = False) -> TooLarge:
    """The error for `what` = `value` over the limit `setting` (a Settings field name)."""
    limit = getattr(current(), setting)
    shown = (_size(value), _size(limit)) if size else (f"{value:,}", f"{limit:,}")
    return TooLarge(f"{what} is {shown[0]}, over the limit of {shown[1]} "
                    f"(LIBRARIAN_{setting.upper()})")


def check(what: str, value: float, setting: str, *, size: bool = False) -> None:
    """Raise `TooLarge` when `value` exceeds the setting."""
    if value > getattr(current(), setting):
        raise breach(what, value, setting, size=size)


def element_count(markup: bytes | str) -> int:
    """Start tags in XML/HTML bytes: every `<` that opens no end tag, comment, PI or doctype."""
    data = markup.encode("utf-8", "ignore") if isinstance(markup, str) else markup
    return data.count(b"<") - data.count(b"</") - data.count(b"<!") - data.count(b"<?")


def check_zip(data: bytes, what: str = "the archive") -> None:
    """Member count, declared sizes (Python's zipfile never inflates past a declared size) and
    the XML parts' total size and element count (python-docx parses every one of them)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
            check(f"{what} member count", len(infos), "max_zip_members")
            total = sum(i.file_size for i in infos)
            check(f"{what} unpacked size", total, "max_decompressed_bytes", size=True)
            if any(i.flag_bits & 0x1 for i in infos):
                raise BadInput(f"{what} is encrypted")
            xml = [i for i in infos if i.filename.endswith((".xml", ".rels"))]
            check(f"{what} XML size", sum(i.file_size for i in xml), "max_xml_bytes", size=True)
            elements = 0
            for info in xml:
                elements += element_count(zf.read(info))
                check(f"{what} XML element count", elements, "max_xml_elements")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError):
        return  # not a zip at all: the parser reports it in its own words
    except (NotImplementedError, RuntimeError) as exc:  # unsupported compression
        raise BadInput(f"{what} uses an unsupported zip feature ({exc})") from None


def check_html(html: bytes | str) -> None:
    """Page size and element count."""
    size = len(html) if isinstance(html, bytes) else len(html.encode("utf-8", "ignore"))
    check("the web page", size, "max_html_bytes", size=True)
    check("the web page element count", element_count(html), "max_xml_elements")


def check_text(text: str | bytes, what: str = "the text") -> None:
    check(f"{what} length", len(text), "max_text_chars")


def check_document(blocks: Sequence[Any]) -> None:
    """Total extracted text of a document (blocks with a `text`)."""
    check("the extracted text length", sum(len(b.text) for b in blocks), "max_text_chars")


def check_chunks(chunks: Sequence[Any]) -> None:
    """Chunk count and the longest chunk's text."""
    check("the chunk count", len(chunks), "max_chunks_per_source")
    longest = max((len(c.text) for c in chunks), default=0)
    check("the longest chunk", longest, "max_chunk_chars")


def check_upload(kind: str, data: bytes) -> None:
    """The cheap checks for an upload of a detected kind, before it is staged."""
    if kind == "docx":
        check_zip(data, "the .docx")
    elif kind == "webpage":
        check_html(data)
    elif kind in ("markdown", "text"):
        check_text(data)


def image_fits(width: int, height: int) -> bool:
    """Whether a width x height render stays under LIBRARIAN_MAX_IMAGE_PIXELS."""
    return width * height <= current().max_image_pixels
