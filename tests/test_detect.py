"""tools.detect: magic bytes, then content type, then file name."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from storage.errors import BadInput
from tools.detect import detect_kind


def _zip(names: list[str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name in names:
            zf.writestr(name, "<x/>")
    return buf.getvalue()


@pytest.mark.parametrize("name,kind", [
    ("papers/vespa_webb2017_peerjcs.pdf", "pdf"),
    ("html/wikipedia_duck.html", "webpage"),
    ("html/creativecommons_about.html", "webpage"),
    ("docx/docling_word_sample.docx", "docx"),
    ("docx/docling_word_sample.expected.md", "markdown"),
    ("media/jfk_ask_not_11s.flac", "audio"),
    ("media/stereo_two_speakers_5s.wav", "audio"),
    ("media/librivox_shakespeare_on_scenery_10s.mp4", "video"),
    ("media/jfk_ask_not_11s.transcript.txt", "text"),
])
def test_real_files_without_hints(testdata: Path, name: str, kind: str) -> None:
    content = (testdata / name).read_bytes()
    hinted_name = None if kind not in ("markdown", "text") else name
    assert detect_kind(content, hinted_name, None) == kind
    # magic bytes win over a misleading name and type
    if kind in ("pdf", "webpage", "docx", "audio", "video"):
        assert detect_kind(content, "download.bin", "application/octet-stream") == kind


@pytest.mark.parametrize("head,kind", [
    (b"%PDF-1.7\n", "pdf"),
    (b"\xef\xbb\xbf  <!DOCTYPE html><html><body>x", "webpage"),
    (b"<html lang=en><p>hi", "webpage"),
    (b"ID3\x04\x00" + b"\x00" * 20, "audio"),
    (b"\xff\xfb\x90\x00" + b"\x00" * 20, "audio"),
    (b"fLaC\x00\x00", "audio"),
    (b"RIFF\x24\x00\x00\x00WAVEfmt ", "audio"),
    (b"RIFF\x24\x00\x00\x00AVI LIST", "video"),
    (b"OggS\x00\x02" + b"\x00" * 22 + b"\x01vorbis", "audio"),
    (b"OggS\x00\x02" + b"\x00" * 22 + b"\x80theora", "video"),
    (b"\x00\x00\x00\x20ftypisom\x00\x00", "video"),
    (b"\x00\x00\x00\x20ftypM4A \x00\x00", "audio"),
    (b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm", "video"),
])
def test_magic(head: bytes, kind: str) -> None:
    assert detect_kind(head, None, None) == kind


def test_docx_needs_word_document_xml() -> None:
    assert detect_kind(_zip(["[Content_Types].xml", "word/document.xml"]), None, None) == "docx"
    with pytest.raises(BadInput, match="unsupported file type: .xlsx"):
        detect_kind(_zip(["xl/workbook.xml"]), "sheet.xlsx", None)
    with pytest.raises(BadInput, match="zip archive"):
        detect_kind(_zip(["a.txt"]), None, None)


def test_webm_audio_hint() -> None:
    ebml = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm"
    assert detect_kind(ebml, "talk.weba", None) == "audio"
    assert detect_kind(ebml, None, "audio/webm") == "audio"


@pytest.mark.parametrize("content,filename,ctype,kind", [
    (b"# Title\n\nSome text", "notes.md", None, "markdown"),
    (b"plain words", None, "text/markdown; charset=utf-8", "markdown"),
    (b"plain words", "notes.txt", None, "text"),
    (b"plain words", None, "text/plain", "text"),
    (b"just some words\n\nand more", None, None, "text"),
    (b"## Heading\n\ntext", None, None, "markdown"),
    (b"Some text", "readme.markdown", "text/plain", "markdown"),
    (b"<p>fragment</p>", None, "text/html", "webpage"),
    (b"\x00\x01\x02odd", "voice.opus", None, "audio"),
    (b"\x00\x01\x02odd", None, "video/quicktime", "video"),
])
def test_type_and_extension_fallbacks(content: bytes, filename: str | None, ctype: str | None,
                                      kind: str) -> None:
    assert detect_kind(content, filename, ctype) == kind


def test_empty_file() -> None:
    for empty in (b"", b"  \n\t"):
        with pytest.raises(BadInput, match="empty file"):
            detect_kind(empty, "x.pdf", "application/pdf")


@pytest.mark.parametrize("content,filename,ctype,shown", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", "img.png", "image/png", "image/png, .png"),
    (b'{"a": 1}', "data.json", "application/json", "application/json, .json"),
    (b"\x00\x01\x02\x03binary", None, None, "unrecognised binary data"),
    (b"a,b\n1,2", "table.csv", None, ".csv"),
])
def test_unsupported(content: bytes, filename: str | None, ctype: str | None, shown: str) -> None:
    with pytest.raises(BadInput, match="unsupported file type") as err:
        detect_kind(content, filename, ctype)
    assert shown in str(err.value)
    assert "supported: pdf, html, docx, md, txt, audio, video" in str(err.value)


def test_pdf_name_without_pdf_content() -> None:
    with pytest.raises(BadInput, match="not a PDF"):
        detect_kind(b"\x00\x01garbage", "paper.pdf", "application/pdf")
