"""A translation inside a publisher's JATS XML as a Markdown source the library can import.

SciELO's JATS files carry an article's translations as `<sub-article article-type="translation"
xml:lang="pt">` (title, abstract, body): the corpus has no Portuguese PDF, but its JATS truth
file has the Portuguese version of an English paper. The Markdown keeps the title, authors,
year and licence in front matter, the abstract and every section's paragraphs; citation marks
(`<xref>`) are left out, as a reader would not say them.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SKIP = {"xref", "fn", "table-wrap", "fig", "label"}


def _text(el: ET.Element | None) -> str:
    """The element's text without citation marks, footnotes, tables or figures ("" for None)."""
    if el is None:
        return ""
    parts = [el.text or ""]
    for child in el:
        if child.tag not in SKIP:
            parts.append(_text(child))
        parts.append(child.tail or "")
    return " ".join("".join(parts).split())


def _paragraphs(el: ET.Element) -> list[str]:
    return [t for t in (_text(p) for p in el.iter("p")) if t]


def _meta(root: ET.Element, front: ET.Element | None) -> dict[str, object]:
    """Title (of the translation), authors, year and licence for the front matter."""
    names = root.find("front")
    authors = [" ".join(x for x in (_text(n.find("given-names")), _text(n.find("surname"))) if x)
               for n in (names.iter("name") if names is not None else [])]
    lic = root.find(".//license")
    href = lic.get("{http://www.w3.org/1999/xlink}href", "") if lic is not None else ""
    return {"title": _text(front.find(".//article-title")) if front is not None else "",
            "authors": [a for a in authors if a],
            "published": next((y.text for y in root.iter("year") if y.text), None),
            "licence": "CC-BY-4.0" if "/by/4.0" in href else href or None}


def translation_markdown(xml_path: Path, language: str) -> str:
    """The `language` translation of a JATS article as Markdown (ValueError when absent)."""
    root = ET.parse(xml_path).getroot()
    sub = next((s for s in root.iter("sub-article")
                if s.get(XML_LANG) == language and s.get("article-type") == "translation"), None)
    if sub is None:
        raise ValueError(f"{xml_path.name} has no {language!r} translation")
    front = sub.find("front-stub")
    meta = _meta(root, front)
    out = ["---", yaml.safe_dump(meta, allow_unicode=True, sort_keys=False).strip(), "---", ""]
    abstract = front.find(".//abstract") if front is not None else None
    if abstract is not None:
        out += [f"## {_text(abstract.find('title')) or 'Abstract'}", ""]
        out += [p + "\n" for p in _paragraphs(abstract)]
    body = sub.find("body")
    for sec in body.findall("sec") if body is not None else []:
        out += [f"## {_text(sec.find('title')).capitalize()}", ""]
        out += [p + "\n" for p in _paragraphs(sec)]
    return "\n".join(out)
