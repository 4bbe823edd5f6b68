"""tools.documents: .docx against docling's groundtruth, Markdown and plain text."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import pytest

from storage.errors import BadInput
from tools.document import Document
from tools.documents import extract_docx, extract_markdown, extract_text


def _norm(text: str) -> str:
    return " ".join(text.replace("\u2019", "'").split())


def _groundtruth(md: str) -> tuple[list[str], list[str]]:
    """(headings, other text lines) of a docling groundtruth file; table rows as 'a | b'."""
    headings, lines = [], []
    for raw in md.splitlines():
        line = raw.strip()
        if not line or line.startswith("<!--") or re.fullmatch(r"\|[\s\-|]*", line):
            continue
        if m := re.match(r"#{1,6}\s+(.*)", line):
            headings.append(_norm(m.group(1)))
        elif line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            while cells and not cells[-1]:
                cells.pop()
            if cells:
                lines.append(_norm(" | ".join(cells)))
        else:
            lines.append(_norm(re.sub(r"^(?:[-*]|\d+\.)\s+", "", line)))
    return headings, lines


def _found_lines(doc: Document) -> set[str]:
    found = set()
    for block in doc.blocks:
        found.add(_norm(block.text))
        if block.kind == "table":
            found.update(_norm(row) for row in block.text.splitlines())
    return found


@pytest.mark.parametrize("name", ["docling_word_sample", "docling_word_tables"])
def test_docx_matches_groundtruth(testdata: Path, name: str) -> None:
    doc = extract_docx((testdata / "docx" / f"{name}.docx").read_bytes(), f"{name}.docx")
    headings, lines = _groundtruth((testdata / "docx" / f"{name}.expected.md").read_text())
    mine = {_norm(h.text) for h in doc.headings}
    assert set(headings) <= mine
    found = _found_lines(doc)
    hits = [line for line in lines if line in found]
    assert len(hits) >= 0.9 * len(lines), sorted(set(lines) - found)
    assert doc.kind == "document"


def test_docx_sample_structure(testdata: Path) -> None:
    doc = extract_docx((testdata / "docx" / "docling_word_sample.docx").read_bytes())
    assert doc.title == "Swimming in the lake"  # no core title: the Title-styled paragraph
    assert doc.authors == ["Christoph Auer"]
    levels = {h.text: h.level for h in doc.headings}
    assert levels == {"Swimming in the lake": 1, "Let’s swim!": 1, "Let’s eat": 2}
    kinds = {b.text: b.kind for b in doc.blocks}
    assert kinds["Figure 1: This is a cute duckling"] == "caption"
    assert kinds["Paddle about"] == "list"
    assert kinds["Grain"] == "list"
    assert kinds["I like to eat leaves"] == "quote"
    table = next(b for b in doc.blocks if b.kind == "table")
    assert "Leaves | Ash, Elm, Maple | 50" in table.text.splitlines()
    assert table.heading_path == ["Let’s swim!", "Let’s eat"]
    assert [(f.kind, f.label) for f in doc.figures] == [("figure", "Figure 1")]


def test_docx_merged_and_late_cells(testdata: Path) -> None:
    doc = extract_docx((testdata / "docx" / "docling_word_tables.docx").read_bytes())
    tables = [b.text.splitlines() for b in doc.blocks if b.kind == "table"]
    assert len(tables) == 7
    assert tables[1][1] == "Cell 1.0 | Merged Cell 1.1 1.2 | Merged Cell 1.1 1.2"
    assert tables[3][2] == "Cell 2.0 | Merged Cell 1.1 2.1 | Cell 2.2"
    assert tables[5] == ["Header 0.0 | Header 0.1", "| Cell 1.1"]


def _docx_bytes(title: str = "", author: str = "") -> bytes:
    import docx

    d = docx.Document()
    d.core_properties.title = title
    d.core_properties.author = author
    d.add_heading("Intro", level=1)
    d.add_paragraph("First paragraph.")
    d.add_heading("Detail", level=2)
    d.add_paragraph("Point", style="List Number")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def test_docx_core_properties_and_filename_fallback() -> None:
    doc = extract_docx(_docx_bytes("Core Title", "A. Writer; B. Other"), "x.docx")
    assert doc.title == "Core Title"
    assert doc.authors == ["A. Writer", "B. Other"]
    assert doc.blocks[-1].kind == "list" and doc.blocks[-1].heading_path == ["Intro", "Detail"]
    assert extract_docx(_docx_bytes(), "report.docx").title == "Intro"  # first Heading 1


@pytest.mark.parametrize("data", [b"not a zip", b"PK\x03\x04broken", b""])
def test_corrupt_docx(data: bytes) -> None:
    with pytest.raises(BadInput, match="not a readable .docx"):
        extract_docx(data, "x.docx")


def test_docx_not_word() -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(BadInput, match="not a readable .docx"):
        extract_docx(buf.getvalue())


MD = """---
title: Field Notes
author: [Ada Lovelace, Charles Babbage]
license: CC BY-SA 4.0
date: 2024-05-01
---

Intro paragraph with *emphasis* and a [link](https://example.org)
that wraps.

Setext Heading
==============

- item one
- item two
  - nested item

Sub heading
-----------

```python
print("hi")
```

> quoted words

### Deep

| a | b |
|---|---|
| 1 | 2 |
"""


def test_markdown() -> None:
    doc = extract_markdown(MD, "notes.md")
    assert doc.title == "Field Notes"
    assert doc.authors == ["Ada Lovelace", "Charles Babbage"]
    assert doc.licence == "CC-BY-SA-4.0"
    assert doc.published == "2024-05-01"
    got = [(b.kind, b.level, b.text) for b in doc.blocks]
    assert got[0] == ("paragraph", None,
                      "Intro paragraph with emphasis and a link that wraps.")
    assert ("heading", 1, "Setext Heading") in got
    assert ("heading", 2, "Sub heading") in got
    assert [t for k, _, t in got if k == "list"] == ["item one", "item two", "nested item"]
    code = next(b for b in doc.blocks if b.kind == "code")
    assert code.text == 'print("hi")'
    assert code.heading_path == ["Setext Heading", "Sub heading"]
    assert ("quote", None, "quoted words") in got
    deep = next(b for b in doc.blocks if b.text == "Deep")
    assert deep.heading_path == ["Setext Heading", "Sub heading"]
    assert ("table", None, "a | b\n1 | 2") in got


def test_markdown_without_front_matter(testdata: Path) -> None:
    raw = (testdata / "docx" / "docling_word_sample.expected.md").read_bytes()
    doc = extract_markdown(raw, "sample.md")
    assert doc.title == "Swimming in the lake"
    assert doc.licence is None
    assert [h.text for h in doc.headings] == ["Swimming in the lake", "Let’s swim!", "Let’s eat"]
    assert not any("<!--" in b.text for b in doc.blocks)
    assert extract_markdown("just words", "plain-notes.md").title == "plain-notes"


def test_text() -> None:
    raw = "Title line\n\nFirst para\nwrapped here.\n\n\n- a\n- b\n\r\nLast."
    doc = extract_text(raw.encode("utf-8"), "memo.txt")
    assert doc.title == "memo"
    assert [(b.kind, b.text) for b in doc.blocks] == [
        ("paragraph", "Title line"), ("paragraph", "First para wrapped here."),
        ("list", "a"), ("list", "b"), ("paragraph", "Last.")]
    assert extract_text("Only line", None).title == "Only line"
    assert extract_text("caf\xe9".encode("cp1252"), None).blocks[0].text == "café"


@pytest.mark.parametrize("fn", [extract_text, extract_markdown])
def test_empty_text(fn) -> None:
    with pytest.raises(BadInput, match="no text"):
        fn("  \n\n ", "x")
