"""Offline OCR of page images (scanned PDFs) with RapidOCR: PP-OCR ONNX models that ship inside
the `rapidocr-onnxruntime` package, run by onnxruntime. Text comes back with positions so the
PDF structure code reads it like a text layer."""

from __future__ import annotations

import functools
import threading
from typing import Any

import numpy as np

from storage.errors import BadInput
from tools.pdf_layout import Span

ENGINE = "rapidocr-onnxruntime (PP-OCRv4)"
SCALE = 2.0  # render scale: 144 dpi, enough for body text
_LOCK = threading.Lock()


@functools.cache
def _engine() -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:  # installed with the project; opencv needs libGL
        raise BadInput(f"the PDF has no text layer (scanned pages) and the OCR engine "
                       f"rapidocr-onnxruntime cannot be loaded: {exc}") from exc
    return RapidOCR(use_cls=False)


def ocr_image(rgb: np.ndarray, scale: float = SCALE) -> list[Span]:
    """Text boxes of an RGB page image as spans in PDF points (top-left origin), each with a
    font size measured from its ink (detector boxes are padded unevenly)."""
    with _LOCK:
        result, _ = _engine()(rgb, use_cls=False)
    grey = rgb.mean(axis=2) if rgb.ndim == 3 else rgb
    spans: list[Span] = []
    for box, text, score in result or []:
        text = " ".join(str(text).split())
        if not text or float(score) < 0.5:
            continue
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        x0, y0, x1, y1 = min(xs), min(ys), max(xs), max(ys)
        top, bottom, core = _ink_rows(grey, x0, y0, x1, y1)
        letters = [c for c in text if c.isalpha()]
        caps = sum(c.isupper() for c in letters) > 0.6 * max(1, len(letters))
        size = round(core / scale / (0.70 if caps else 0.47), 1)  # x-height ~0.47 em
        spans.append(Span(x0 / scale, top / scale, x1 / scale, bottom / scale, text, size, False,
                          False, bottom / scale))
    return spans


def _ink_rows(grey: np.ndarray, x0: float, y0: float, x1: float,
              y1: float) -> tuple[int, int, int]:
    """First and last pixel rows with ink inside a box, and the height of its dense core (the
    x-height band for lower-case text, the cap height for capitals; superscripts, ascenders
    and descenders are sparse)."""
    top, left = max(0, int(y0)), max(0, int(x0))
    sub = grey[top: int(y1) + 1, left: int(x1) + 1]
    ink = (sub < 128).sum(axis=1) if sub.size else np.zeros(0)
    rows = np.where(ink > 0)[0]
    if not len(rows):
        return top, int(y1), max(1, int(y1) - top)
    dense = np.where(ink >= 0.35 * ink.max())[0]
    return top + int(rows[0]), top + int(rows[-1]) + 1, int(dense[-1] - dense[0] + 1)
