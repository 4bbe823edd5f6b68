"""tools.web: main text, headings, metadata and licence from saved pages."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.errors import BadInput
from tools.web import extract_webpage


def _page(testdata: Path, name: str, url: str | None = None):
    return extract_webpage((testdata / "html" / name).read_bytes(), url)


def _text(doc) -> str:
    return "\n".join(b.text for b in doc.blocks)


def test_tsne_main_text(testdata: Path) -> None:
    doc = _page(testdata, "wikipedia_tsne.html")
    text = _text(doc)
    # the checks of trafilatura's own realworld_tests.py
    assert "Given a set of high-dimensional objects" in text
    assert "Herein a heavy-tailed Student t-distribution" in text
    assert "Categories:" not in text
    assert doc.kind == "webpage"
    assert doc.title == "T-distributed stochastic neighbor embedding"
    assert doc.url == "https://en.wikipedia.org/wiki/T-distributed_stochastic_neighbor_embedding"
    assert doc.language == "en"
    headings = [h.text for h in doc.headings]
    assert {"Details", "Software", "References"} <= set(headings)
    assert not any("[edit]" in h for h in headings)
    assert "Contents" not in headings
    assert "[1]" not in text  # footnote markers are dropped


def test_tsne_licence_is_cc_by_sa_3(testdata: Path) -> None:
    doc = _page(testdata, "wikipedia_tsne.html")
    assert doc.licence == "CC-BY-SA-3.0"
    assert doc.licence_evidence and "by-sa/3.0" in doc.licence_evidence


def test_duck_headings_and_paths(testdata: Path) -> None:
    doc = _page(testdata, "wikipedia_duck.html", "https://en.wikipedia.org/wiki/Duck")
    assert doc.licence == "CC-BY-SA-4.0"
    assert doc.url == "https://en.wikipedia.org/wiki/Duck"
    headings = {h.text: h for h in doc.headings}
    for name in ("Etymology", "Taxonomy", "Morphology", "Distribution and habitat", "Behaviour",
                 "Feeding", "Relationship with humans", "Domestication"):
        assert name in headings
    assert headings["Taxonomy"].level == 2
    assert headings["Feeding"].level == 3
    assert headings["Feeding"].heading_path == ["Duck", "Behaviour"]
    para = next(b for b in doc.blocks if b.text.startswith("Ducks have a cosmopolitan"))
    assert para.kind == "paragraph"
    assert para.heading_path == ["Duck", "Distribution and habitat"]
    # trafilatura's author guess on this page is a navigation box, not a person
    assert doc.authors == []
    assert any(b.kind == "table" and "Kingdom: | Animalia" in b.text for b in doc.blocks)


def test_creativecommons_metadata_and_licence(testdata: Path) -> None:
    doc = _page(testdata, "creativecommons_about.html")
    assert doc.title == "What we do - Creative Commons"
    assert doc.site == "Creative Commons"
    assert doc.url == "https://creativecommons.org/about/"
    assert doc.licence == "CC-BY-4.0"
    assert doc.licence_evidence and "4.0" in doc.licence_evidence
    assert doc.published and doc.published[:4].isdigit()
    assert "What is Creative Commons?" in [h.text for h in doc.headings]


def test_small_page_and_fetched_url() -> None:
    html = """<html lang="de-DE"><head><title>Notiz</title>
      <meta name="author" content="Ada Lovelace"></head><body><article>
      <h1>Notiz</h1><p>Ein erster Absatz mit genug Text, damit er als Haupttext gilt, und
      noch etwas mehr Text für die Extraktion.</p>
      <h2>Teil</h2><ul><li>Punkt eins mit etwas Text</li><li>Punkt zwei mit etwas Text</li></ul>
      <p>Ein zweiter Absatz im Teil, ebenfalls lang genug für trafilatura und die Tests.</p>
      </article><footer>Text licensed under CC BY-NC 4.0.</footer></body></html>"""
    doc = extract_webpage(html, url="https://example.org/notiz?ref=x")
    assert doc.title == "Notiz"
    assert doc.authors == ["Ada Lovelace"]
    assert doc.language == "de"
    assert doc.licence == "CC-BY-NC-4.0"
    assert [b.kind for b in doc.blocks if b.text.startswith("Punkt")] == ["list", "list"]
    assert all(b.heading_path == ["Notiz", "Teil"] for b in doc.blocks if b.kind == "list")


def test_page_without_licence() -> None:
    html = ("<html><body><article><p>" + "Plain words about nothing in particular. " * 10
            + "</p></article><footer>© 2024 Someone</footer></body></html>")
    doc = extract_webpage(html.encode())
    assert doc.licence is None and doc.licence_evidence is None


@pytest.mark.parametrize("content,message", [
    (b"", "empty"),
    (b"   ", "empty"),
    (b"%PDF-1.4 binary stuff", "not an HTML page"),
    (b"<html><body><nav><a href='/'>Home</a></nav></body></html>", "no main text"),
])
def test_bad_pages(content: bytes, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        extract_webpage(content)
