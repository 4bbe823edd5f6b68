"""Which chunk drafts are content: general text signals, no lists of known strings.

A chunk is not content when it has too few real words (a stray label "E", "See Figure 6.", a
URL or DOI alone), when it is mostly digits and symbols (table cells, spectra, equations), when
it is dense with bibliographic patterns (reference entries: author initials, years outside
in-text citations, volume:pages, identifiers), or when it is a list of short title-like items
with no sentence in it (navigation, "See also" lists).
"""

from __future__ import annotations

import re

MIN_REAL_WORDS = 5
MIN_BOUND_WORDS = 2  # the whole body of its section (e.g. a one-line "Funding" statement)
MIN_CAPTION_WORDS = 4  # label included: "Table 6. Evaluation process." holds nothing alone
MIN_LETTER_RATIO = 0.45
MAX_REFERENCE_DENSITY = 12.0  # bibliographic signals per 100 real words; reference lists: 15-40
_WORD = re.compile(r"[^\W\d_]{2,}")
_URL = re.compile(r"(?:https?://|www\.|doi:)\S+|\b10\.\d{4,}/\S+", re.I)
_CITE = re.compile(r"[(\[][^()\[\]]*\b(?:1[6-9]|20)\d{2}[a-z]?\b[^()\[\]]*[)\]]")  # (Lo, 2020)
_YEAR = re.compile(r"(?<![\d.])(?:1[6-9]|20)\d{2}[a-z]?(?![\d.,]\d)")
_INITIALS = re.compile(r"\b[A-Z][a-zà-ÿ'’-]+,?\s+(?:[A-Z]\.?[ -]?){1,3}(?=[,.;:]|\s+and\b)")
_VOLUME = re.compile(r"\b\d+\s*(?:\(\d+\))?\s*:\s*[A-Za-z]?\d+(?:\s*[-–]\s*\d+)?\b"
                     r"|\bpp?\.\s*\d+")
_IDS = re.compile(r"\b(?:doi|isbn|issn|pmid|arxiv)\b|https?://\S+|\bet al\b|\^", re.I)
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")


def real_words(text: str) -> int:
    """Words of two or more letters, URLs and DOIs left out."""
    return len(_WORD.findall(_URL.sub(" ", text)))


def letter_ratio(text: str) -> float:
    chars = re.sub(r"\s", "", text)
    return sum(ch.isalpha() for ch in chars) / len(chars) if chars else 0.0


def reference_density(text: str) -> float:
    """Bibliographic signals per 100 real words, in-text citations such as (Lo et al., 2020)
    removed first so that well-cited prose is not mistaken for a reference list."""
    prose = _CITE.sub(" ", text)
    hits = sum(len(p.findall(prose)) for p in (_YEAR, _INITIALS, _VOLUME, _IDS))
    return 100.0 * hits / max(1, real_words(prose))


def is_navigation(text: str) -> bool:
    """A list of several short items none of which is a sentence."""
    items = [i.strip() for i in text.split("\n") if i.strip()]
    return (len(items) >= 3 and all(real_words(i) <= 5 for i in items)
            and not any(_SENTENCE_END.search(i) for i in items))


def junk_reason(text: str, kind: str, *, heading_bound: bool = False) -> str | None:
    """Why a chunk of this kind is not content, or None when it is."""
    if kind in {"code", "table", "transcript"}:
        return None if text.strip() else "empty"
    words = real_words(text)
    if kind == "caption":
        return "too short" if words < MIN_CAPTION_WORDS else None
    if words < (MIN_BOUND_WORDS if heading_bound else MIN_REAL_WORDS):
        return "too short"
    if letter_ratio(text) < MIN_LETTER_RATIO:
        return "mostly numbers and symbols"
    if reference_density(text) >= MAX_REFERENCE_DENSITY:
        return "reference list"
    if kind == "list" and is_navigation(text):
        return "navigation"
    return None
