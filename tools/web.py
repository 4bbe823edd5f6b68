"""Web pages: main text as headed blocks, metadata and a stated licence, via trafilatura."""

from __future__ import annotations

import re
from typing import Any

import lxml.html
import trafilatura
from lxml import etree
from trafilatura.settings import set_date_params

from storage.errors import BadInput
from tools import limits
from tools.document import Block, Document
from tools.licences import detect_licence
from tools.web_meta import displayed_title, page_meta

FULL_TEXT_DATE_MAX = 2 * 2**20  # pages up to this size are also searched for dates in their text
_HTML_HINT = re.compile(r"<\s*(?:!doctype|html|head|body|p|div|article|main|h[1-6]|span)\b", re.I)
_CITE_MARK = re.compile(r"^\[\s*(?:\d+|[a-z]|note \d+|citation needed|\w{1,12})\s*\]$", re.I)
_LICENCE_CONTAINER = re.compile(r"footer|copyright|licen[cs]e|legal", re.I)
_SKIP = {"graphic", "ref-target", "fw"}
_BLOCKISH = {"p", "head", "item", "quote", "lb", "cell", "row", "code"}
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([,.](?:\s|$))")
_EDIT_LINK = re.compile(r"\s*\[\s*(?:edit|edit source|bearbeiten|modifier|editar)\s*\]\s*$", re.I)
_TOC_TITLES = {"contents", "table of contents", "inhaltsverzeichnis", "sommaire", "índice"}


def _text(el: etree._Element) -> str:
    """Element text without footnote markers like [12], whitespace collapsed."""
    parts: list[str] = []

    def walk(node: etree._Element, top: bool) -> None:
        if not top and node.tag in ("list", "table"):
            parts.append(node.tail or "")
            return
        is_marker = (node.tag == "hi" and "sup" in (node.get("rend") or "")
                     and _CITE_MARK.match("".join(node.itertext()).strip()))
        if is_marker:
            parts.append(node.tail or "")
            return
        spaced = not top and node.tag in _BLOCKISH
        if spaced:
            parts.append(" ")
        parts.append(node.text or "")
        for child in node:
            walk(child, False)
        if spaced:
            parts.append(" ")
        if not top:
            parts.append(node.tail or "")

    walk(el, True)
    return _SPACE_BEFORE_PUNCT.sub(r"\1", " ".join("".join(parts).split()))


class _Builder:
    """Turns trafilatura's XML body into blocks, tracking the heading path."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.path: list[tuple[int, str]] = []

    def add(self, text: str, kind: str, level: int | None = None) -> None:
        if not text:
            return
        if kind == "heading":
            lvl = level or 2
            while self.path and self.path[-1][0] >= lvl:
                self.path.pop()
            self.blocks.append(Block(text=text, kind="heading", level=lvl,
                                     heading_path=[t for _, t in self.path]))
            self.path.append((lvl, text))
        else:
            self.blocks.append(Block(text=text, kind=kind, heading_path=[t for _, t in self.path]))

    def walk(self, el: etree._Element) -> None:
        for child in el:
            tag = child.tag
            if not isinstance(tag, str) or tag in _SKIP:
                continue
            if tag == "head":
                rend = child.get("rend") or ""
                level = int(rend[1]) if re.fullmatch(r"h[1-6]", rend) else None
                self.add(_EDIT_LINK.sub("", _text(child)), "heading", level)
            elif tag == "p":
                self.add(_text(child), "paragraph")
            elif tag == "list":
                self.walk_list(child)
            elif tag == "table":
                self.add(_table(child), "table")
            elif tag == "quote":
                self.add(_text(child), "quote")
            elif tag == "code":
                code = "".join(child.itertext()).strip("\n")
                self.add(code if code.strip() else "", "code")
            elif tag in ("div", "main", "section", "article"):
                self.walk(child)
            else:
                self.add(_text(child), "paragraph")

    def walk_list(self, el: etree._Element) -> None:
        for item in el:
            if item.tag != "item":
                continue
            self.add(_text(item), "list")
            for sub in item:
                if sub.tag == "list":
                    self.walk_list(sub)


def _drop_toc(blocks: list[Block]) -> list[Block]:
    """Drop an empty 'Contents' heading (a table of contents trafilatura left without items)."""
    out = []
    for i, block in enumerate(blocks):
        nxt = blocks[i + 1] if i + 1 < len(blocks) else None
        if (block.kind == "heading" and block.text.strip().lower() in _TOC_TITLES
                and (nxt is None or nxt.kind == "heading")):
            continue
        out.append(block)
    return out


def _table(el: etree._Element) -> str:
    rows = []
    for row in el.iter("row"):
        cells = [_text(c) for c in row if c.tag == "cell"]
        while cells and not cells[-1]:
            cells.pop()
        if cells:
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _authors(raw: str | None) -> list[str]:
    """trafilatura joins authors with '; '; drop values that are clearly not names."""
    out: list[str] = []
    for name in re.split(r"\s*;\s*", raw or ""):
        name = name.strip()
        if name and len(name.split()) <= 5 and len(name) <= 60 and name not in out:
            out.append(name)
    return out


def _page_licence(tree: Any, meta_licence: str | None) -> tuple[str, str] | None:
    """The page's stated licence: rel=license links, trafilatura's field, then footer text."""
    texts: list[str] = []
    if tree is not None:
        for link in tree.xpath('//*[@rel and (self::a or self::link)]'):
            if "license" in (link.get("rel") or "").lower().split():
                label = " ".join(link.text_content().split()) if link.tag == "a" else ""
                title = link.get("title") or ""
                href = (link.get("href") or "").replace("_", " ")
                texts.append(" ".join(x for x in (label, title, href) if x))
    if meta_licence:
        texts.append(meta_licence)
    if tree is not None:
        for node in tree.xpath("//footer | //*[@id or @class]"):
            marker = f"{node.get('id') or ''} {node.get('class') or ''}"
            if node.tag == "footer" or _LICENCE_CONTAINER.search(marker):
                texts.append(" ".join(node.text_content().split())[:3000])
    best: tuple[int, tuple[str, str]] | None = None
    for text in texts:
        found = detect_licence(text)
        if found is None:
            continue
        lid = found[0]
        rank = 2 if lid == "all-rights-reserved" else 1 if re.fullmatch(r"CC-BY[A-Z-]*", lid) else 0
        if best is None or rank < best[0]:
            best = (rank, found)
        if rank == 0:
            break
    return best[1] if best else None


def _title(stated: Any, found: str, tree: Any, blocks: list[Block]) -> str:
    """The page's title: a stated one (citation_title, JSON-LD, OpenGraph, <title>) in the form
    the page prints it as its top heading, else the stated scholarly title, else trafilatura's."""
    if stated is None:
        return found
    tops = [" ".join(h.text_content().split()) for h in tree.iter("h1")]
    tops += [b.text for b in blocks[:3] if b.kind == "heading"]
    candidates = [t for t in [stated.title, *stated.names, found] if t]
    return displayed_title(candidates, tops) or stated.title or found or next(
        (b.text for b in blocks if b.kind == "heading"), "")


def _parse(html: str) -> Any:
    try:
        return lxml.html.fromstring(html)
    except (etree.ParserError, ValueError):
        return None


def extract_webpage(html: bytes | str, url: str | None = None) -> Document:
    """Extract a web page's main text into headed blocks plus metadata and licence."""
    limits.check_html(html)
    if isinstance(html, bytes):
        html = _decode(html)
    if not html.strip():
        raise BadInput("empty web page")
    if not _HTML_HINT.search(html[:65536]):
        raise BadInput("not an HTML page")
    tree = _parse(html)
    # htmldate's full-text date search is a regex scan that holds the GIL (seconds on a large
    # page, stalling the server's event loop): large pages use the markup's dates only
    extensive = len(html) <= FULL_TEXT_DATE_MAX
    options: dict[str, Any] = dict(output_format="xml", include_formatting=True,
                                   include_tables=True, include_comments=False,
                                   include_links=False, with_metadata=True, url=url,
                                   date_extraction_params=set_date_params(extensive))
    xml = trafilatura.extract(html, **options) or trafilatura.extract(
        html, favor_recall=True, **options)
    if not xml:
        raise BadInput("no main text found on the web page")
    root = etree.fromstring(xml.encode("utf-8"))
    main = root.find("main")
    builder = _Builder()
    builder.walk(main if main is not None else root)
    blocks = _drop_toc(builder.blocks)
    if not any(b.kind != "heading" for b in blocks):
        raise BadInput("no main text found on the web page")

    meta = trafilatura.extract_metadata(html, default_url=url, extensive=extensive)
    stated = page_meta(tree) if tree is not None else None
    title = _title(stated, (meta.title if meta else None) or root.get("title") or "", tree,
                   blocks) or url or "Untitled"
    canonical = (meta.url if meta else None) or url
    language = (stated.language if stated else None) or (meta.language if meta else None) or (
        (tree.get("lang") or tree.get("xml:lang") or "").split("-")[0].lower() or None
        if tree is not None else None)
    licence = _page_licence(tree, meta.license if meta else None)
    metadata: dict[str, Any] = {}
    if meta is not None:
        metadata.update({k: v for k, v in (("description", meta.description),
                                           ("hostname", meta.hostname),
                                           ("categories", meta.categories or None),
                                           ("tags", meta.tags or None),
                                           ("image", meta.image),
                                           ("pagetype", meta.pagetype)) if v})
    if canonical:
        metadata["canonical_url"] = canonical
    if url and url != canonical:
        metadata["fetched_url"] = url
    return Document(
        kind="webpage",
        title=title.strip(),
        blocks=blocks,
        authors=(stated.authors if stated else None) or _authors(meta.author if meta else None),
        published=(stated.published if stated else None) or (meta.date if meta else None),
        abstract=(stated.abstract or stated.description) if stated else None,
        doi=stated.doi if stated else None,
        licence=licence[0] if licence else None,
        licence_evidence=licence[1] if licence else None,
        url=canonical,
        site=(meta.sitename if meta else None) or None,
        language=language,
        metadata=metadata,
    )


def _decode(data: bytes) -> str:
    """Bytes to text using a BOM or the page's declared charset, else UTF-8 (lenient)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    m = re.search(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-]+)""", data[:4096], re.I)
    if m:
        try:
            return data.decode(m.group(1).decode("ascii"), errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")
