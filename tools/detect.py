"""What kind of file a download or upload is: magic bytes first, then content type, then name."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath

from storage.errors import BadInput

KINDS = ("pdf", "webpage", "docx", "markdown", "text", "audio", "video")
SUPPORTED = "supported: pdf, html, docx, md, txt, audio, video"

_DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_TYPES = {
    "application/pdf": "pdf", "application/x-pdf": "pdf",
    "text/html": "webpage", "application/xhtml+xml": "webpage",
    _DOCX_TYPE: "docx",
    "text/markdown": "markdown", "text/x-markdown": "markdown",
    "text/plain": "text",
    "application/ogg": "audio",
}
_EXTS = {
    ".pdf": "pdf", ".html": "webpage", ".htm": "webpage", ".xhtml": "webpage",
    ".docx": "docx", ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown",
    ".txt": "text", ".text": "text",
    ".mp3": "audio", ".wav": "audio", ".flac": "audio", ".ogg": "audio", ".oga": "audio",
    ".opus": "audio", ".m4a": "audio", ".aac": "audio", ".wma": "audio", ".aiff": "audio",
    ".aif": "audio", ".weba": "audio", ".mka": "audio", ".amr": "audio",
    ".mp4": "video", ".m4v": "video", ".mov": "video", ".webm": "video", ".mkv": "video",
    ".avi": "video", ".ogv": "video", ".wmv": "video", ".mpeg": "video", ".mpg": "video",
    ".3gp": "video",
}
_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_HTML_RE = re.compile(rb"<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]", re.IGNORECASE)
_GENERIC = {"", "application/octet-stream", "binary/octet-stream"}
_MPEG_SYNC = {0xFB, 0xFA, 0xF3, 0xF2, 0xE3, 0xE2, 0xF1, 0xF9}  # MP3 frames, AAC ADTS
_MD_RE = re.compile(r"^(?:#{1,6}\s+\S|```|~~~)", re.MULTILINE)


def _ext(filename: str | None) -> str:
    return PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _hinted(filename: str | None, content_type: str | None, group: str) -> bool:
    """Whether the name or content type says `group` ("audio"/"video")."""
    return _EXTS.get(_ext(filename)) == group or _media_type(content_type).startswith(group + "/")


def _is_docx_zip(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            return "word/document.xml" in zf.namelist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return b"word/document.xml" in content[:65536]


def _magic(content: bytes, filename: str | None, content_type: str | None) -> str | None:
    head = content[:64]
    if b"%PDF-" in content[:1024]:
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        return "docx" if _is_docx_zip(content) else None
    if head.startswith((b"ID3", b"fLaC", b"#!AMR", b"MAC ")) or (
        len(head) > 1 and head[0] == 0xFF and head[1] in _MPEG_SYNC
    ):
        return "audio"
    if head.startswith(b"RIFF") and head[8:12] in (b"WAVE", b"AVI "):
        return "audio" if head[8:12] == b"WAVE" else "video"
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio"
    if head.startswith(b"OggS"):
        return "video" if b"theora" in content[:512] else "audio"
    if head[4:8] == b"ftyp":
        if head[8:12] in _AUDIO_BRANDS or _hinted(filename, content_type, "audio"):
            return "audio"
        return "video"
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska / WebM
        return "audio" if _hinted(filename, content_type, "audio") else "video"
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):  # ASF (wma / wmv)
        return "audio" if _hinted(filename, content_type, "audio") else "video"
    text_head = content[:2048].lstrip(b"\xef\xbb\xbf \t\r\n")
    if _HTML_RE.search(text_head[:2048]) and text_head.startswith((b"<", b"<!--")):
        return "webpage"
    return None


def _looks_like_text(content: bytes) -> bool:
    sample = content[:8192]
    if b"\x00" in sample:
        return sample.startswith((b"\xff\xfe", b"\xfe\xff"))  # UTF-16 with BOM
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            return False
    return True


def detect_kind(content: bytes, filename: str | None, content_type: str | None) -> str:
    """One of pdf, webpage, docx, markdown, text, audio, video; BadInput for anything else."""
    if not content or not content.strip():
        raise BadInput("empty file")
    kind = _magic(content, filename, content_type)
    if kind:
        return kind
    mtype = _media_type(content_type)
    ext = _ext(filename)
    by_type = _TYPES.get(mtype) or (mtype.split("/", 1)[0]
                                    if mtype.startswith(("audio/", "video/")) else None)
    by_ext = _EXTS.get(ext)
    textual = _looks_like_text(content)
    for hint in (by_type, by_ext):
        if hint in ("audio", "video") and not textual:
            return hint  # a container the magic table does not know; the decoder decides
        if hint == "docx" and content.startswith(b"PK"):
            return "docx"  # a zip without word/document.xml: the extractor reports it corrupt
        if hint == "webpage" and textual and b"<" in content[:4096]:
            return "webpage"
        if hint in ("markdown", "text") and textual:
            return "markdown" if by_ext == "markdown" else hint
    if textual and not ext and (mtype in _GENERIC or mtype.startswith("text/")):
        sample = content[:8192].decode("utf-8", errors="ignore")
        return "markdown" if _MD_RE.search(sample) else "text"
    if by_type == "pdf" or by_ext == "pdf":
        raise BadInput("not a PDF file: the content does not start with %PDF")
    described = ", ".join(x for x in (mtype, ext) if x) or _describe(content)
    raise BadInput(f"unsupported file type: {described} ({SUPPORTED})")


def _describe(content: bytes) -> str:
    if content.startswith(b"PK\x03\x04"):
        return "zip archive"
    if _looks_like_text(content):
        return "unrecognised text"
    return "unrecognised binary data"
