"""Source sentences as a host can say them: what to strip, what to repair, what never to read.

General signals only (token shapes, punctuation, cue words of publishing boilerplate): labels
("Background: ..."), citations, footnote marks, PDF extraction damage (letter-spaced small caps
"S CIENCEPARSE", hyphenation leftovers "meth- ods"), and sentences that are front matter or
boilerplate rather than content (licences, funding, competing interests, correspondence).
Hand-written regexes: no maintained library covers PDF-extraction repair of spoken text.
"""

from __future__ import annotations

import re

_BRACKET_CITE = re.compile(r"\s*\[(?:\d+(?:\s*[,–-]\s*\d+)*|[A-Z][^\]]{0,40}\d{4}[a-z]?)\]")
_PAREN_CITE = re.compile(r"\s*\((?:[^()]*?(?:et al\.|\d{4}[a-z]?)[^()]*?|see [^()]*|"
                         r"(?:Section|Sec\.|Figure|Fig\.|Table|Eq\.|Appendix)\s*[^()]*)\)")
_DEICTIC = re.compile(r"^(?:Below|Above|Here|As shown|As seen|In this (?:section|figure|table)|"
                      r"In the following|See |Figure|Table|Fig\.|It |They |Such )")
_CONNECTIVE = re.compile(r"^(?:Moreover|Furthermore|In addition|Additionally|Also|Thus|Hence|"
                         r"Therefore|Finally|First|Second|Third|Next|Then|Similarly|Likewise|"
                         r"Accordingly|Consequently|Indeed|Overall|In conclusion|In summary|"
                         r"To summari[sz]e|In short|Importantly|Notably|Specifically),?\s+")
_BAD = re.compile(r"https?://|www\.|@|§|\(\)|\w\.\w+\(|\b(?:Fig\.|Figure|Table|Eq\.|Equation)\s*"
                  r"\d|[=<>{}\\^_|]|\b(?:https?|doi)\b|\.\.\.|…|\bet al\b\.?\s*\d", re.I)
_BOILERPLATE = re.compile(
    r"\b(?:competing interests?|conflicts? of interest|licen[cs]ee|copyright|©|open access|"
    r"creative commons|correspondence|corresponding author|received:|accepted:|published online|"
    r"author contributions?|funding|funded by|grant (?:no|number)|acknowledg|permission|"
    r"all rights reserved|peer review|journal(?:'s)? policy|supplementary|doi\b|issn|e-?mail|"
    r"affiliated with|are (?:shown|depicted|displayed|plotted|highlighted) (?:as|in)|"
    r"\([A-H]\)\s+[A-Z])",
    re.I)
_LABEL = re.compile(r"^(?:[A-Z][\w'’-]*(?:\s+[\w'’-]+){0,3}):\s+(?=[A-Z])")
_SPACED_CAPS = re.compile(r"\b([A-Z]) ([A-Z]{2,})\b")
_HYPHEN_BREAK = re.compile(r"\b([A-Za-z]{2,})- ([a-z]{2,})\b")
_FOOTNOTE = re.compile(r"(?<=[a-z]{3})(?:\d{1,2}(?:,\d{1,2})*|[\u00b9\u00b2\u00b3\u2070-\u2079]+|"
                       r"[*\u2020\u2021])(?=[\s,.;:)]|$)")
_SUPER_CITE = re.compile(r"(?<=[a-z\)])[.,]?\d{1,3}(?:[,–-]\d{1,3})+(?=\s|$)")
_SPEAK = [(re.compile(r"\be\.g\.,?", re.I), "for example,"), (re.compile(r"\bi\.e\.,?", re.I),
          "that is,"), (re.compile(r"\bet al\."), "and colleagues"), (re.compile(r"\bvs\.?\b"),
          "versus"), (re.compile(r"%"), " percent"), (re.compile(r"&"), " and "),
          (re.compile(r"(\d)\s?M\b"), r"\1 million"), (re.compile(r"(\d)\s?B\b"), r"\1 billion"),
          (re.compile(r"(\d)\s?[kK]\b"), r"\1 thousand"), (re.compile(r"~\s*"), "about "),
          (re.compile(r"(?<=[,;:])\s*\d{1,2}(?=\s+[a-z])"), ""),
          (re.compile(r"\((?:\d|[ivx]{1,4}|[a-e])\)\s*"), ""),
          (re.compile(r"\s+([,.;:!?])"), r"\1"),
          (re.compile(r"\s{2,}"), " ")]
_VOICE = [(re.compile(r"^We\b"), "The authors"), (re.compile(r"\bwe\b"), "they"),
          (re.compile(r"^Our\b"), "Their"), (re.compile(r"\bour\b"), "their"),
          (re.compile(r"\bours\b"), "theirs"), (re.compile(r"\bwe’ve\b|\bwe've\b"), "they've"),
          (re.compile(r"\bus\b"), "them"), (re.compile(r"^In this (?:paper|work|study|article),? "
                                                        r"the authors\b"), "The authors"),
          (re.compile(r"^In this (?:paper|work|study|article),? "), "")]
_HYPHEN_KEEP = {"and", "or", "to", "and/or"}


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


def speakable(sentence: str) -> str:
    """A source sentence as a host says it: labels, citations and marks go, the authors' "we"
    becomes "they", abbreviations are spelled out."""
    text = strip_label(repair(_BRACKET_CITE.sub("", sentence)))
    text = _CONNECTIVE.sub("", text, count=1)
    for pattern, repl in _VOICE:
        text = pattern.sub(repl, text)
    text = _PAREN_CITE.sub("", text)
    for pattern, repl in _SPEAK:
        text = pattern.sub(repl, text)
    text = text.strip()
    return text[:1].upper() + text[1:] if text else text


def readable(sentence: str) -> bool:
    """Whether a source sentence can stand alone as a spoken line."""
    n = len(sentence.split())
    if n < 8 or n > 48 or _BAD.search(sentence) or _BOILERPLATE.search(sentence):
        return False
    body = strip_label(sentence)
    if not body[:1].isupper() or sentence[-1] not in ".!" or _DEICTIC.match(body):
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("[") != sentence.count("]"):
        return False
    return sum(ch.isdigit() for ch in sentence) <= 10
