"""Source sentences as a host can say them: what to strip, what to repair, what never to read.

General signals only (token shapes, punctuation, cue words of publishing boilerplate): labels
("Background: ..."), citations, footnote marks, PDF extraction damage (letter-spaced small caps
"S CIENCEPARSE", hyphenation leftovers "meth- ods"), and sentences that are front matter or
boilerplate rather than content (licences, funding, competing interests, correspondence).
Hand-written regexes: no maintained library covers PDF-extraction repair of spoken text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from tools.lang import Lang, pack

_BRACKET_CITE = re.compile(r"\s*\[(?:\d+(?:\s*[,–-]\s*\d+)*|[A-Z][^\]]{0,40}\d{4}[a-z]?)\]")
_LABEL = re.compile(r"^(?:[A-Z][\w'’-]*(?:\s+[\w'’-]+){0,3}):\s+(?=[A-Z])")
_SPACED_CAPS = re.compile(r"\b([A-Z]) ([A-Z]{2,})\b")
_HYPHEN_BREAK = re.compile(r"\b([^\W\d_]{2,})- ([a-zß-ÿ]{2,})\b")
_FOOTNOTE = re.compile(r"(?<=[a-zß-ÿ]{3})(?:\d{1,2}(?:,\d{1,2})*|"
                       r"[\u00b9\u00b2\u00b3\u2070-\u2079]+|[*\u2020\u2021])(?=[\s,.;:)]|$)")
_SUPER_CITE = re.compile(r"(?<=[a-zß-ÿ\)])[.,]?\d{1,3}(?:[,–-]\d{1,3})+(?=\s|$)")
_TIDY = [(re.compile(r"(?<=[^\W\d_][,;:])\s*\d{1,2}(?=\s+[a-z])"), ""),
         (re.compile(r"\((?:\d|[ivx]{1,4}|[a-e])\)\s*"), ""),
         (re.compile(r"\s+([,.;:!?])"), r"\1"),
         (re.compile(r"\s{2,}"), " ")]
_HYPHEN_KEEP = {"and", "or", "to", "and/or", "y", "o", "e", "ou", "et", "und", "oder"}


@dataclass(frozen=True)
class _Patterns:
    """One language's patterns (built from its text data in tools/lang)."""

    paren_cite: re.Pattern[str]
    deictic: re.Pattern[str]
    connective: re.Pattern[str]
    bad: re.Pattern[str]
    boilerplate: re.Pattern[str]


@lru_cache(maxsize=16)
def _patterns(code: str) -> _Patterns:
    lang = pack(code)
    figs, see = lang["figure_words"], lang["see_word"]
    return _Patterns(
        paren_cite=re.compile(r"\s*\((?:[^()]*?(?:et al\.|\d{4}[a-z]?)[^()]*?|" + see
                              + r" [^()]*|(?:" + figs + r")\s*[^()]*)\)"),
        deictic=re.compile(lang["deictic"]),
        connective=re.compile(lang["connectives"]),
        bad=re.compile(r"https?://|www\.|@|§|\(\)|\w\.\w+\(|\b(?:" + figs + r")\s*"
                       r"\d|[=<>{}\\^_|]|\b(?:https?|doi)\b|\.\.\.|…|\bet al\b\.?\s*\d", re.I),
        boilerplate=re.compile(r"\b(?:" + lang["boilerplate"] + r"|©|creative commons|doi\b|"
                               r"issn|e-?mail|\([A-H]\)\s+[A-Z])", re.I))


def repair(text: str) -> str:
    """Undo PDF extraction damage: letter-spaced caps, hyphenation leftovers, footnote marks."""
    text = _SPACED_CAPS.sub(r"\1\2", text)
    text = _HYPHEN_BREAK.sub(lambda m: m.group(0) if m.group(2) in _HYPHEN_KEEP
                             else m.group(1) + m.group(2), text)
    text = _SUPER_CITE.sub("", text)
    return _FOOTNOTE.sub("", text)


def strip_label(text: str) -> str:
    """Drop a leading section label ("Background: Knowledge ..." -> "Knowledge ...")."""
    return _LABEL.sub("", text, count=1)


def speakable(sentence: str, lang: Lang | None = None) -> str:
    """A source sentence as a host says it, in its language: labels, citations and marks go,
    the authors' "we" becomes "they", abbreviations and symbols are spelled out."""
    lang = lang or pack()
    pat = _patterns(lang.code)
    text = strip_label(repair(_BRACKET_CITE.sub("", sentence)))
    text = pat.connective.sub("", text, count=1)
    for pattern, repl in lang.rules("voice"):
        text = pattern.sub(repl, text)
    text = pat.paren_cite.sub("", text)
    for pattern, repl in [*lang.rules("speak"), *_TIDY]:
        text = pattern.sub(repl, text)
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def readable(sentence: str, lang: Lang | None = None) -> bool:
    """Whether a source sentence can stand alone as a spoken line."""
    pat = _patterns((lang or pack()).code)
    n = len(sentence.split())
    if n < 8 or n > 48 or pat.bad.search(sentence) or pat.boilerplate.search(sentence):
        return False
    body = strip_label(sentence)
    if not body[:1].isupper() or sentence[-1] not in ".!" or pat.deictic.match(body):
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("[") != sentence.count("]"):
        return False
    return sum(ch.isdigit() for ch in sentence) <= 10
