"""Front matter of a paper from its extracted blocks: which text is the abstract.

Abstracts come in several forms: under a heading ("Abstract", "Resumen", "Zusammenfassung"),
run in ("Abstract: We ..."), structured without a heading ("Background: ... Methods: ..."), or
absent (the lead paragraph then stands for it). A paper printing abstracts in two languages
keeps the one written in the language of its body.
"""

from __future__ import annotations

import re
from collections import Counter

from tools.document import Block
from tools.pdf_layout import Line

ABSTRACT_WORD = (r"(?:abstract|summary|resumen|resumo|r[ée]sum[ée]|zusammenfassung|riassunto|"
                 r"samenvatting|sammanfattning|abstrakt|streszczenie)")
ABSTRACT_HEAD = re.compile(rf"^{ABSTRACT_WORD}$", re.I)
ABSTRACT_RUNIN = re.compile(rf"^({ABSTRACT_WORD})\s*[:.—–-]\s*(\S.*)$", re.I)
_LABEL = re.compile(r"^(?:background|objectives?|purpose|aims?|context|introduction|motivation|"
                    r"importance|rationale|problem)\s*[:.]\s+\S", re.I)
_ANY_LABEL = re.compile(r"^[A-Z][A-Za-z ]{2,30}[:.]\s+\S")
_KEYWORDS = re.compile(r"^(?:key ?words|palabras[- ]clave|palavras[- ]chave|schl[üu]sselw[öo]rter|"
                       r"mots[- ]cl[ée]s|descriptors|index terms)\b", re.I)
_WORD = re.compile(r"[^\W\d_]+")


def letters(text: str) -> str:
    """'A B S T R A C T' -> 'ABSTRACT' (letter-spaced headings); other text unchanged."""
    parts = text.split()
    return "".join(parts) if len(parts) > 3 and all(len(p) == 1 for p in parts) else text


def _under_abstract_headings(blocks: list[Block]) -> list[list[Block]]:
    """Paragraphs under each abstract heading, up to the next heading of its level or above."""
    groups: list[list[Block]] = []
    level: int | None = None
    for b in blocks:
        if b.kind == "heading":
            if ABSTRACT_HEAD.match(letters(b.text)) and (b.page or 1) <= 3:
                groups.append([])
                level = b.level or 1
            elif level is not None and (b.level or 1) <= level:
                level = None
            continue
        if level is None:
            continue
        if b.kind == "paragraph":
            groups[-1].append(b)
        elif b.kind == "front" and groups[-1]:
            level = None  # keywords, notes: the abstract has ended
    return [g for g in groups if g]


def _profile(text: str) -> Counter[str]:
    """Frequencies of short words: function words tell one language from another."""
    return Counter(w for w in _WORD.findall(text.lower()) if len(w) <= 4)


def _same_language(candidate: str, body: Counter[str]) -> float:
    words = [w for w in _WORD.findall(candidate.lower()) if len(w) <= 4]
    common = {w for w, _ in body.most_common(40)}
    return sum(w in common for w in words) / max(1, len(words))


def _structured(blocks: list[Block]) -> list[Block]:
    """A structured abstract without a heading: "Background: ..." and the labelled paragraphs
    that follow it on the first pages (short ones may have been taken for front matter: they
    become paragraphs again)."""
    for k, b in enumerate(blocks[:60]):
        if b.kind in ("paragraph", "front") and (b.page or 1) <= 2 and _LABEL.match(b.text):
            run = [b]
            for nxt in blocks[k + 1:]:
                if nxt.kind not in ("paragraph", "front") or not _ANY_LABEL.match(
                        nxt.text) or _KEYWORDS.match(nxt.text):
                    break
                run.append(nxt)
            for x in run:
                x.kind = "paragraph"
            return run
    return []


def pick_abstract(blocks: list[Block]) -> tuple[str | None, str | None]:
    """(abstract text, how it was found): heading, run-in, structured, lead paragraph."""
    groups = _under_abstract_headings(blocks)
    if groups:
        chosen = groups[0]
        if len(groups) > 1:
            inside = {id(b) for g in groups for b in g}
            body = _profile(" ".join(b.text for b in blocks
                                     if b.kind == "paragraph" and id(b) not in inside))
            chosen = max(groups, key=lambda g: _same_language(" ".join(b.text for b in g), body))
        return " ".join(b.text for b in chosen).strip(), "heading"
    run = _structured(blocks)
    if run:
        return " ".join(b.text for b in run), "structured"
    lead = next((b for b in blocks[:80] if b.kind == "paragraph" and (b.page or 1) <= 2
                 and len(b.text.split()) >= 20), None)
    return (lead.text, "lead paragraph") if lead else (None, None)


# --- authors ------------------------------------------------------------------------------

_AFFILIATION = re.compile(r"univers|institu|depart|facult|school|escola|escuela|college|labora|"
                          r"hospital|\bcent(?:re|er|ro)\b|research|\binc\b|\bcorp\b|@|e-?mail|"
                          r"orcid|correspond|received|submitted", re.I)
_SEPARATOR = re.compile(r"\s*(?:[,;|&*∗†‡§¶‖#♠♢♡♣♥♦⋆\u03b1-\u03c9\d\u00b9\u00b2\u00b3\u2070-\u2079]"
                        r"|\s(?:and|y|e|und|et)\s)+\s*")
_PARTICLES = {"de", "da", "do", "dos", "das", "del", "della", "di", "du", "la", "le", "van",
              "von", "der", "den", "ter", "bin", "al", "el", "y"}
_CONJUNCTIONS = {"and", "e", "y", "und", "et"}
_SUFFIX = re.compile(r"^(?:jr|sr|ii|iii|iv)\.?$", re.I)


def _name(part: str) -> str | None:
    """A printed personal name in title case, or None when `part` does not read as one."""
    words = part.strip(" -–").split()
    if not 2 <= len(words) <= 6 or any(re.search(r"[\d:()/=@]", w) for w in words):
        return None
    out = []
    for k, w in enumerate(words):
        if w in _PARTICLES and 0 < k < len(words) - 1 or _SUFFIX.match(w) and k:
            out.append(w)
        elif not w[:1].isupper() or (w.endswith(".") and len(w.rstrip(".")) > 2):
            return None  # "Publica." or a lower-case word: not a name
        else:
            out.append(w.title() if w.isupper() and len(w) > 1 else w)
    return " ".join(out)


def _row_text(row: list[Line]) -> str:
    return " ".join((ln.marked or ln.text) for ln in sorted(row, key=lambda x: x.x0))


def _stops(row: list[Line], body: float, got_names: bool) -> bool:
    """Does this row end the author block: an affiliation, an abstract, running text?"""
    text = " ".join(ln.text for ln in row)
    if _AFFILIATION.search(text) or ABSTRACT_HEAD.match(letters(text)) or ABSTRACT_RUNIN.match(
            text) or re.match(r"^[\d*†‡§]\s?[A-Z][a-z]", text):
        return True
    words = text.split()
    lower = sum(w[:1].islower() and w not in _PARTICLES | _CONJUNCTIONS for w in words)
    if len(text) > 40 and lower > 0.3 * len(words):  # running text
        return True
    return got_names and all(ln.size < 0.8 * body for ln in row)


def authors_below(title_lines: list[Line], body: float,
                  rows: list[list[Line]]) -> tuple[list[str], list[Line]]:
    """Names printed in the rows under the title (and over its column), split at commas,
    "and", superscript affiliation marks and footnote symbols; the lines they came from."""
    if not title_lines:
        return [], []
    bottom = max(ln.y1 for ln in title_lines)
    x0, x1 = min(ln.x0 for ln in title_lines), max(ln.x1 for ln in title_lines)
    texts: list[str] = []
    used: list[Line] = []
    last = bottom
    big = min(ln.size for ln in title_lines)
    for row in rows:
        row = [ln for ln in row if ln.x1 > x0 - 5 and ln.x0 < max(x1, x0 + 200)
               and re.search(r"[^\W\d_]", ln.text)]  # not rules of dots or dashes
        if not row or row[0].y0 < bottom - 1:
            continue
        size = max(ln.size for ln in row)
        if size >= 0.92 * big and not texts:  # a subtitle or translated title
            last = max(ln.y1 for ln in row)
            continue
        if row[0].y0 - last > max(5.0 * size, 45.0) or _stops(row, body, bool(texts)):
            break
        texts.append(_row_text(row))
        used += row
        last = max(ln.y1 for ln in row)
    names = [n for p in _SEPARATOR.split(" ".join(texts)) if (n := _name(p))]
    return list(dict.fromkeys(names)), used if names else []
