"""Small PDFs made with pdfium for tests: text lines in standard fonts, or a page image."""

from __future__ import annotations

import ctypes
from typing import Any

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

# (x, y from the top, font size, text, bold)
TextLine = tuple[float, float, float, str, bool]


def _text(doc: Any, page: Any, height: float, line: TextLine) -> None:
    x, y, size, text, bold = line
    font = pdfium_c.FPDFText_LoadStandardFont(doc, b"Helvetica-Bold" if bold else b"Helvetica")
    obj = pdfium_c.FPDFPageObj_CreateTextObj(doc, font, size)
    wide = ctypes.create_unicode_buffer(text)  # noqa: F841 (kept alive for the call)
    encoded = (text + "\x00").encode("utf-16-le")
    buf = ctypes.create_string_buffer(encoded, len(encoded))
    pdfium_c.FPDFText_SetText(obj, ctypes.cast(buf, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
    pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x, height - y - size)
    pdfium_c.FPDFPage_InsertObject(page, obj)


def text_pdf(pages: list[list[TextLine]], width: float = 595, height: float = 842) -> bytes:
    """A PDF whose pages hold the given lines of text."""
    pdf = pdfium.PdfDocument.new()
    for lines in pages:
        page = pdf.new_page(width, height)
        for line in lines:
            _text(pdf.raw, page.raw, height, line)
        pdfium_c.FPDFPage_GenerateContent(page.raw)
    return _save(pdf)


def image_pdf(pil_images: list[Any], width: float = 595, height: float = 842) -> bytes:
    """A scanned-looking PDF: each page is one image and has no text layer."""
    pdf = pdfium.PdfDocument.new()
    for img in pil_images:
        page = pdf.new_page(width, height)
        obj = pdfium.PdfImage.new(pdf)
        obj.set_bitmap(pdfium.PdfBitmap.from_pil(img.convert("RGB")))
        obj.set_matrix(pdfium.PdfMatrix().scale(width, height))
        page.insert_obj(obj)
        page.gen_content()
    return _save(pdf)


def _save(pdf: Any) -> bytes:
    import io

    out = io.BytesIO()
    pdf.save(out)
    return out.getvalue()
