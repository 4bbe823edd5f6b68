"""Front matter of a web page from its structured metadata: Highwire `citation_*` and Dublin Core
meta tags, schema.org JSON-LD, OpenGraph, then bylines in the page itself.

Every value is what the page states about itself; nothing is guessed from site names.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_ARTICLE_TYPES = re.compile(r"article|posting|report|thesis|chapter|book|creativework|"
                            r"webpage|blog|paper", re.I)
_CDATA = re.compile(r"^\s*(?:<!\[CDATA\[|<!--)|(?:\]\]>|-->)\s*$")
_BYLINE = re.compile(r"^\s*(?:posted|written|published)?\s*by\s+(.{3,120}?)\s*\.?\s*$", re.I)
_NOT_NAME = re.compile(r"https?:|www\.|@|\d{3}|[<>{}|]")
_TRUNCATED = re.compile(r"(?:\.\.\.|…|&hellip;|\bread more\b|\bmore\W*$)", re.I)


@dataclass
class PageMeta:
    """What a page says about itself, each field from the most specific source that has it."""

    title: str | None = None  # citation_title / DC.title
    names: list[str] = field(default_factory=list)  # JSON-LD name/headline, og:title, <title>
    authors: list[str] = field(default_factory=list)
    abstract: str | None = None
    description: str | None = None  # meta/og description: a summary only when complete
    published: str | None = None
    doi: str | None = None
    language: str | None = None


def _meta(tree: Any) -> dict[str, list[str]]:
    """meta tags by lower-cased name/property, values in document order."""
    out: dict[str, list[str]] = {}
    for el in tree.iter("meta"):
        key = (el.get("name") or el.get("property") or el.get("itemprop") or "").strip().lower()
        value = " ".join((el.get("content") or "").split())
        if key and value:
            out.setdefault(key, []).append(value)
    return out


def _jsonld(tree: Any) -> list[dict[str, Any]]:
    """Every JSON-LD object of the page (lists and @graph flattened); unparsable scripts skipped."""
    found: list[dict[str, Any]] = []

    def walk(item: Any) -> None:
        if isinstance(item, list):
            for x in item:
                walk(x)
        elif isinstance(item, dict):
            found.append(item)
            walk(item.get("@graph"))

    for script in tree.xpath('//script[@type="application/ld+json"]'):
        raw = _CDATA.sub("", (script.text or "").strip())
        try:
            walk(json.loads(raw))
        except ValueError:
            continue
    return found


def _names(value: Any) -> list[str]:
    """Author names from a JSON-LD author value: a string, a Person/Organization or a list."""
    if isinstance(value, list):
        return [n for v in value for n in _names(v)]
    if isinstance(value, dict):
        name = value.get("name")
        if not name and (value.get("givenName") or value.get("familyName")):
            name = f"{value.get('givenName', '')} {value.get('familyName', '')}"
        return _names(name) if isinstance(name, str) else []
    if isinstance(value, str):
        name = " ".join(value.split())
        return [name] if name and not _NOT_NAME.search(name) and len(name) <= 80 else []
    return []


def _text(value: Any) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, dict):
        value = value.get("@value") or value.get("name")
    return " ".join(value.split()) if isinstance(value, str) and value.strip() else None


def _byline(tree: Any) -> list[str]:
    """Authors named in the page: rel=author links, itemprop/class author or byline elements,
    or a "Posted by NAME." line inside the article."""
    for path in ('//a[@rel="author"]', '//*[@itemprop="author"]',
                 '//*[contains(concat(" ", normalize-space(@class), " "), " byline ")]',
                 '//*[contains(concat(" ", normalize-space(@class), " "), " author ")]'):
        names = [n for el in tree.xpath(path) if len(el.text_content()) <= 200
                 for n in _split_names(el.text_content())]
        if names:
            return list(dict.fromkeys(names))
    for el in tree.xpath("//article//p | //article//span | //article//div[not(*)]"):
        m = _BYLINE.match(" ".join(el.text_content().split()))
        if m:
            return _split_names(m[1])
    return []


def _split_names(text: str) -> list[str]:
    text = _BYLINE.sub(r"\1", " ".join(text.split()))
    parts = re.split(r"\s*(?:,|;|&|\band\b)\s*", text)
    return [p for p in (x.strip(" .") for x in parts)
            if p and 1 <= len(p.split()) <= 5 and not _NOT_NAME.search(p)]


def _complete(desc: str | None) -> str | None:
    """A description that reads as a summary: whole sentences, not a cut-off teaser."""
    if not desc or len(desc.split()) < 6 or _TRUNCATED.search(desc[-40:]):
        return None
    return desc if desc.rstrip()[-1:] in ".!?" else None


def page_meta(tree: Any) -> PageMeta:
    """The page's own statements about title, authors, abstract, date, DOI and language."""
    meta = _meta(tree)
    first = {k: v[0] for k, v in meta.items()}
    ld = [o for o in _jsonld(tree) if _ARTICLE_TYPES.search(str(o.get("@type", "")))]
    out = PageMeta()
    out.title = first.get("citation_title") or first.get("dc.title")
    for obj in ld:
        out.names += [t for t in (_text(obj.get("name")), _text(obj.get("headline"))) if t]
    out.names += [t for t in (first.get("og:title"), _text(tree.findtext(".//title"))) if t]
    out.authors = (meta.get("citation_author") or meta.get("dc.creator")
                   or next((n for o in ld if (n := _names(o.get("author")))), None)
                   or _names(meta.get("author")) or _byline(tree))
    out.authors = [n for n in dict.fromkeys(" ".join(a.split()) for a in out.authors) if n]
    out.abstract = first.get("citation_abstract") or first.get("dc.description") or next(
        (t for o in ld if (t := _text(o.get("abstract")))), None)
    desc = next((t for o in ld if (t := _text(o.get("description")))), None)
    out.description = _complete(desc) or _complete(first.get("description")) or _complete(
        first.get("og:description"))
    out.published = (first.get("citation_publication_date") or first.get("citation_date")
                     or next((t for o in ld if (t := _text(o.get("datePublished")))), None)
                     or first.get("article:published_time"))
    doi = first.get("citation_doi") or first.get("dc.identifier") or ""
    m = re.search(r"\b10\.\d{4,9}/\S+", doi)
    out.doi = m[0] if m else None
    lang = first.get("citation_language") or first.get("dc.language") or next(
        (t for o in ld if (t := _text(o.get("inLanguage")))), None)
    if lang and re.fullmatch(r"[a-z]{2,3}(?:[-_][a-z0-9]{2,8})?", lang, re.I):
        out.language = lang.split("-")[0].split("_")[0].lower()  # a code, not "English"
    return out


def displayed_title(candidates: list[str], headings: list[str]) -> str | None:
    """The first candidate title the page also prints as a top heading, in its printed form."""
    shown = {" ".join(h.split()).casefold(): " ".join(h.split()) for h in headings if h}
    for cand in candidates:
        hit = shown.get(" ".join(cand.split()).casefold())
        if hit:
            return hit
    return None
