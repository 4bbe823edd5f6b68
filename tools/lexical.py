"""Sparse lexical vectors for hybrid search: BM25 term weights, IDF applied by Qdrant.

A text becomes tokens (case-folded words and numbers; acronyms such as "VILA", "S2ORC" and
numbers such as "2023" or "0.994" stay whole), each token an index (its CRC-32) with a BM25
saturated term frequency as value. The collection's sparse vector has `Modifier.IDF`, so Qdrant
multiplies by each term's inverse document frequency over the whole collection at query time
and the stored vectors never need recomputing when the library grows.

A chunk in another language of tools/lang (es, pt, fr, it, de) is stemmed by that language's
Snowball stemmer and drops its stop words; a query is stemmed in English and in each other
language the library holds (the union of terms), so "divulgación" meets "divulgación" whatever
the query's language.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from tools.lang import base, is_supported, pack

K1 = 1.2
B = 0.75
AVG_TOKENS = 120.0  # typical chunk length (chunks hold 25-220 words); fixed, as in fastembed
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+")


def _language(language: str | None) -> str:
    """The stemming language of a text: its own when tools/lang has it, else English."""
    code = base(language)
    return code if code and is_supported(code) else "en"


@lru_cache(maxsize=8)
def _stemmer(code: str):  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer(pack(code)["stemmer"])


@lru_cache(maxsize=65536)
def _normal(token: str, code: str = "en") -> str:
    low = token.casefold()
    if low.isalpha() and len(low) > 3 and not token.isupper():
        return str(_stemmer(code).stemWord(low))  # plural and tense variants meet; acronyms stay
    return low


def tokens(text: str, language: str | None = None) -> list[str]:
    """Index terms of a text: words (stemmed unless acronyms), numbers, identifiers; a text in
    another language than English loses that language's stop words."""
    code = _language(language)
    stop = pack(code).stop_words if code != "en" else frozenset()
    out = []
    for tok in _TOKEN.findall(text):
        if len(tok) == 1 and not tok.isdigit():
            continue  # single letters carry no meaning on their own
        if tok.casefold() in stop:
            continue
        out.append(_normal(tok, code))
    return out


def term_id(term: str) -> int:
    return zlib.crc32(term.encode())


def document_vector(text: str, language: str | None = None) -> tuple[list[int], list[float]]:
    """(indices, values) of a stored chunk in `language`: BM25 term-frequency saturation,
    length-normalised."""
    counts = Counter(term_id(t) for t in tokens(text, language))
    n = sum(counts.values())
    norm = K1 * (1 - B + B * n / AVG_TOKENS)
    idx = sorted(counts)
    return idx, [round(counts[i] * (K1 + 1) / (counts[i] + norm), 5) for i in idx]


def query_vector(text: str, languages: Iterable[str | None] = ()) -> tuple[list[int], list[float]]:
    """(indices, values) of a query: each distinct term once (IDF weighs them in Qdrant), the
    terms of English and of each of `languages` (those of the chunks searched)."""
    codes = {"en"} | {_language(code) for code in languages}
    idx = sorted({term_id(t) for code in codes for t in tokens(text, code)})
    return idx, [1.0] * len(idx)
