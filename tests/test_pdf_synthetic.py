"""tools.pdf on small PDFs made here: front matter and unheaded reference lists by layout."""

from __future__ import annotations

import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from tests.pdfmake import TextLine, image_pdf, text_pdf
from tools.pdf import extract_pdf


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())

BODY = ("The measurements were repeated in every season, and the results agree with what "
        "earlier field studies reported for the same region and the same crops over the years.")


def _body(y0: float, n: int) -> list[TextLine]:
    return [(72, y0 + 14 * k, 10, BODY[:95] if k % 2 else BODY[95:] + " More text.", False)
            for k in range(n)]


def _page_one() -> list[TextLine]:
    return [(300, 40, 26, "field notes", True),  # a journal banner, right and lower case
            (72, 90, 18, "Heat and Yield in Three Seasons", True),
            (72, 120, 11, "Ana Pérez¹, Bo LI² and Carla de la Fuente¹", False),
            (72, 136, 8, "¹ University of Somewhere, Department of Plants", False),
            (72, 170, 10, "Background: Heat limits yields in many regions of the world.", False),
            (72, 184, 10, "Methods: We measured yields in twelve plots over three seasons.", False),
            (72, 198, 10, "Keywords: heat; yield", False),
            (72, 214, 12, "1 Introduction", True), *_body(232, 30)]


def test_banner_authors_and_structured_abstract() -> None:
    doc = extract_pdf(text_pdf([_page_one()]), images=False)
    assert doc.title == "Heat and Yield in Three Seasons"
    assert doc.authors[0] == "Ana Pérez" and doc.authors[-1] == "Carla de la Fuente"
    assert doc.abstract and doc.abstract.startswith("Background: Heat limits yields")
    assert doc.abstract.endswith("three seasons.")  # keywords are not part of it
    assert doc.metadata["abstract_found_as"] == "structured"
    assert doc.references == []  # body text with years is not a reference list


def test_numbered_references_without_heading() -> None:
    refs = [(72, 60 + 30 * k, 9, f"{k + 1}. Surname{chr(65 + k)} A, Other B: A study of "
             f"things number {k}. J Things {2000 + k}, {k}:1-9.", False) for k in range(12)]
    doc = extract_pdf(text_pdf([_page_one(), _body(60, 40), refs]), images=False)
    assert len(doc.references) == 12
    assert doc.references[0].startswith("1. SurnameA A")
    assert not any(b.text.startswith("3. Surname") for b in doc.blocks)


def test_author_year_references_without_heading() -> None:
    refs = []
    for k in range(8):
        refs.append((72, 60 + 40 * k, 9, f"Name{chr(65 + k)}, J., and Other, K. ({2001 + k}). "
                     "A long title about things", False))
        refs.append((84, 72 + 40 * k, 9, "that continues here. Journal of Things, 3, 1-9.", False))
    doc = extract_pdf(text_pdf([_page_one(), _body(60, 40), refs]), images=False)
    assert len(doc.references) == 8
    assert doc.references[1].startswith("NameB, J., and Other, K. (2002)")


@pytest.mark.slow
def test_scanned_page_is_read_by_ocr(testdata: Path) -> None:
    """A page with no text layer (the top of a real paper's first page as an image) is read
    by offline OCR and goes through the same structure code."""
    src = pdfium.PdfDocument(testdata / "corpus" / "papers" /
                             "ipg_2014_psychogeriatrics_ccbyncsa.pdf")
    width, height = src[0].get_size()
    image = src[0].render(scale=1.5, crop=(0, height * 0.66, 0, 0)).to_pil()
    doc = extract_pdf(image_pdf([image], width, height * 0.34), images=False)
    assert doc.metadata["ocr"]["pages"] == [1]
    assert _squash(doc.title) == _squash(
        "Stressful life events are not associated with the development of dementia")
    assert doc.authors[:2] == ["Anna Sundstrom", "Michael Ronnlund"]  # no accents from OCR
    assert doc.abstract and _squash(doc.abstract).startswith("backgroundtheimpactofstressful")
