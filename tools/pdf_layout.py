"""Low-level PDF layout for `tools.pdf`: text spans and graphics from pdfium, lines, reading order.

All coordinates are PDF points with a top-left origin (y grows downwards).
"""

from __future__ import annotations

import ctypes
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pypdfium2.raw as pdfium_c

Box = tuple[float, float, float, float]

_BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|medi(?:um)?\b|-medi|\.b$|-b$|,b$", re.I)
_ITALIC_NAME = re.compile(r"italic|oblique|ital\b|-it$|-ti$|-i$", re.I)
_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi",
                            "\ufb04": "ffl", "\ufb05": "st", "\ufb06": "st", "\r": " ", "\n": " ",
                            "\u00a0": " ", "\t": " "}
                           | {c: None for c in range(32) if c not in (2, 9, 10, 13)})
SOFT_HYPHEN = "\x02"  # pdfium marks a line-end hyphen with U+0002


@dataclass
class Span:
    """One text-showing operation: a run of text in one font."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float
    bold: bool
    italic: bool
    base: float | None = None  # baseline y (text origin), when known
    font: str = ""  # the font's identity (base name and weight): headings often use their own


@dataclass
class Line:
    """Spans sharing a baseline, left to right."""

    x0: float
    y0: float
    x1: float
    y1: float
    text: str
    size: float
    bold: bool
    page: int
    spans: list[Span] = field(default_factory=list)
    gaps: list[float] = field(default_factory=list)  # x gap before each span but the first
    raw: str = ""  # the text with superscript markers kept (author lists use them as separators)
    marked: str = ""  # the text with "|" where a superscript marker or a wide gap stood
    font: str = ""  # the font of most of the line's characters

    @property
    def box(self) -> Box:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass
class PageContent:
    """Everything read from one page."""

    number: int
    width: float
    height: float
    spans: list[Span]
    rotated: list[str]  # text printed sideways (margin stamps, banners)
    graphics: list[Box]  # images and vector paths


def _font_style(font: Any, cache: dict[int, tuple[bool, bool, str]]) -> tuple[bool, bool, str]:
    key = ctypes.cast(font, ctypes.c_void_p).value or 0
    style = cache.get(key)
    if style is None:
        n = pdfium_c.FPDFFont_GetBaseFontName(font, None, 0)
        buf = ctypes.create_string_buffer(max(n, 1))
        if n:
            pdfium_c.FPDFFont_GetBaseFontName(font, buf, n)
        name = buf.value.decode("latin-1").split("+")[-1]
        weight = pdfium_c.FPDFFont_GetWeight(font)
        flags = pdfium_c.FPDFFont_GetFlags(font)
        bold = bool(_BOLD_NAME.search(name)) or weight >= 600 or bool(flags & (1 << 18))
        italic = bool(_ITALIC_NAME.search(name)) or bool(flags & (1 << 6))
        style = cache[key] = (bold, italic, f"{name}/{weight}")
    return style


def _mul(m: tuple[float, ...], n: tuple[float, ...]) -> tuple[float, ...]:
    """Compose affine matrices: apply m, then n."""
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _apply(m: tuple[float, ...], box: Box) -> Box:
    a, b, c, d, e, f = m
    xs, ys = [], []
    for x, y in ((box[0], box[1]), (box[0], box[3]), (box[2], box[1]), (box[2], box[3])):
        xs.append(a * x + c * y + e)
        ys.append(b * x + d * y + f)
    return (min(xs), min(ys), max(xs), max(ys))


def read_page(pdf: Any, index: int, graphics: bool = False) -> PageContent:
    """Read text spans and sideways text (or only graphics boxes) of page `index` (0-based)."""
    page = pdfium_c.FPDF_LoadPage(pdf, index)
    if not page:
        return PageContent(index + 1, 0.0, 0.0, [], [], [])
    text_page = None if graphics else pdfium_c.FPDFText_LoadPage(page)
    try:
        width = pdfium_c.FPDF_GetPageWidthF(page)
        height = pdfium_c.FPDF_GetPageHeightF(page)
        content = PageContent(index + 1, width, height, [], [], [])
        _walk(page, text_page, content, graphics)
        return content
    finally:
        if text_page:
            pdfium_c.FPDFText_ClosePage(text_page)
        pdfium_c.FPDF_ClosePage(page)


class _Buffers:
    """ctypes out-parameters reused across the objects of a page."""

    def __init__(self) -> None:
        self.bounds = tuple(ctypes.c_float() for _ in range(4))
        self.size = ctypes.c_float()
        self.mat = pdfium_c.FS_MATRIX()
        self.text_len = 4096
        self.text = ctypes.create_string_buffer(self.text_len * 2)
        self.wtext = ctypes.cast(self.text, ctypes.POINTER(pdfium_c.FPDF_WCHAR))

    def matrix(self, obj: Any) -> tuple[float, ...]:
        pdfium_c.FPDFPageObj_GetMatrix(obj, ctypes.byref(self.mat))
        m = self.mat
        return (m.a, m.b, m.c, m.d, m.e, m.f)


def _walk(page: Any, text_page: Any, out: PageContent, graphics: bool) -> None:
    """Text spans (or, with `graphics`, image/path/shading boxes) of the page into `out`."""
    bufs = _Buffers()
    refs = [ctypes.byref(v) for v in bufs.bounds]
    fonts: dict[int, tuple[bool, bool, str]] = {}
    page_area = out.width * out.height
    for obj, ctm, in_form in _objects(page, bufs):
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if graphics == (kind == pdfium_c.FPDF_PAGEOBJ_TEXT):
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(obj, *refs):
            continue
        left, bottom, right, top = (v.value for v in bufs.bounds)
        box: Box = (left, bottom, right, top)
        if in_form:
            box = _apply(ctm, box)
        tl: Box = (box[0], out.height - box[3], box[2], out.height - box[1])
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            _text_object(obj, text_page, ctm if in_form else None, tl, out, fonts, bufs)
        elif kind in (pdfium_c.FPDF_PAGEOBJ_IMAGE, pdfium_c.FPDF_PAGEOBJ_PATH,
                      pdfium_c.FPDF_PAGEOBJ_SHADING):
            w, h = tl[2] - tl[0], tl[3] - tl[1]
            if w * h < 0.4 * page_area and (w > 0.5 or h > 0.5):
                out.graphics.append(tl)


def _objects(page: Any, bufs: _Buffers) -> Iterator[tuple[Any, tuple[float, ...], bool]]:
    """The page's objects depth-first through form objects, in content order, each with the
    matrix of the form it sits in and whether it is inside one (forms are not yielded)."""
    identity = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)
    iters: list[tuple[Any, int, int, tuple[float, ...], bool]] = [
        (page, 0, pdfium_c.FPDFPage_CountObjects(page), identity, False)]
    while iters:
        holder, i, count, ctm, in_form = iters.pop()
        if i >= count:
            continue
        iters.append((holder, i + 1, count, ctm, in_form))
        obj = (pdfium_c.FPDFFormObj_GetObject(holder, i) if in_form
               else pdfium_c.FPDFPage_GetObject(holder, i))
        if not obj:
            continue
        if pdfium_c.FPDFPageObj_GetType(obj) == pdfium_c.FPDF_PAGEOBJ_FORM:
            inner = _mul(bufs.matrix(obj), ctm)
            iters.append((obj, 0, pdfium_c.FPDFFormObj_CountObjects(obj), inner, True))
            continue
        yield obj, ctm, in_form


def _text_object(obj: Any, text_page: Any, ctm: tuple[float, ...] | None, tl: Box,
                 out: PageContent, fonts: dict[int, tuple[bool, bool, str]],
                 bufs: _Buffers) -> None:
    """One text object as a span (size from its matrix, style from its font); rotated text
    goes to `out.rotated` (arXiv ids in the margin)."""
    n = pdfium_c.FPDFTextObj_GetText(obj, text_page, bufs.wtext, bufs.text_len * 2)
    text = bufs.text.raw[: max(0, n - 1) * 2].decode("utf-16-le", "replace").split("\x00")[0]
    text = text.translate(_LIGATURES)
    if not text.strip():
        return
    m = _mul(bufs.matrix(obj), ctm) if ctm is not None else bufs.matrix(obj)
    if abs(m[1]) + abs(m[2]) > 0.1 * (abs(m[0]) + abs(m[3])):
        out.rotated.append(text.replace(SOFT_HYPHEN, "-"))
        return
    pdfium_c.FPDFTextObj_GetFontSize(obj, ctypes.byref(bufs.size))
    size = bufs.size.value * abs(m[0] * m[3] - m[1] * m[2]) ** 0.5
    if size <= 0.5:
        size = tl[3] - tl[1]
    bold, italic, font = _font_style(pdfium_c.FPDFTextObj_GetFont(obj), fonts)
    out.spans.append(Span(tl[0], tl[1], tl[2], tl[3], text, round(size, 2), bold, italic,
                          out.height - m[5], font))


def build_lines(content: PageContent) -> list[Line]:
    """Group spans into lines, in content order, attaching each to a recent line on its baseline."""
    lines: list[Line] = []
    for s in content.spans:
        target = None
        for line in reversed(lines[-6:]):
            overlap = min(line.y1, s.y1) - max(line.y0, s.y0)
            height = min(line.y1 - line.y0, s.y1 - s.y0)
            gap = s.x0 - line.x1
            if overlap > 0.4 * max(height, 1.0) and -0.5 * line.size < gap < 1.2 * max(
                    line.size, s.size):
                target = line
                break
        if target is None:
            lines.append(Line(s.x0, s.y0, s.x1, s.y1, "", s.size, s.bold, content.number, [s], []))
        else:
            target.gaps.append(s.x0 - target.x1)
            target.spans.append(s)
            target.x1 = max(target.x1, s.x1)
            target.y0, target.y1 = min(target.y0, s.y0), max(target.y1, s.y1)
    for line in lines:
        _finish_line(line)
    return _attach_labels([ln for ln in lines if ln.text])


_LABEL = re.compile(r"^(?:\[\d{1,4}\]|\(?\d{1,4}[.)]?|[•·▪◦‣∙–-]|\(?[a-zA-Z][.)])$")


def _attach_labels(lines: list[Line]) -> list[Line]:
    """Join an enumeration label ("12.", "[3]", "•") set apart from its text on the same
    baseline ("1." in a number column, the entry beside it), so reading order keeps them
    together."""
    out: list[Line] = []
    used: set[int] = set()
    for k, ln in enumerate(lines):
        if k in used:
            continue
        if _LABEL.match(ln.text):
            for j in range(max(0, k - 8), min(len(lines), k + 8)):
                other = lines[j]
                if j == k or j in used or other.page != ln.page:
                    continue
                gap = other.x0 - ln.x1
                overlap = min(other.y1, ln.y1) - max(other.y0, ln.y0)
                if 0 <= gap < 5 * ln.size and overlap > 0.5 * min(ln.y1 - ln.y0,
                                                                 other.y1 - other.y0):
                    _prepend(other, ln)
                    used.add(k)
                    break
            if k in used:
                continue
        out.append(ln)
    return out


def _prepend(line: Line, label: Line) -> None:
    gap = line.x0 - label.x1
    line.spans = label.spans + line.spans
    line.gaps = label.gaps + [gap] + line.gaps
    line.text = f"{label.text} {line.text}"
    line.raw = f"{label.raw} {line.raw}"
    line.marked = f"{label.marked} {line.marked}"
    line.x0 = label.x0


_MARK = r"(?:\d{1,2}(?!\d)|[a-z]|[IVX]{1,4}|[*∗†‡§¶‖#♠♢♡♣♥♦⋆\u03b1-\u03c9])"
_MARKER = re.compile(rf"{_MARK}(?:\s*[,–-]?\s*{_MARK})*")


def _superscript_marker(s: Span, line: Line, base: float | None, before: str) -> bool:
    """A footnote or affiliation mark: a smaller span on a raised baseline, e.g. "corpus,¹"."""
    if base is None or s.base is None or s.size > 0.85 * line.size or \
            s.base > base - 0.2 * line.size:
        return False
    t = s.text.strip()
    if not _MARKER.fullmatch(t):
        return False
    prev = before.rstrip()
    if prev[-1:].isdigit():  # 10⁶ is an exponent
        return False
    word = prev.rsplit(" ", 1)[-1]
    return not (t[0].isdigit() and word.isalpha() and len(word) <= 2)  # m², x²


def _join_spans(line: Line, base: float | None, mark: str = "") -> str:
    """The line's text; with `base`, superscript marks above that baseline are left out
    (replaced by `mark`, and so are wide gaps, when `mark` is given)."""
    parts: list[str] = []
    pending = False  # a dropped superscript stood after a space
    # glyph by glyph with the spaces written out: gaps between ink boxes within a word reach
    # a quarter em, so only a wider gap stands for a space that was not written
    glyphs = len(line.spans) > 8 and sum(len(s.text.strip()) for s in line.spans) <= 2 * len(
        line.spans) and any(s.text.endswith(" ") for s in line.spans)
    space = 0.33 if glyphs else 0.15
    for i, s in enumerate(line.spans):
        t = s.text
        gap = line.gaps[i - 1] if i else 0.0
        spaced = i > 0 and gap > space * min(s.size, line.spans[i - 1].size)
        if base is not None and len(line.spans) > 1 and \
                _superscript_marker(s, line, base, "".join(parts)):
            pending = pending or spaced
            if mark:
                parts.append(mark)
            continue
        if mark and i and gap > 1.5 * s.size:
            parts.append(mark)
        if parts and not parts[-1].endswith((" ", SOFT_HYPHEN)) and not t.startswith(" ") and (
                spaced or pending) and not (t[:1] in ":;,.)]" and gap < 0.5 * s.size):
            parts.append(" ")
        pending = False
        parts.append(t)
    return re.sub(r" {2,}", " ", "".join(parts)).strip()


def _finish_line(line: Line) -> None:
    weight: dict[float, int] = {}
    bold_chars = total = 0
    for s in line.spans:
        n = len(s.text.strip())
        weight[s.size] = weight.get(s.size, 0) + n
        total += n
        bold_chars += n if s.bold else 0
    line.size = max(weight.items(), key=lambda kv: kv[1])[0] if weight else line.spans[0].size
    line.bold = total > 0 and bold_chars >= 0.6 * total
    core = [s for s in line.spans if s.size >= 0.8 * line.size]
    base = max(core, key=lambda s: len(s.text)).base if core else None
    small = base is not None and any(s.size <= 0.85 * line.size for s in line.spans)
    line.text = _join_spans(line, base if small else None)
    line.raw = _join_spans(line, None) if small else line.text
    line.marked = _join_spans(line, base if small else None, " | ")
    fonts: dict[str, int] = {}
    for sp in line.spans:
        fonts[sp.font] = fonts.get(sp.font, 0) + len(sp.text.strip())
    line.font = max(fonts.items(), key=lambda kv: kv[1])[0] if fonts else ""
    if core:  # baseline box without super/subscripts
        line.y0, line.y1 = min(s.y0 for s in core), max(s.y1 for s in core)


def _intervals(boxes: list[Box], axis: int, min_gap: float) -> list[list[int]]:
    """Split box indexes into groups separated by gaps >= min_gap along an axis (0=x, 1=y)."""
    order = sorted(range(len(boxes)), key=lambda i: boxes[i][axis])
    groups: list[list[int]] = []
    end = -1e9
    for i in order:
        lo, hi = boxes[i][axis], boxes[i][axis + 2]
        if not groups or lo - end >= min_gap:
            groups.append([i])
            end = hi
        else:
            groups[-1].append(i)
            end = max(end, hi)
    return groups


def _free_x(boxes: list[Box], lo: float, hi: float, min_gap: float) -> list[tuple[float, float]]:
    """Uncovered x intervals inside (lo, hi)."""
    free: list[tuple[float, float]] = []
    cur = lo
    for b in sorted(boxes):
        if b[0] - cur >= min_gap:
            free.append((cur, b[0]))
        cur = max(cur, b[2])
    if hi - cur >= min_gap:
        free.append((cur, hi))
    return free


def reading_order(boxes: list[Box], min_gap: float = 6.0) -> list[int]:
    """Indexes of `boxes` in reading order: recursive XY-cut that keeps columns together."""
    return _cut(boxes, list(range(len(boxes))), min_gap, 0)


def _cut(boxes: list[Box], idx: list[int], min_gap: float, depth: int) -> list[int]:
    if len(idx) <= 1 or depth > 40:
        return sorted(idx, key=lambda i: (boxes[i][1], boxes[i][0]))
    sub = [boxes[i] for i in idx]
    cols = _intervals(sub, 0, min_gap)
    if len(cols) > 1:
        return [i for g in cols for i in _cut(boxes, [idx[j] for j in g], min_gap, depth + 1)]
    bands = [[idx[j] for j in g] for g in _intervals(sub, 1, 0.5)]
    if len(bands) == 1:
        return sorted(idx, key=lambda i: (boxes[i][1], boxes[i][0]))
    lo, hi = min(b[0] for b in sub), max(b[2] for b in sub)
    merged: list[list[int]] = []
    for band in bands:
        if merged and _same_columns([boxes[i] for i in merged[-1]], [boxes[i] for i in band],
                                    lo, hi, min_gap):
            merged[-1].extend(band)
        else:
            merged.append(list(band))
    if len(merged) == 1:
        merged = bands
    return [i for g in merged for i in _cut(boxes, g, min_gap, depth + 1)]


def _same_columns(a: list[Box], b: list[Box], lo: float, hi: float, min_gap: float) -> bool:
    """Is there a column gap in `a` or `b` that no box of either crosses?"""
    gaps = _free_x(a, lo, hi, min_gap) + _free_x(b, lo, hi, min_gap)
    both = a + b
    for g0, g1 in gaps:
        if g0 <= lo + 0.5 or g1 >= hi - 0.5:
            continue
        mid = (g0 + g1) / 2
        if not any(x0 < mid < x1 for x0, _, x1, _ in both):
            return True
    return False


def png_bytes(buffer: Any, width: int, height: int, stride: int, channels: int) -> bytes:
    """Encode a BGR(A)/RGB(A)/grey pdfium bitmap buffer (already RGB order) as PNG."""
    arr = np.frombuffer(buffer, dtype=np.uint8, count=stride * height).reshape(height, stride)
    arr = arr[:, : width * channels]
    if channels == 4:
        arr = arr.reshape(height, width, 4)[:, :, :3].reshape(height, width * 3)
        channels = 3
    raw = np.hstack([np.zeros((height, 1), dtype=np.uint8), arr]).tobytes()
    colour = {1: 0, 3: 2}[channels]

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + tag + data
                + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 2))
            + chunk(b"IEND", b""))
