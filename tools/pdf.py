"""Offline, model-free extraction of academic PDFs with pdfium: structure, figures, metadata."""

from __future__ import annotations

import ctypes
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pypdfium2.raw as pdfium_c

from storage import cancel
from storage.errors import BadInput
from tools import limits
from tools.document import Block, Document, Figure
from tools.pdf_front import ABSTRACT_HEAD, ABSTRACT_RUNIN, authors_below, letters, pick_abstract
from tools.pdf_layout import (
    SOFT_HYPHEN,
    Box,
    Line,
    PageContent,
    build_lines,
    png_bytes,
    read_page,
    reading_order,
)

_LOCK = threading.Lock()  # pdfium is not thread-safe
Render = Callable[[int, Box], bytes | None]

_NUMBERED = re.compile(r"^((?:\d+|[A-Z])(?:\.\d+){0,3})\.?\s+(\S.*)$")
_ROMAN = re.compile(r"^([IVX]+)\.\s+(\S.*)$")
_CAPTION = re.compile(r"^(Figure|FIGURE|Fig\.|FIG\.|Table|TABLE)\s*(\d+|[IVX]+)\s*([:.|]?)\s*(.*)$")
_REF_HEADING = re.compile(
    r"^(?:\d+\.?\s*)?(references?(?: and notes)?|bibliography|literature(?: cited)?|works cited|"
    r"cited literature|referencias(?: bibliogr[aá]ficas)?|refer[eê]ncias(?: bibliogr[aá]ficas)?|"
    r"bibliograf[ií]a|literatur(?:verzeichnis)?|bibliographie|literatuur|"
    r"r[ée]f[ée]rences(?: bibliographiques)?|riferimenti bibliografici)$", re.I)
_REF_NUMBER = re.compile(r"^(\[\s?\d(?:\s?\d){0,2}\s?\]|\d{1,3}\.?\s)")
_DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>,;]+)", re.I)
_ARXIV = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5})(?:v\d+)?", re.I)
_LICENCE = re.compile(r"(creative\s*commons[^.]*|\bCC[- ]BY(?:[- ](?:NC|ND|SA))*(?:[- ]\d\.\d)?)",
                      re.I)
_YEAR = re.compile(r"\b(19[5-9]\d|20[0-4]\d)\b")
_DIACRITIC = re.compile(r"([\u00a8\u00b4`\u02c6\u02dc\u00b8\u02c7\u02da])\s?([A-Za-z])")
_COMBINING = {"\u00a8": "\u0308", "\u00b4": "\u0301", "`": "\u0300", "\u02c6": "\u0302",
              "\u02dc": "\u0303", "\u00b8": "\u0327", "\u02c7": "\u030c", "\u02da": "\u030a"}


def extract_pdf(data: bytes, *, images: bool = True) -> Document:
    """Extract title, metadata, headings, paragraphs in reading order, references and figures."""
    if not data:
        raise BadInput("not a PDF: the file is empty")
    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise BadInput("not a PDF: the file does not start with a %PDF header")
    with _LOCK:
        return _read_document(data, images)


def _read_document(data: bytes, images: bool) -> Document:
    buf = ctypes.create_string_buffer(data, len(data))
    pdf = pdfium_c.FPDF_LoadMemDocument64(buf, len(data), None)
    if not pdf:
        code = pdfium_c.FPDF_GetLastError()
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            raise BadInput("the PDF is encrypted (password protected)")
        raise BadInput(f"not a PDF (corrupt or truncated): pdfium error {code}")
    try:
        count = pdfium_c.FPDF_GetPageCount(pdf)
        if count <= 0:
            raise BadInput("the PDF has no pages")
        limits.check("the page count", count, "max_pdf_pages")
        info = {k: _meta(pdf, k) for k in ("Title", "Author", "CreationDate")}
        pages = []
        for i in range(count):
            cancel.check()  # a cancelled job stops within a page
            pages.append(read_page(pdf, i))
        ocr_pages = []
        if sum(len(s.text.strip()) for p in pages for s in p.spans) < 20 * min(count, 5):
            ocr_pages = _ocr(pdf, pages)  # scanned: no text layer
        render = (lambda page, box: _render(pdf, page, box)) if images else None
        doc = _assemble(pages, info, render, lambda n: read_page(pdf, n - 1, True).graphics)
        if ocr_pages:
            from tools.ocr import ENGINE

            doc.metadata["ocr"] = {"engine": ENGINE, "pages": ocr_pages}
        return doc
    finally:
        pdfium_c.FPDF_CloseDocument(pdf)
        del buf


def _ocr(pdf: Any, pages: list[PageContent]) -> list[int]:
    """Read the text of pages without a text layer by OCR; the page numbers it read."""
    from tools.ocr import SCALE, ocr_image

    done = []
    for p in pages:
        if sum(len(s.text.strip()) for s in p.spans) >= 20:
            continue
        cancel.check()  # OCR takes seconds a page: a cancelled job stops between pages
        pixels = _pixels(pdf, p.number, (0.0, 0.0, p.width, p.height), SCALE)
        if pixels is None:
            continue
        p.spans = ocr_image(pixels, SCALE)
        p.rotated = []
        done.append(p.number)
    if sum(len(s.text.strip()) for p in pages for s in p.spans) < 20:
        raise BadInput("the PDF has no extractable text: no text layer, and OCR found none")
    return done


def _meta(pdf: Any, key: str) -> str:
    n = pdfium_c.FPDF_GetMetaText(pdf, key.encode(), None, 0)
    if n <= 2:
        return ""
    out = ctypes.create_string_buffer(n)
    pdfium_c.FPDF_GetMetaText(pdf, key.encode(), out, n)
    return out.raw[: n - 2].decode("utf-16-le", "replace").strip()


def _render(pdf: Any, number: int, box: Box, scale: float = 2.0) -> bytes | None:
    pixels = _pixels(pdf, number, box, scale)
    if pixels is None:
        return None
    h, w = pixels.shape[:2]
    return png_bytes(pixels.tobytes(), w, h, w * 3, 3)


def _pixels(pdf: Any, number: int, box: Box, scale: float) -> np.ndarray | None:
    """RGB pixels of a page region (None when it would be too large)."""
    page = pdfium_c.FPDF_LoadPage(pdf, number - 1)
    if not page:
        return None
    bitmap = None
    try:
        x0, y0, x1, y1 = box
        w, h = max(1, int((x1 - x0) * scale)), max(1, int((y1 - y0) * scale))
        if not limits.image_fits(w, h):
            return None  # a figure too large to render stays a caption without an image
        bitmap = pdfium_c.FPDFBitmap_CreateEx(w, h, pdfium_c.FPDFBitmap_BGR, None, 0)
        pdfium_c.FPDFBitmap_FillRect(bitmap, 0, 0, w, h, 0xFFFFFFFF)
        matrix = pdfium_c.FS_MATRIX(scale, 0, 0, scale, -x0 * scale, -y0 * scale)
        clip = pdfium_c.FS_RECTF(0, 0, w, h)
        pdfium_c.FPDF_RenderPageBitmapWithMatrix(bitmap, page, matrix, clip,
                                                 pdfium_c.FPDF_ANNOT
                                                 | pdfium_c.FPDF_REVERSE_BYTE_ORDER)
        stride = pdfium_c.FPDFBitmap_GetStride(bitmap)
        raw = ctypes.string_at(pdfium_c.FPDFBitmap_GetBuffer(bitmap), stride * h)
        arr = np.frombuffer(raw, dtype=np.uint8).reshape(h, stride)[:, : w * 3]
        return arr.reshape(h, w, 3).copy()
    finally:
        if bitmap:
            pdfium_c.FPDFBitmap_Destroy(bitmap)
        pdfium_c.FPDF_ClosePage(page)


def clean(text: str) -> str:
    """Fix spacing diacritics and stray whitespace in a line of text."""
    text = _DIACRITIC.sub(lambda m: unicodedata.normalize("NFC", m[2] + _COMBINING[m[1]]), text)
    return re.sub(r"\s+", " ", text).strip()


class Hyphens:
    """Which line-break hyphens are real, judged from the words printed elsewhere in the document.

    "machine-" + "readable" keeps its hyphen when "machine-readable" occurs unbroken elsewhere at
    least as often as "machinereadable", or when "machinereadable" never occurs but "machine" and
    "readable" both do as words of their own; "cor-" + "pus" becomes "corpus".
    """

    _WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
    _TAIL = re.compile(r"(?<![A-Za-z-])[A-Za-z]+(?:-[A-Za-z]+)*$")

    def __init__(self, texts: list[str]) -> None:
        self.words: Counter[str] = Counter()
        broken = False
        for t in texts:
            words = self._WORD.findall(t.lower())
            if broken and words:
                words = words[1:]  # the tail of the word broken at the previous line's end
            broken = t.endswith(("-", SOFT_HYPHEN))
            if broken and words:
                words = words[:-1]
            self.words.update(words)
            self.words.update(p for w in words if "-" in w for p in w.split("-"))

    def keep(self, left: str, right: str) -> bool:
        m = self._TAIL.search(left[-80:])
        n = re.match(r"[A-Za-z]+", right)
        if not m or not n:
            return False
        a, b = m[0].lower(), n[0].lower()
        hyphenated, joined = self.words[f"{a}-{b}"], self.words[a + b]
        if hyphenated:
            return hyphenated >= joined
        head = a.rsplit("-", 1)[-1]
        return not joined and len(head) >= 4 and len(b) >= 3 and self.words[head] > 0 and \
            self.words[b] > 0


def join_lines(lines: list[str], hyphens: Hyphens | None = None) -> str:
    """Join lines into running text, removing line-break hyphens (unless they are real ones)."""
    out = ""
    for raw in lines:
        t = clean(raw.replace(SOFT_HYPHEN + " ", SOFT_HYPHEN))
        if not out:
            out = t
        elif out.endswith(SOFT_HYPHEN) or (
                out.endswith("-") and len(out) > 1 and out[-2].isalpha() and t[:1].islower()):
            if re.match(r"(?:and|or|nor|to)\b", t):  # "wild- and mutant-type"
                out = out[:-1] + "- " + t
            else:
                keep = hyphens is not None and hyphens.keep(out[:-1], t)
                out = out[:-1] + ("-" if keep else "") + t
        else:
            out += " " + t
    return out.replace(SOFT_HYPHEN, "-").strip()


# --- page structure -------------------------------------------------------------------------


def _page_lines(pages: list[PageContent]) -> list[list[Line]]:
    """Lines per page with running headers/footers, page and line numbers removed."""
    all_lines = [build_lines(p) for p in pages]
    margin_keys: Counter[str] = Counter()
    for p, lines in zip(pages, all_lines, strict=True):
        for key in {_margin_key(ln) for ln in lines if _in_margin(ln, p)}:
            margin_keys[key] += 1
    repeat = max(3, int(0.3 * len(pages)))
    result = []
    for p, lines in zip(pages, all_lines, strict=True):
        kept = []
        for ln in lines:
            t = ln.text.strip()
            if re.fullmatch(r"[\divxlcIVXLC]{1,5}", t) and (
                    _in_margin(ln, p) or ln.x1 < 0.12 * p.width or ln.x0 > 0.88 * p.width):
                continue
            if _in_margin(ln, p) and len(pages) > 2 and margin_keys[_margin_key(ln)] >= repeat:
                continue
            ln.text = t
            kept.append(ln)
        result.append(kept)
    return result


def _in_margin(ln: Line, p: PageContent) -> bool:
    return ln.y1 < 0.085 * p.height or ln.y0 > 0.915 * p.height


def _margin_key(ln: Line) -> str:
    return re.sub(r"[\d\s]+", "#", ln.text.lower())[:60]


def _body_size(lines: list[list[Line]]) -> float:
    sizes: Counter[float] = Counter()
    for page in lines:
        for ln in page:
            sizes[round(ln.size * 2) / 2] += len(ln.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


def _caption_match(ln: Line, body: float) -> re.Match[str] | None:
    m = _CAPTION.match(ln.text)
    if not m or m[2] == "0" or m[3] == "." and m[4][:1].isdigit():
        return None
    first = ln.spans[0]
    label_bold = first.bold and not all(s.bold for s in ln.spans)
    if m[3] or label_bold or ln.size < body - 0.4 or (first.bold and ln.bold and not m[4]):
        return m
    return None


def _caption_lines(lines: list[Line], start: int, body: float) -> list[int]:
    """Indexes of the caption starting at `start` (following lines in the same font and column)."""
    first = lines[start]
    picked = [start]
    prev = first
    for j in range(start + 1, min(len(lines), start + 40)):
        ln = lines[j]
        if abs(ln.size - first.size) > 0.3 or ln.y0 < prev.y0 or ln.y0 - prev.y1 > 0.8 * ln.size:
            break
        if ln.x0 > first.x1 or ln.x1 < first.x0 or _caption_match(ln, body):
            break
        picked.append(j)
        prev = ln
    return picked


def _label(m: re.Match[str]) -> str:
    word = "Table" if m[1].lower().startswith("t") else "Figure"
    return f"{word} {m[2]}"


def _region(p: PageContent, cap: list[Line], table: bool, small: list[Box],
            barriers: list[Box]) -> Box | None:
    """The graphics area next to a caption: above for figures, below for tables (then the other)."""
    cx0, cx1 = min(ln.x0 for ln in cap), max(ln.x1 for ln in cap)
    top, bottom = cap[0].y0, max(ln.y1 for ln in cap)
    if cx1 - cx0 < 0.45 * p.width:  # a column caption: widen to the column
        mid = p.width / 2
        cx0, cx1 = (min(cx0, 0.05 * p.width), mid) if cx1 <= mid + 10 else (mid, max(
            cx1, 0.95 * p.width))
    cands = [g for g in p.graphics + small if g[2] > cx0 - 5 and g[0] < cx1 + 5]
    walls = [b for b in barriers if b[2] > cx0 + 5 and b[0] < cx1 - 5]
    up = max((b[3] for b in walls if b[3] <= top + 1), default=0.0)
    down = min((b[1] for b in walls if b[1] >= bottom - 1), default=p.height)
    found = [b for b in (_grow([g for g in cands if g[1] >= up - 1 and g[3] <= down + 1],
                               top, bottom, d) for d in (-1, 1)) if b]
    if not found:
        return None
    box = max(found, key=lambda b: (b[2] - b[0]) * (b[3] - b[1])) if table else found[0]
    pad = 2.0
    return (max(0.0, box[0] - pad), max(0.0, box[1] - pad), min(p.width, box[2] + pad),
            min(p.height, box[3] + pad))


def _grow(cands: list[Box], top: float, bottom: float, direction: int) -> Box | None:
    if direction < 0:
        items = sorted((g for g in cands if g[3] <= top + 3), key=lambda g: -g[3])
    else:
        items = sorted((g for g in cands if g[1] >= bottom - 3), key=lambda g: g[1])
    box: Box | None = None
    edge = top if direction < 0 else bottom
    for g in items:
        gap = (edge - g[3]) if direction < 0 else (g[1] - edge)
        if gap > (30 if box else 40):
            break
        box = g if box is None else (min(box[0], g[0]), min(box[1], g[1]), max(box[2], g[2]),
                                     max(box[3], g[3]))
        edge = box[1] if direction < 0 else box[3]
    if box is None or (box[2] - box[0]) * (box[3] - box[1]) < 400:
        return None
    return box


# --- assembling the document ----------------------------------------------------------------


def _assemble(pages: list[PageContent], info: dict[str, str], render: Render | None,
              graphics: Callable[[int], list[Box]]) -> Document:
    lines = _page_lines(pages)
    body = _body_size(lines)
    stream: list[Line] = []
    for page_lines in lines:
        order = reading_order([ln.box for ln in page_lines])
        stream.extend(page_lines[i] for i in order)
    hyphens = Hyphens([ln.text for ln in stream])
    figures, caption_ids = _captions(stream, body, render, pages, graphics, hyphens)
    inside = _inside_figures(stream, figures, caption_ids)
    title, title_ids = _title(stream, body, info)
    authors, author_ids = _authors(stream, title_ids, body, info)
    top = min((stream[i].y0 for i in title_ids), default=0.0)
    banner = {i for i, ln in enumerate(stream) if ln.page == 1 and ln.y1 <= top}  # over the title
    heading_groups = _headings(stream, body, caption_ids | title_ids | inside | author_ids | banner)
    levels = _levels(stream, set(heading_groups))
    continuation = {j for g in heading_groups.values() for j in g[1:]}
    doc = Document(kind="pdf", title=title, pages=len(pages))
    doc.authors = authors
    front = _FrontMatter(stream, body, pages[0].height, set(heading_groups), title_ids,
                         doc.authors)
    build = _Blocks(doc, stream, hyphens, front, heading_groups, levels)
    build.run(figures, skip=caption_ids | title_ids | inside | continuation)
    ref_lines = build.ref_lines or _unheaded_references(doc, build.block_lines, hyphens)
    doc.references = _split_references(ref_lines, hyphens)
    doc.figures = [fig for fig, _ in figures]
    _metadata(doc, pages, lines, info, body)
    found_as = doc.metadata.get("abstract_found_as")
    doc.kind = "paper" if found_as not in (None, "lead paragraph") or doc.references else "pdf"
    return doc


class _Blocks:
    """The document's blocks from the reading-order line stream: paragraphs (split where the
    layout breaks), headings with their path, captions; the lines under a references heading
    are set aside for the reference splitter."""

    def __init__(self, doc: Document, stream: list[Line], hyphens: Hyphens, front: _FrontMatter,
                 heading_groups: dict[int, list[int]], levels: dict[int, int]) -> None:
        self.doc, self.stream, self.hyphens, self.front = doc, stream, hyphens, front
        self.heading_groups, self.levels = heading_groups, levels
        self.path: list[tuple[int, str]] = []
        self.para: list[Line] = []
        self.in_refs = False
        self.ref_level = 0
        self.ref_lines: list[Line] = []
        self.last_heading = -1
        self.abstract_seen = False
        self.block_lines: dict[int, list[Line]] = {}

    def run(self, figures: list[tuple[Figure, list[int]]], skip: set[int]) -> None:
        fig_by_first = {ids[0]: fig for fig, ids in figures if ids}
        for i, ln in enumerate(self.stream):
            if i in fig_by_first:
                self.caption(fig_by_first[i], caption_ids_of(figures, i))
            elif i in skip:
                continue
            elif i in self.heading_groups:
                self.heading(i, ln)
            else:
                self.line(i, ln)
        self.flush()

    def _path(self) -> list[str]:
        return [h for _, h in self.path]

    def flush(self) -> None:
        """End the paragraph being collected (reference lines are kept apart)."""
        para = self.para
        if not para:
            return
        text = join_lines([ln.text for ln in para], self.hyphens)
        if self.in_refs:
            self.ref_lines.extend(para)
        elif text:
            x0, y0 = min(ln.x0 for ln in para), min(ln.y0 for ln in para)
            x1, y1 = max(ln.x1 for ln in para), max(ln.y1 for ln in para)
            kind = "front" if self.front.covers(para, text) else "paragraph"
            self.doc.blocks.append(Block(text=text, kind=kind, page=para[0].page,
                                         bbox=_round_box((x0, y0, x1, y1)),
                                         heading_path=self._path()))
            self.block_lines[id(self.doc.blocks[-1])] = list(para)
        self.para = []

    def caption(self, fig: Figure, ids: list[int]) -> None:
        self.flush()
        if not self.in_refs:
            self.doc.blocks.append(Block(text=fig.caption, kind="caption", page=fig.page,
                                         bbox=_bbox([self.stream[j] for j in ids]),
                                         heading_path=self._path()))

    def heading(self, i: int, ln: Line) -> None:
        self.flush()
        group = [self.stream[j] for j in self.heading_groups[i]]
        text = join_lines([x.text for x in group])
        level = self.levels[i]
        if self.in_refs and not _REF_HEADING.match(text) and level > self.ref_level:
            return  # a sub-heading inside the references
        self.in_refs = bool(_REF_HEADING.match(text))
        self.ref_level = level
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.doc.blocks.append(Block(text=text, kind="heading", page=ln.page, bbox=_bbox(group),
                                     level=level, heading_path=self._path()))
        self.path.append((level, text))
        self.last_heading = i
        self.abstract_seen = self.abstract_seen or bool(ABSTRACT_HEAD.match(letters(text)))

    def line(self, i: int, ln: Line) -> None:
        runin = ABSTRACT_RUNIN.match(ln.text) if ln.page <= 2 and not self.abstract_seen else None
        if runin:  # "Abstract: We ..." is a run-in heading
            self.flush()
            self.doc.blocks.append(Block(text=runin[1], kind="heading", page=ln.page,
                                         bbox=_bbox([ln]), level=1, heading_path=[]))
            self.path[:] = [(1, runin[1])]
            ln.text = runin[2]
        elif self.para and (_breaks(self.para[-1], ln, self.stream, i, self.last_heading)
                            or self.front.boundary(self.para[-1], ln)):
            self.flush()
        self.abstract_seen = self.abstract_seen or bool(runin)
        self.para.append(ln)


def caption_ids_of(figures: list[tuple[Figure, list[int]]], first: int) -> list[int]:
    """Line indexes of the caption whose first line is `first`."""
    return next(ids for _, ids in figures if ids[0] == first)


def _round_box(b: Box) -> Box:
    return (round(b[0], 1), round(b[1], 1), round(b[2], 1), round(b[3], 1))


def _bbox(lines: list[Line]) -> Box:
    return (round(min(ln.x0 for ln in lines), 1), round(min(ln.y0 for ln in lines), 1),
            round(max(ln.x1 for ln in lines), 1), round(max(ln.y1 for ln in lines), 1))


def _captions(stream: list[Line], body: float, render: Render | None, pages: list[PageContent],
              graphics: Callable[[int], list[Box]], hyphens: Hyphens | None = None
              ) -> tuple[list[tuple[Figure, list[int]]], set[int]]:
    figures: list[tuple[Figure, list[int]]] = []
    seen: set[str] = set()
    ids: set[int] = set()
    is_caption = {i for i, ln in enumerate(stream) if _caption_match(ln, body)}
    small: dict[int, list[Box]] = {}
    barriers: dict[int, list[Box]] = {}
    for i, ln in enumerate(stream):
        if ln.size < body - 0.4 and i not in is_caption:
            small.setdefault(ln.page, []).append(ln.box)
        elif i in is_caption or len(ln.text) > 40:
            barriers.setdefault(ln.page, []).append(ln.box)
    for i, ln in enumerate(stream):
        if i in ids:
            continue
        m = _caption_match(ln, body)
        if not m:
            continue
        label = _label(m)
        if label in seen:
            continue
        seen.add(label)
        picked = _caption_lines(stream, i, body)
        ids.update(picked)
        cap_lines = [stream[j] for j in picked]
        caption = join_lines([x.text for x in cap_lines], hyphens)
        p = pages[ln.page - 1]
        if not p.graphics:
            p.graphics = graphics(p.number) or [(0.0, 0.0, 0.0, 0.0)]
        walls = [b for b in barriers.get(ln.page, []) if b not in [x.box for x in cap_lines]]
        region = _region(p, cap_lines, label.startswith("Table"), small.get(ln.page, []), walls)
        image = render(ln.page, region) if render and region else None
        bbox = _round_box(region) if region else None
        figures.append((Figure(kind="table" if label.startswith("Table") else "figure",
                               label=label, caption=caption, page=ln.page, bbox=bbox,
                               image=image), picked))
    for p in pages:  # captions printed sideways (landscape tables and figures)
        for k, text in enumerate(p.rotated):
            m = _CAPTION.match(clean(text))
            if m and m[2] != "0" and _label(m) not in seen and len(p.rotated) > 20:
                seen.add(_label(m))
                caption = clean(" ".join(p.rotated[k: k + 2]))
                figures.append((Figure(kind="table" if m[1].lower().startswith("t") else "figure",
                                       label=_label(m), caption=caption, page=p.number), []))
    return figures, ids


def _inside_figures(stream: list[Line], figures: list[tuple[Figure, list[int]]],
                    caption_ids: set[int]) -> set[int]:
    out: set[int] = set()
    for fig, _ in figures:
        if not fig.bbox or fig.page is None:
            continue
        x0, y0, x1, y1 = fig.bbox
        for i, ln in enumerate(stream):
            if ln.page == fig.page and i not in caption_ids and ln.x0 >= x0 - 3 and \
                    ln.x1 <= x1 + 3 and ln.y0 >= y0 - 3 and ln.y1 <= y1 + 3:
                out.add(i)
    return out


def _title(stream: list[Line], body: float, info: dict[str, str]) -> tuple[str, set[int]]:
    """The largest text in the upper part of page 1, unless it reads as a banner (a journal
    name or section label: a few words, lower-case or set off to the right or in the top
    margin) while longer large text follows; then the next size down."""
    first = [(i, ln) for i, ln in enumerate(stream) if ln.page == 1]
    bottom = max((ln.y1 for _, ln in first), default=1.0)
    width = max((ln.x1 for _, ln in first), default=1.0)
    cands = [(i, ln) for i, ln in first
             if ln.y0 < 0.6 * bottom and len(ln.text) > 3 and ln.size > body * 1.15]
    sizes = sorted({round(ln.size * 2) / 2 for _, ln in cands}, reverse=True)
    for k, big in enumerate(sizes):
        group = _title_group([(i, ln) for i, ln in cands if ln.size >= big - 0.5])
        text = join_lines([ln.text for _, ln in group])
        if len(text) <= 5:
            continue
        lines = [ln for _, ln in group]
        banner = len(text.split()) <= 3 and (
            not text[:1].isupper() and not text[:1].isdigit()
            or min(ln.x0 for ln in lines) > 0.5 * width
            or max(ln.y1 for ln in lines) < 0.12 * bottom)
        if banner and k + 1 < len(sizes):
            cands = [(i, ln) for i, ln in cands if ln.size < big - 0.5]
            continue
        return text, {i for i, _ in group}
    return info.get("Title", ""), set()


def _title_group(picked: list[tuple[int, Line]]) -> list[tuple[int, Line]]:
    """The first block of same-size lines from the top (a title may wrap)."""
    picked = sorted(picked, key=lambda t: t[1].y0)
    big = max(ln.size for _, ln in picked)
    group = [picked[0]]
    for i, ln in picked[1:]:
        if ln.y0 - group[-1][1].y1 < 1.2 * big:
            group.append((i, ln))
    return group


def _is_heading_text(text: str) -> bool:
    words = text.split()
    long_words = [w for w in words if sum(c.isalpha() for c in w) >= 3]
    return 0 < len(words) <= 14 and len(text) < 120 and bool(long_words) and \
        len(long_words) >= 0.4 * len(words) and not text.endswith((",", ";", "-", SOFT_HYPHEN)) \
        and not re.search(r"[=<>]", text)


def _headings(stream: list[Line], body: float, skip: set[int]) -> dict[int, list[int]]:
    """Heading start line -> all its lines (headings may wrap)."""
    heading_fonts = _heading_fonts(stream)
    found = [i for i, ln in enumerate(stream)
             if i not in skip and _is_heading_line(stream, i, body, heading_fonts)]
    anchors = [i for i in found if stream[i].page == 1 and (
        _NUMBERED.match(stream[i].text) or ABSTRACT_HEAD.match(letters(stream[i].text))
        or re.match(r"(abstract|introduction|summary|background)\b", stream[i].text, re.I))]
    if anchors:  # bold front matter (author names) is not a heading
        found = [i for i in found if i >= anchors[0]]
    out: dict[int, list[int]] = {}
    taken: set[int] = set()
    for i in found:
        if i not in taken:
            out[i] = _heading_group(stream, i, skip)
            taken.update(out[i])
    return out


def _is_heading_line(stream: list[Line], i: int, body: float, heading_fonts: set[str]) -> bool:
    """Whether line `i` starts a heading: "Abstract" alone, a short line in a heading font, or
    a styled (bold or larger) isolated line, numbered or capitalised."""
    ln = stream[i]
    text = ln.text
    if ln.page <= 2 and ABSTRACT_HEAD.match(letters(text)):
        return True  # "Abstract" alone on its line is a heading in any font
    if not _is_heading_text(text):
        return False
    if ln.font in heading_fonts and _font_heading(stream, i):
        return True
    numbered = _NUMBERED.match(text) or _ROMAN.match(text)
    styled = ln.bold or ln.size > body + 0.8
    caps = text.isupper() and len(text) > 3
    if numbered and numbered[1][0].isalpha() and not (ln.bold and ln.size >= body - 0.2):
        numbered = None  # "A sentence" is not an appendix heading unless bold
    numbered_ok = numbered is not None and numbered[2][:1].isupper()
    plain_ok = text[:1].isupper() and (caps or ln.size >= body - 0.2)
    return bool(styled and (numbered_ok or plain_ok) and not text.endswith(".")
                and _isolated(stream, i))


def _heading_group(stream: list[Line], i: int, skip: set[int]) -> list[int]:
    """The heading's lines: line `i` and up to two bold lines wrapped right under it."""
    group = [i]
    for j in range(i + 1, min(i + 3, len(stream))):
        prev, ln = stream[group[-1]], stream[j]
        if j in skip or not ln.bold or ln.page != prev.page or abs(prev.size - ln.size) > 0.3 \
                or not 0 <= ln.y0 - prev.y1 < 0.6 * ln.size or _NUMBERED.match(ln.text):
            break
        group.append(j)
    return group


def _heading_fonts(stream: list[Line]) -> set[str]:
    """Fonts kept for headings: rare (under 3% of the characters), used on two or more lines,
    and only on short ones. Some publishers set headings apart by typeface alone."""
    chars: Counter[str] = Counter()
    longest: dict[str, int] = {}
    count: Counter[str] = Counter()
    for ln in stream:
        chars[ln.font] += len(ln.text)
        count[ln.font] += 1
        longest[ln.font] = max(longest.get(ln.font, 0), len(ln.text))
    total = sum(chars.values()) or 1
    return {f for f, n in chars.items() if f and n < 0.03 * total and count[f] >= 2
            and longest[f] <= 60}


def _font_heading(stream: list[Line], i: int) -> bool:
    """A short capitalised line in a heading font, left-aligned with the different-font text
    that follows it."""
    ln = stream[i]
    nxt = stream[i + 1] if i + 1 < len(stream) else None
    return bool(ln.text[:1].isupper() and not ln.text.endswith((".", ",", ";", ":"))
                and nxt is not None and nxt.page == ln.page and nxt.font != ln.font
                and abs(nxt.x0 - ln.x0) < 3 and 0 <= nxt.y0 - ln.y1 < 1.5 * ln.size)


def _isolated(stream: list[Line], i: int, depth: int = 0) -> bool:
    """A stand-alone line: not a bold phrase running into regular text on this or the next line."""
    ln = stream[i]
    tail = ""
    for sp in reversed(ln.spans):
        if sp.bold:
            break
        tail = sp.text + tail
    head = ln.text[: -len(tail)].rstrip() if tail else ln.text
    if len(tail.strip()) > 20 or tail.strip() and head.endswith((".", ":")):
        return False
    nxt = stream[i + 1] if i + 1 < len(stream) else None
    if nxt is None or nxt.page != ln.page or nxt.y0 < ln.y0 - 1 or nxt.x0 > ln.x1:
        return True
    same = abs(nxt.size - ln.size) < 0.3
    if nxt.bold and same and nxt.y0 - ln.y1 < 0.6 * ln.size:
        return depth < 3 and _isolated(stream, i + 1, depth + 1)
    if nxt.spans[0].bold and not nxt.bold and same:
        return False
    return not (nxt.text[:1].islower() and not _NUMBERED.match(ln.text)
                and not ln.text.isupper())


def _levels(stream: list[Line], heading_ids: set[int]) -> dict[int, int]:
    levels: dict[int, int] = {}
    styles: dict[tuple[float, bool], Counter[int]] = {}
    for i in heading_ids:
        ln = stream[i]
        m = _NUMBERED.match(ln.text)
        if m:
            lvl = min(3, m[1].count(".") + 1)
            levels[i] = lvl
            styles.setdefault((round(ln.size), ln.text.isupper()), Counter())[lvl] += 1
    sizes = sorted({round(stream[i].size) for i in heading_ids}, reverse=True)
    for i in heading_ids:
        if i in levels:
            continue
        ln = stream[i]
        known = styles.get((round(ln.size), ln.text.isupper())) or styles.get(
            (round(ln.size), False))
        if known:
            levels[i] = known.most_common(1)[0][0]
        else:
            levels[i] = 1 if ln.text.isupper() else min(3, sizes.index(round(ln.size)) + 1)
    return levels


def _breaks(prev: Line, ln: Line, stream: list[Line], i: int, last_heading: int) -> bool:
    """Does `ln` start a new paragraph after `prev`?"""
    if abs(ln.size - prev.size) > 0.6 or ln.bold != prev.bold and len(ln.text) > 40:
        return True
    if ln.page != prev.page or ln.y0 < prev.y0 - 1 or ln.x0 > prev.x1:  # new column or page
        return prev.text.rstrip().endswith((".", ":", "?", "!")) or ln.x0 > prev.x0 + 3 and \
            ln.page == prev.page and ln.y0 >= prev.y0
    gap = ln.y0 - prev.y1
    if gap > 0.9 * ln.size:
        return True
    if ln.x0 > prev.x0 + 0.6 * ln.size and ln.x0 - prev.x0 < 4 * ln.size and \
            re.match(r"[A-Z0-9(\[“\"•]", ln.text):
        return True
    width = max(x.x1 for x in stream[max(0, i - 4): i + 4] if x.page == ln.page and abs(
        x.x0 - ln.x0) < 15)
    return prev.x1 < width - 2.5 * ln.size and prev.text.rstrip().endswith((".", ":", "?", "!"))


_CITE_START = re.compile(r"^(?:\[\s?\d{1,3}\s?\]|\d{1,3}[.)]?\s+[A-Z]|"
                         r"[A-Z][^\W\d_]+(?:[ -][A-Z][^\W\d_]+)?,\s*(?:[A-Z]\.|[A-Z][^\W\d_]+))")
_CITE_AUTHORS = re.compile(r"^(.{3,200}?)[.,(]\s*\(?(?:19|20)\d\d[a-z]?\)?[.,:;)]")
_CITE_YEAR = re.compile(r"\b(?:19|20)\d\d[a-z]?\b")


def _cites(text: str) -> bool:
    """Does a paragraph start like a reference entry: a number, "Surname, I.", or a list of
    capitalised names followed by a year ("Kyle Lo and Lucy Wang. 2020.")?"""
    if _CITE_START.match(text):
        return bool(_CITE_YEAR.search(text))
    m = _CITE_AUTHORS.match(text)
    if not m:
        return False
    words = [w for w in m[1].split() if w not in ("and", "&", "et", "al.", "al")]
    return len(words) >= 2 and sum(w[:1].isupper() for w in words) >= 0.8 * len(words)


def _unheaded_references(doc: Document, block_lines: dict[int, list[Line]],
                         hyphens: Hyphens) -> list[Line]:
    """A reference list printed without a heading: the last run of paragraphs after the first
    quarter of the text that starts like a citation and continues with citation-like pieces,
    when it splits into five or more entries, most of them with a year. The run leaves the
    text blocks; its lines are returned."""
    runs: list[list[Block]] = []
    for b in doc.blocks[len(doc.blocks) // 4:]:
        if b.kind in ("caption", "front"):
            continue
        starts = b.kind == "paragraph" and bool(_CITE_START.match(b.text) or _cites(b.text))
        if runs and runs[-1] and b.kind == "paragraph" and (
                starts or len(b.text) <= 250 or _CITE_YEAR.search(b.text)):
            runs[-1].append(b)
        elif starts:
            runs.append([b])
        elif runs and runs[-1]:
            runs.append([])
    for run in reversed(runs):
        lines = [ln for b in run for ln in block_lines.get(id(b), [])]
        entries = _split_references(lines, hyphens) if len(run) >= 3 else []
        if len(entries) >= 5 and sum(bool(_CITE_YEAR.search(e)) for e in entries) >= 0.6 * len(
                entries):
            ids = {id(b) for b in run}
            doc.blocks = [b for b in doc.blocks if id(b) not in ids]
            return lines
    return []


def _ref_number(text: str) -> int | None:
    """The entry number a reference line starts with ("12.", "[12]", "[ 1 2]"), if any."""
    m = _REF_NUMBER.match(text)
    if not m:
        return None
    digits = re.sub(r"\D", "", m[1])
    return int(digits) if digits else None


def _split_references(lines: list[Line], hyphens: Hyphens | None = None) -> list[str]:
    if not lines:
        return []
    numbered = sum(bool(_REF_NUMBER.match(ln.text)) for ln in lines)
    entries: list[list[Line]] = []
    if numbered >= 0.1 * len(lines) and numbered >= 3:
        last = 0
        for ln in lines:
            n = _ref_number(ln.text)
            # numbers run in sequence: "16 October 2013)." continues entry 13
            if n is not None and (last < n <= last + 2 or n == 1 or not entries):
                entries.append([ln])
                last = n
            elif not entries:
                entries.append([ln])
            else:
                entries[-1].append(ln)
    else:
        for k, ln in enumerate(lines):
            prev = lines[k - 1] if k else None
            col = [x for x in lines if x.page == ln.page and abs(x.x0 - ln.x0) < 40]
            left = min(x.x0 for x in col)
            hanging = ln.x0 <= left + 2 and any(x.x0 > left + 4 for x in col)
            new = prev is None or (hanging and (prev.page != ln.page or ln.x0 <= left + 2)) or (
                not any(x.x0 > left + 4 for x in col) and prev.page == ln.page
                and ln.y0 - prev.y1 > 0.4 * ln.size)
            if new or not entries:
                entries.append([ln])
            else:
                entries[-1].append(ln)
    return [t for t in (join_lines([x.text for x in e], hyphens) for e in entries) if len(t) > 15]


def _metadata(doc: Document, pages: list[PageContent], lines: list[list[Line]],
              info: dict[str, str], body: float) -> None:
    doc.abstract, found_as = pick_abstract(doc.blocks)
    if found_as:
        doc.metadata["abstract_found_as"] = found_as
    first_text = "\n".join([s.text for s in pages[0].spans] + pages[0].rotated)
    m = _DOI.search(first_text) or _DOI.search(info.get("Title", ""))
    if m:
        doc.doi = m[1].rstrip(".)")
    m = _ARXIV.search("\n".join(pages[0].rotated)) or _ARXIV.search(first_text)
    if m:
        doc.arxiv_id = m[1]
    doc.published = _year(first_text, info)
    licence = _licence_lines([ln for page in lines for ln in page]) or _licence_footer(pages)
    if licence:
        doc.metadata["licence_text"] = licence


def _year(first_text: str, info: dict[str, str]) -> str | None:
    """The publication year printed on the first page, else the PDF's creation year."""
    for pat in (r"published[^\n]{0,30}?\b((?:19|20)\d\d)\b", r"©\s*((?:19|20)\d\d)",
                r"\bc\s((?:19|20)\d\d)\b", r"\(((?:19|20)\d\d)\)"):
        m = re.search(pat, first_text, re.I)
        if m:
            return m[1]
    m = _YEAR.search(info.get("CreationDate", "")[2:6])
    return m[1] if m else None


def _licence_lines(flat_lines: list[Line]) -> str | None:
    """The first licence statement among the lines, with the lines of its sentence that are
    set in the same size just before and after it."""
    for k, ln in enumerate(flat_lines):
        if not _LICENCE.search(ln.text):
            continue
        picked = [ln.text]
        prev = flat_lines[k - 1] if k else None
        if prev and prev.page == ln.page and 0 <= ln.y0 - prev.y1 < 0.5 * ln.size and \
                abs(prev.size - ln.size) < 0.3 and not prev.text.endswith("."):
            picked.insert(0, prev.text)
        for nxt in flat_lines[k + 1: k + 4]:
            if picked[-1].endswith(".") or nxt.page != ln.page or \
                    abs(nxt.size - ln.size) > 0.3 or not 0 <= nxt.y0 - ln.y1 < 0.5 * ln.size:
                break
            picked.append(nxt.text)
        return join_lines(picked)
    return None


def _licence_footer(pages: list[PageContent]) -> str | None:
    """A licence sentence in any page's spans: licence notes are often repeated footers, which
    were dropped from the lines."""
    for p in pages:
        flat = re.sub(r"\s+", " ", " ".join(s.text for s in p.spans))
        m = _LICENCE.search(flat)
        if m:
            start = flat.rfind(". ", 0, m.start()) + 2 if ". " in flat[: m.start()] else 0
            end = flat.find(". ", m.end())
            return flat[start: end + 1 if end > 0 else None].strip()
    return None


def _rows(lines: list[Line]) -> list[list[Line]]:
    """Lines grouped into printed rows (overlapping baselines), top to bottom, left to right."""
    rows: list[list[Line]] = []
    span: tuple[float, float] = (0.0, 0.0)
    for ln in sorted(lines, key=lambda x: (x.y0 + x.y1) / 2):
        h = min(ln.y1 - ln.y0, span[1] - span[0])
        if rows and min(ln.y1, span[1]) - max(ln.y0, span[0]) > 0.5 * max(h, 1.0):
            rows[-1].append(ln)
            span = (min(span[0], ln.y0), max(span[1], ln.y1))
        else:
            rows.append([ln])
            span = (ln.y0, ln.y1)
    return [sorted(r, key=lambda x: x.x0) for r in rows]


def _authors(stream: list[Line], title_ids: set[int], body: float,
             info: dict[str, str]) -> tuple[list[str], set[int]]:
    """Author names in printed order, without affiliation and footnote marks, and the stream
    indexes of the lines that print them."""
    first = [ln for ln in stream if ln.page == 1]
    names, used = authors_below([stream[i] for i in sorted(title_ids)], body, _rows(first))
    if not names and info.get("Author"):
        names = [a.strip() for a in re.split(r";|,| and ", info["Author"]) if a.strip()]
    ids = {id(ln) for ln in used}
    return names, {i for i, ln in enumerate(stream) if id(ln) in ids}


_FRONT_START = re.compile(
    r"(proceedings of|how to cite|corresponding author|correspondence|academic editor|"
    r"submitted\s+\d|received\s+\d|accepted\s+\d|published\s+\d|copyright|distributed under|"
    r"open access|key ?words|subjects\b|abbreviations|edited by|reviewed by|citation:|"
    r"[^ ]{0,40}\(\d{4}\)[^.]{0,60}\bdoi\b)", re.I)
_FRONT_ANY = re.compile(
    r"[\w.}]@[\w-]+\.\w|contributed equally|equal contribution|work (?:was )?done (?:during|while)|"
    r"©|\bc\s(?:19|20)\d\d\b|licensed under|creative commons|all rights reserved|"
    r"this is an open access", re.I)


class _FrontMatter:
    """Page-1 material that is not running text: names, affiliations, notes, sidebars, footers."""

    def __init__(self, stream: list[Line], body: float, height: float, heading_ids: set[int],
                 title_ids: set[int], authors: list[str]) -> None:
        self.body, self.height = body, height
        self.index = {id(ln): i for i, ln in enumerate(stream) if ln.page == 1}
        abstract = [i for i, ln in enumerate(stream) if ln.page == 1 and i not in title_ids
                    and (ln.text[:8].lower() == "abstract"
                         or ABSTRACT_HEAD.match(letters(ln.text)))]
        starts = abstract + [i for i in heading_ids if stream[i].page == 1 and i not in title_ids]
        self.anchor = min(starts, default=-1)  # the abstract, or else the first heading
        self.top = stream[abstract[0]].y0 if abstract else -1.0  # the top of the abstract
        self.names = sorted({n.lower() for n in authors}, key=len, reverse=True)

    def _marks(self, ln: Line) -> bool:
        return bool(_FRONT_START.match(ln.text) or _FRONT_ANY.search(ln.text))

    def boundary(self, prev: Line, ln: Line) -> bool:
        """Keep notes, sidebars and footers out of the paragraphs next to them."""
        if ln.page != 1 or prev.page != 1:
            return False
        return self._marks(ln) and not self._marks(prev) or (
            (prev.size < self.body - 0.4) != (ln.size < self.body - 0.4))

    def covers(self, para: list[Line], text: str) -> bool:
        if para[0].page != 1:
            return False
        small = all(ln.size < self.body - 0.4 for ln in para)
        above = self.index.get(id(para[0]), -1) < self.anchor or max(
            ln.y1 for ln in para) < self.top  # before the abstract in reading order or on the page
        if above and (len(text.split()) < 60 or small or _FRONT_ANY.search(text)):
            return True
        if (small or len(text) < 400) and (_FRONT_START.match(text) or _FRONT_ANY.search(text)):
            return True
        if small and para[0].y0 > 0.7 * self.height:  # footnotes
            return True
        rest = text.lower()
        for name in self.names:
            rest = rest.replace(name, " ")
        return bool(self.names) and rest != text.lower() and not re.sub(
            r"[\s,;&*∗†‡§¶‖#♠♢♡♣♥♦⋆\u03b1-\u03c9\d]|\band\b", "", rest)
