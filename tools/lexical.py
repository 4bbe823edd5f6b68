"""Sparse lexical vectors for hybrid search: BM25 term weights, IDF applied by Qdrant.

A text becomes tokens (case-folded words and numbers; acronyms such as "VILA", "S2ORC" and
numbers such as "2023" or "0.994" stay whole), each token an index (its CRC-32) with a BM25
saturated term frequency as value. The collection's sparse vector has `Modifier.IDF`, so Qdrant
multiplies by each term's inverse document frequency over the whole collection at query time
and the stored vectors never need recomputing when the library grows.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from functools import lru_cache

K1 = 1.2
B = 0.75
AVG_TOKENS = 120.0  # typical chunk length (chunks hold 25-220 words); fixed, as in fastembed
_TOKEN = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+")


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _normal(token: str) -> str:
    low = token.casefold()
    if low.isalpha() and len(low) > 3 and not token.isupper():
        return str(_stemmer().stemWord(low))  # plural and tense variants meet; acronyms stay
    return low


def tokens(text: str) -> list[str]:
    """Index terms of a text: words (stemmed unless acronyms), numbers, identifiers."""
    out = []
    for tok in _TOKEN.findall(text):
        if len(tok) == 1 and not tok.isdigit():
            continue  # single letters carry no meaning on their own
        out.append(_normal(tok))
    return out


def term_id(term: str) -> int:
    return zlib.crc32(term.encode())


def document_vector(text: str) -> tuple[list[int], list[float]]:
    """(indices, values) of a stored chunk: BM25 term-frequency saturation, length-normalised."""
    counts = Counter(term_id(t) for t in tokens(text))
    n = sum(counts.values())
    norm = K1 * (1 - B + B * n / AVG_TOKENS)
    idx = sorted(counts)
    return idx, [round(counts[i] * (K1 + 1) / (counts[i] + norm), 5) for i in idx]


def query_vector(text: str) -> tuple[list[int], list[float]]:
    """(indices, values) of a query: each distinct term once (IDF weighs them in Qdrant)."""
    idx = sorted({term_id(t) for t in tokens(text)})
    return idx, [1.0] * len(idx)
