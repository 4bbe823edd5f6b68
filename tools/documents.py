"""Word, Markdown and plain-text documents as headed blocks."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePosixPath
from typing import Any

import docx
import yaml
from docx.oxml.ns import qn
from docx.table import Table
from docx.text.paragraph import Paragraph
from markdown_it import MarkdownIt
from markdown_it.token import Token

from storage.errors import BadInput
from tools import limits
from tools.document import Block, Document, Figure
from tools.licences import detect_licence, get_licence

_HEADING_STYLE = re.compile(r"^heading\s*(\d)$", re.I)
_LIST_STYLE = re.compile(r"^list\b", re.I)
_FIGURE_LABEL = re.compile(r"^\s*((?:Figure|Fig\.|Table|Abbildung|Tabelle)\s*\d+[a-z]?)", re.I)


class _Blocks:
    """Collects blocks and keeps the heading path."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.path: list[tuple[int, str]] = []

    def add(self, text: str, kind: str = "paragraph", level: int | None = None) -> None:
        if kind == "code":
            text = text.strip("\n")
        elif kind == "table":
            text = "\n".join(" ".join(row.split()) for row in text.splitlines() if row.strip())
        else:
            text = " ".join(text.split())
        if not text.strip():
            return
        if kind == "heading":
            lvl = max(1, level or 1)
            while self.path and self.path[-1][0] >= lvl:
                self.path.pop()
            self.blocks.append(Block(text=text, kind="heading", level=lvl,
                                     heading_path=[t for _, t in self.path]))
            self.path.append((lvl, text))
        else:
            self.blocks.append(Block(text=text, kind=kind, level=level,
                                     heading_path=[t for _, t in self.path]))


def _stem(filename: str | None) -> str:
    return PurePosixPath((filename or "").replace("\\", "/")).stem


def _decode(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


# --- docx ------------------------------------------------------------------------------------


def _style_name(par: Paragraph) -> str:
    try:
        return (par.style.name or "") if par.style is not None else ""
    except (KeyError, AttributeError):
        return ""


def _is_list(par: Paragraph, style: str) -> bool:
    ppr = par._p.pPr
    return bool(_LIST_STYLE.match(style)) or (ppr is not None and ppr.numPr is not None)


def _table_text(table: Table) -> str:
    rows = []
    for row in table.rows:
        before = getattr(row, "grid_cols_before", 0) or 0
        cells = [""] * before + [" ".join(c.text.split()) for c in row.cells]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _body_items(d: Any) -> list[Paragraph | Table]:
    """Body paragraphs and tables in order, including those inside content controls."""
    items: list[Paragraph | Table] = []

    def walk(parent: Any) -> None:
        for child in parent.iterchildren():
            if child.tag == qn("w:p"):
                items.append(Paragraph(child, d._body))
            elif child.tag == qn("w:tbl"):
                items.append(Table(child, d._body))
            elif child.tag == qn("w:sdt"):
                content = child.find(qn("w:sdtContent"))
                if content is not None:
                    walk(content)

    walk(d.element.body)
    return items


def extract_docx(data: bytes, filename: str | None = None) -> Document:
    """Extract a .docx: headings (Title/Heading N), paragraphs, lists, tables and captions."""
    limits.check_zip(data, "the .docx")
    try:
        d = docx.Document(io.BytesIO(data))
        items = _body_items(d)
    except Exception as exc:  # python-docx raises assorted errors on damaged packages
        reason = "not a zip package" if isinstance(exc, zipfile.BadZipFile) else str(exc)
        raise BadInput(f"not a readable .docx file ({reason})") from None
    out, figures, heading_title = _docx_blocks(items)
    if not out.blocks:
        raise BadInput("the document contains no text")

    props = d.core_properties
    title = (props.title or "").strip() or heading_title or _stem(filename) or "Untitled"
    authors = [a.strip() for a in re.split(r"\s*;\s*", props.author or "") if a.strip()]
    metadata: dict[str, Any] = {k: v for k, v in (("subject", props.subject),
                                                  ("keywords", props.keywords),
                                                  ("last_modified_by", props.last_modified_by))
                                if v}
    if props.created:
        metadata["created"] = props.created.isoformat()
    return Document(kind="document", title=title, blocks=out.blocks, authors=authors,
                    figures=figures, metadata=metadata)


def _docx_blocks(items: list[Paragraph | Table]) -> tuple[_Blocks, list[Figure], str | None]:
    """The blocks and captioned figures of the body, and the title its headings suggest (the
    first Title-styled paragraph, else the first Heading 1)."""
    out = _Blocks()
    figures: list[Figure] = []
    title_style: str | None = None
    first_h1: str | None = None
    for item in items:
        if isinstance(item, Table):
            out.add(_table_text(item), "table")
            continue
        style = _style_name(item)
        text = " ".join(item.text.split())
        kind, level = _paragraph_kind(item, style)
        out.add(text, kind, level)
        if style.lower() == "title":
            title_style = title_style or text or None
        elif kind == "heading" and level == 1:
            first_h1 = first_h1 or text or None
        elif kind == "caption" and (label := _FIGURE_LABEL.match(text)):
            fig_kind = "table" if label.group(1).lower().startswith("tab") else "figure"
            figures.append(Figure(kind=fig_kind, label=label.group(1), caption=text))
    return out, figures, title_style or first_h1


def _paragraph_kind(item: Paragraph, style: str) -> tuple[str, int | None]:
    """A paragraph's block kind (and heading level) from its style and list numbering."""
    heading = _HEADING_STYLE.match(style)
    if style.lower() == "title":
        return "heading", 1
    if heading:
        return "heading", int(heading.group(1))
    if style.lower() == "caption":
        return "caption", None
    if _is_list(item, style):
        return "list", None
    if style.lower() in ("quote", "intense quote"):
        return "quote", None
    return "paragraph", None


# --- markdown --------------------------------------------------------------------------------

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(.*?)\r?\n(?:---|\.\.\.)[ \t]*(?:\r?\n|\Z)",
                           re.S)


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    m = _FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        data = yaml.safe_load(m.group(1))
    except yaml.YAMLError:
        return {}, text
    if not isinstance(data, dict):
        return {}, text
    return {str(k).lower(): v for k, v in data.items()}, text[m.end():]


def _inline(token: Token) -> str:
    parts: list[str] = []
    for child in token.children or []:
        if child.type in ("text", "code_inline", "html_inline"):
            parts.append(child.content if child.type != "html_inline" else "")
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif child.type == "image":
            parts.append(child.content or "")
    return "".join(parts)


def _names(value: Any) -> list[str]:
    if isinstance(value, str):
        return [n.strip() for n in re.split(r"\s*(?:;|,|\band\b)\s*", value) if n.strip()]
    if isinstance(value, list):
        out: list[str] = []
        for v in value:
            if isinstance(v, dict):
                v = v.get("name")
            if v:
                out.append(str(v).strip())
        return out
    if isinstance(value, dict) and value.get("name"):
        return [str(value["name"]).strip()]
    return []


def _licence(meta: dict[str, Any]) -> tuple[str | None, str | None]:
    raw = meta.get("licence") or meta.get("license") or meta.get("rights")
    if not raw:
        return None, None
    raw = str(raw)
    lic = get_licence(raw)
    if lic.id != "unknown":
        return lic.id, f"front matter: {raw}"
    found = detect_licence(raw)
    return (found[0], f"front matter: {raw}") if found else (None, None)


def extract_markdown(text: str | bytes, filename: str | None = None) -> Document:
    """Extract Markdown: headings, paragraphs, list items, code, quotes; front-matter metadata."""
    limits.check_text(text)
    text = _decode(text)
    meta, body = _front_matter(text)
    md = MarkdownIt("commonmark").enable("table")
    out = _markdown_blocks(md.parse(body))
    if not out.blocks:
        raise BadInput("the document contains no text")

    title = str(meta.get("title") or "").strip()
    if not title:
        title = next((b.text for b in out.blocks if b.kind == "heading" and b.level == 1), "")
    licence, evidence = _licence(meta)
    date = meta.get("date") or meta.get("published")
    return Document(
        kind="document",
        title=title or _stem(filename) or next(b.text for b in out.blocks)[:120],
        blocks=out.blocks,
        authors=_names(meta.get("authors") or meta.get("author")),
        published=str(date) if date else None,
        licence=licence,
        licence_evidence=evidence,
        language=str(meta["lang"]) if meta.get("lang") else None,
        metadata={k: v for k, v in meta.items() if isinstance(v, str | int | float | bool)
                  and k not in ("title", "author", "authors", "date", "licence", "license")},
    )


def _markdown_blocks(tokens: list[Token]) -> _Blocks:
    """Blocks from markdown-it's token stream; list and quote nesting give paragraphs' kind."""
    out = _Blocks()
    kind_stack: list[str] = []
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            kind_stack.append("quote" if tok.type == "blockquote_open" else "list")
        elif tok.type in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            if kind_stack:
                kind_stack.pop()
        elif tok.type == "heading_open":
            out.add(_inline(tokens[i + 1]), "heading", int(tok.tag[1]))
            i += 2
        elif tok.type == "paragraph_open":
            out.add(_inline(tokens[i + 1]), kind_stack[-1] if kind_stack else "paragraph")
            i += 2
        elif tok.type in ("fence", "code_block"):
            out.add(tok.content, "code")
        elif tok.type == "table_open":
            i = _markdown_table(tokens, i, out)
        elif tok.type == "html_block":
            stripped = re.sub(r"<!--.*?-->|<[^>]+>", " ", tok.content, flags=re.S)
            out.add(stripped, "paragraph")
        i += 1
    return out


def _markdown_table(tokens: list[Token], start: int, out: _Blocks) -> int:
    """Add the table opening at `start` as one block (a row per line, cells joined by ' | ');
    returns the index of its closing token."""
    rows: list[str] = []
    cells: list[str] = []
    j = start + 1
    while j < len(tokens) and tokens[j].type != "table_close":
        if tokens[j].type == "inline":
            cells.append(" ".join(_inline(tokens[j]).split()))
        elif tokens[j].type == "tr_close":
            rows.append(" | ".join(cells))
            cells = []
        j += 1
    out.add("\n".join(rows).strip(), "table")
    return j


# --- plain text ------------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*•‣◦]|\d{1,3}[.)])\s+")


def extract_text(text: str | bytes, filename: str | None = None) -> Document:
    """Extract plain text: paragraphs split on blank lines (bulleted lines become list items)."""
    limits.check_text(text)
    text = _decode(text).replace("\r\n", "\n").replace("\r", "\n")
    out = _Blocks()
    for para in re.split(r"\n\s*\n", text):
        lines = [ln for ln in para.split("\n") if ln.strip()]
        if not lines:
            continue
        if all(_BULLET.match(ln) for ln in lines):
            for ln in lines:
                out.add(_BULLET.sub("", ln), "list")
        else:
            out.add(" ".join(ln.strip() for ln in lines))
    if not out.blocks:
        raise BadInput("the document contains no text")
    first = out.blocks[0].text
    title = _stem(filename) or (first if len(first) <= 120 else first[:117] + "...")
    return Document(kind="document", title=title, blocks=out.blocks)
