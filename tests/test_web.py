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
    assert doc.title == "t-distributed stochastic neighbor embedding"  # as its <h1> prints it
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
    # the JSON-LD author (trafilatura's own guess on this page is a navigation box)
    assert doc.authors == ["Contributors to Wikimedia projects"]
    assert doc.title == "Duck"  # JSON-LD name and <h1>, not og:title "Duck - Wikipedia"
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


_SCHOLARLY = """<html><head><title>Heat stress in wheat | Some Journal</title>
  <meta name="citation_title" content="Heat stress in wheat: a field study">
  <meta name="citation_author" content="Ana Pérez"><meta name="citation_author" content="Bo Li">
  <meta name="citation_doi" content="10.1234/abc.5678"><meta name="citation_language" content="es">
  <meta name="citation_publication_date" content="2021/03/04">
  <meta property="og:description" content="Heat stress limits wheat yields... Read more">
  </head><body><header><h1>Heat stress in wheat: a field study</h1></header><article>
  <p>We measured grain yields under heat stress in three seasons and twelve field plots.</p>
  <p>The second paragraph holds more text so that the page has a main body for trafilatura.</p>
  </article></body></html>"""

_JSONLD = """<html><head><title>Site name</title><script type="application/ld+json">
  <![CDATA[{"@context": "https://schema.org", "@graph": [{"@type": "WebSite", "name": "Site"},
  {"@type": "ScholarlyArticle", "headline": "Rivers of the north", "description":
   "We describe the rivers of the north and how they change with the seasons.",
   "author": [{"@type": "Person", "givenName": "Ines", "familyName": "Sousa"},
              {"@type": "Person", "name": "Karl Berg"}], "datePublished": "2020-05-01"}]}]]>
  </script></head><body><article><h1>Rivers of the North</h1>
  <p>The opening paragraph of the article says something else about rivers and seasons.</p>
  <p>More text follows here so that trafilatura keeps the article body as main text.</p>
  <footer><p>Posted by Someone Else.</p></footer></article></body></html>"""


def test_citation_meta_tags_give_the_front_matter() -> None:
    doc = extract_webpage(_SCHOLARLY)
    assert doc.title == "Heat stress in wheat: a field study"
    assert doc.authors == ["Ana Pérez", "Bo Li"]
    assert doc.doi == "10.1234/abc.5678" and doc.language == "es"
    assert doc.published == "2021/03/04"
    assert doc.abstract is None  # a cut-off teaser is not an abstract


def test_json_ld_article_and_byline() -> None:
    doc = extract_webpage(_JSONLD)
    assert doc.title == "Rivers of the North"  # the stated headline, as the page prints it
    assert doc.authors == ["Ines Sousa", "Karl Berg"]  # JSON-LD before the page's byline
    assert doc.abstract and doc.abstract.startswith("We describe the rivers")
    byline = extract_webpage(_JSONLD.replace('"author"', '"contributor"'))
    assert byline.authors == ["Someone Else"]


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
