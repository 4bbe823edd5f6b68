"""tools/pdf.py against five real papers (expectations in tests/fixtures/papers.yaml)."""

from __future__ import annotations

import re
import struct
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from storage.errors import BadInput
from tests.conftest import PAPERS
from tools.document import Document
from tools.pdf import extract_pdf

EXPECTED: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "papers.yaml").read_text(encoding="utf-8"))


def norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


@cache
def extracted(name: str) -> Document:
    return extract_pdf((PAPERS / name).read_bytes(), images=True)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_title_and_kind(name: str) -> None:
    doc = extracted(name)
    assert doc.title == EXPECTED[name]["title"]
    assert doc.kind == "paper"
    assert doc.pages and doc.pages > 10
    assert doc.abstract and len(doc.abstract) > 300


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_headings(name: str) -> None:
    found = {norm(h.text) for h in extracted(name).headings}
    expected = [norm(h) for h in EXPECTED[name]["headings"]]
    missing = [h for h in EXPECTED[name]["headings"] if norm(h) not in found]
    assert len(expected) - len(missing) >= 0.9 * len(expected), missing
    assert all(h.level in (1, 2, 3) and h.page for h in extracted(name).headings)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_references(name: str) -> None:
    doc = extracted(name)
    want = EXPECTED[name]["references"]
    assert abs(len(doc.references) - want) <= 0.1 * want, len(doc.references)
    blocks = " ".join(norm(b.text) for b in doc.blocks if b.kind == "paragraph")
    assert norm(doc.references[len(doc.references) // 2])[:80] not in blocks


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_figures_and_captions(name: str) -> None:
    doc = extracted(name)
    got = {f.label: norm(f.caption) for f in doc.figures}
    want = EXPECTED[name]["figures"]
    ok = [label for label, start in want.items()
          if label in got and norm(start) in got[label][: len(norm(start)) + 20]]
    assert len(ok) >= 0.9 * len(want), sorted(set(want) - set(ok))
    captions = {norm(b.text)[:40] for b in doc.blocks if b.kind == "caption"}
    assert any(norm(f.caption)[:40] in captions for f in doc.figures)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reading_order(name: str) -> None:
    text_blocks = [norm(b.text) for b in extracted(name).blocks if b.kind == "paragraph"]
    for before, after in EXPECTED[name]["order"]:
        a, b = norm(before), norm(after)
        pos_a = next((i, t.index(a)) for i, t in enumerate(text_blocks) if a in t)
        pos_b = next((i, t.index(b)) for i, t in enumerate(text_blocks) if b in t)
        assert pos_a < pos_b, (before, after)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_figure_images_are_png(name: str) -> None:
    images = [f.image for f in extracted(name).figures if f.image]
    assert images
    for image in images:
        assert image.startswith(b"\x89PNG\r\n\x1a\n")
        width, height = struct.unpack(">II", image[16:24])
        assert 40 <= width <= 2400 and 10 <= height <= 3200
        assert len(image) > 500


def test_metadata() -> None:
    vespa = extracted("vespa_webb2017_peerjcs.pdf")
    assert vespa.doi == "10.7717/peerj-cs.118"
    assert vespa.published == "2017"
    assert "CC-BY 4.0" in vespa.metadata["licence_text"]
    assert vespa.authors[:3] == ["Andrew E. Webb", "Thomas A. Walsh", "Mary J. O’Connell"]
    ace = extracted("ace_inhibitors_douglas2014_clinsci.pdf")
    assert ace.doi == "10.1042/CS20130403"
    assert "Creative Commons Attribution" in ace.metadata["licence_text"]
    s2orc = extracted("s2orc_lo2020_acl.pdf")
    assert s2orc.published == "2020"
    assert "Kyle Lo" in s2orc.authors and "Daniel S. Weld" in s2orc.authors


_MARKS = re.compile(r"[*∗†‡§¶♠♢♡♣♥♦⋆\u03b1-\u03c9\d,]|\band\b")
_EMAIL = re.compile(r"[\w.}]@[\w-]+\.\w")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_authors(name: str) -> None:
    got, want = extracted(name).authors, EXPECTED[name]["authors"]
    assert got[:1] == want[:1], got
    assert len(set(got) & set(want)) >= 0.9 * len(want), sorted(set(want) - set(got))
    assert len(got) <= len(want) + 1, got
    assert not [a for a in got if _MARKS.search(a)], got
    common = [a for a in got if a in want]
    assert common == sorted(common, key=want.index)  # printed order


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_front_matter_is_not_paragraphs(name: str) -> None:
    doc = extracted(name)
    names = [a.lower() for a in EXPECTED[name]["authors"]]
    page1 = [b.text for b in doc.blocks if b.kind == "paragraph" and b.page == 1]
    assert page1  # the abstract and introduction stay
    for text in page1:
        low = text.lower()
        assert not _EMAIL.search(text), text
        assert sum(n in low for n in names) < 2, text  # no author list or corresponding note
        rest = low
        for n in names:
            rest = rest.replace(n, " ")
        assert rest == low or _MARKS.sub("", rest).strip(), text  # not a names-only line
        assert not re.match(r"(proceedings of|submitted|open access|corresponding author|"
                            r"correspondence|copyright|how to cite|distributed under)", low), text
        assert "contributed equally" not in low and "equal contribution" not in low, text
    fronts = [b for b in doc.blocks if b.kind == "front"]
    assert fronts and all(b.page == 1 for b in fronts)


def test_sidebar_and_footer_kept_out() -> None:
    vespa = extracted("vespa_webb2017_peerjcs.pdf")
    front = " ".join(b.text for b in vespa.blocks if b.kind == "front")
    assert "Submitted 25 March 2016" in front and "OPEN ACCESS" in front
    assert "Subjects" not in (vespa.abstract or "")
    s2orc = extracted("s2orc_lo2020_acl.pdf")
    assert any(b.kind == "front" and b.text.startswith("Proceedings of the 58th")
               for b in s2orc.blocks)


def test_superscript_footnote_marks_removed() -> None:
    text = " ".join(b.text for b in extracted("s2orc_lo2020_acl.pdf").blocks
                    if b.kind == "paragraph")
    assert "We introduce S2ORC, a large corpus of 81.1M" in text
    assert "S2ORC, 1 a" not in text and "S2ORC,1" not in text
    assert "PubMed Central, CiteSeerX (Giles et al., 1998), and the ACL Anthology" in text
    ace = " ".join(b.text for b in extracted("ace_inhibitors_douglas2014_clinsci.pdf").blocks
                   if b.kind == "paragraph")
    assert "Tyr369" in ace and "Arg381" in ace  # residue numbers are not footnote marks


def test_line_break_hyphens() -> None:
    text = " ".join(b.text for b in extracted("s2orc_lo2020_acl.pdf").blocks
                    if b.kind == "paragraph")
    assert "machine-readable full text extracted from PDFs" in text  # broken as "machine-|readable"
    assert "machinereadable" not in text
    assert "corpus" in text and "cor-pus" not in text


def test_paragraphs_clean() -> None:
    doc = extracted("s2orc_lo2020_acl.pdf")
    text = " ".join(b.text for b in doc.blocks if b.kind == "paragraph")
    assert "cor pus" not in text and "cor- pus" not in text
    assert "corpus consists of rich metadata" in text
    assert "\x02" not in text
    assert not any(b.text.strip() == "4969" for b in doc.blocks)  # page number dropped
    first = next(b for b in doc.blocks if b.kind == "paragraph" and "Academic papers" in b.text)
    assert first.heading_path == ["1 Introduction"] and first.page == 1 and first.bbox


@pytest.mark.parametrize("data", [b"", b"hello, not a pdf", b"%PDF-1.4\n%garbage\n" + b"x" * 200,
                                  (PAPERS / "vespa_webb2017_peerjcs.pdf").read_bytes()[:5000]])
def test_bad_input(data: bytes) -> None:
    with pytest.raises(BadInput):
        extract_pdf(data)


def test_no_text_is_bad_input() -> None:
    blank = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
             b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
             b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 200 200]>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")
    with pytest.raises(BadInput, match="no extractable text"):
        extract_pdf(blank)
