"""Flashcards and quiz questions whose answers are spans of the sources.

General signals only: a definition ("X is a ...", "X refers to ...", "we define X as ..."), an
acronym expansion ("Full Name (ACR)"), or a sentence stating a number gives a card. Basic cards
ask for the defined term's meaning; cloze cards hide the term or the number inside the exact
source sentence. Quiz questions reuse cloze cards: the hidden span is the right option and the
distractors are spans of the same type (numbers with the same unit, other defined terms) from the
same sources that the sentence does not contain, so exactly one option is supported.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from agents.composer import sentences_of, usable
from agents.grounding import content_words
from agents.script import Passage
from tools.composition import Card, Cite, QuizQuestion

_DEFINE = re.compile(
    r"^(?:An?\s+|The\s+)?(?P<term>[A-Z][\w\-]*(?:\s+[\w\-]+){0,4}?)\s+"
    r"(?:is|are|refers? to|denotes?|means)\s+(?P<body>(?:an?|the|one|any)\b.{12,})$")
_WE_DEFINE = re.compile(r"\b(?:we|We)\s+(?:define|call|term)\s+(?P<term>[\w\- ]{3,40}?)\s+as\s+")
_ACRONYM = re.compile(
    r"\b(?P<long>(?:[A-Z][a-z]+[\s\-]){1,5}[A-Z][a-z]+)\s+\((?P<short>[A-Z]{2,8}s?)\)")
_NUMBER = re.compile(r"(?<![\w.])(?P<num>\d+(?:[.,]\d+)?)(?![.,]?\d)\s?"
                     r"(?P<unit>%|percent|times|x|hours?|days?|years?|minutes?|seconds?|ms|s|"
                     r"million|billion|thousand|GB|MB|TB|"
                     r"tokens|papers|documents|participants|patients|samples)?\b")
LEVELS = [(re.compile(r"abstract|introduction|overview|background", re.I), "basic"),
          (re.compile(r"method|approach|design|model|data|material|procedure", re.I),
           "intermediate"),
          (re.compile(r"result|evaluation|experiment|finding|analysis|discussion", re.I),
           "advanced")]


def level(section: str) -> str:
    for pattern, name in LEVELS:
        if pattern.search(section):
            return name
    return "intermediate"


_NOT_TERM = {"as", "what", "which", "who", "why", "how", "when", "where", "all", "this", "these",
             "that", "those", "it", "there", "here", "one", "each", "such", "our", "its", "their",
             "another", "other", "some", "any", "both", "if", "while", "because", "since"}
_REF_BEFORE = re.compile(r"(?:§|\b(?:sec(?:tion)?|table|fig(?:ure)?|eq(?:uation)?|appendix|"
                         r"chapter|step|line|page|p)\.?)\s*$", re.I)


def good_term(term: str) -> bool:
    """A defined term names a thing: it does not open with a function or question word."""
    first = term.split()[0].lower() if term.split() else ""
    return bool(first) and first not in _NOT_TERM and bool(content_words(term))


def _tag(text: str) -> str:
    return re.sub(r"[^\w]+", "_", text.strip().lower()).strip("_")[:40] or "general"


def _card_id(kind: str, answer: str, chunk_id: str, sentence: str) -> str:
    key = f"{kind}|{chunk_id}|{sentence}|{answer}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _cloze(sentence: str, span: str) -> str | None:
    at = sentence.find(span)
    if at < 0:
        return None
    return sentence[:at] + "{{c1::" + span + "}}" + sentence[at + len(span):]


def cards_from(passage: Passage, sentence: str) -> list[Card]:
    """The cards one source sentence gives (maybe none)."""
    cite = Cite(chunk_id=passage.chunk_id, source_id=passage.source_id, quote=sentence,
                page=passage.page)
    tags = [f"level::{level(passage.section)}",
            f"section::{_tag(passage.section.split(' > ')[-1] or 'general')}"]
    common: dict[str, Any] = {"cite": cite, "source_title": passage.source_title,
                              "section": passage.section, "tags": tags}
    out: list[Card] = []
    m = _DEFINE.match(sentence) or _WE_DEFINE.search(sentence)
    if m and len(m.group("term").split()) <= 5 and good_term(m.group("term")):
        term = re.sub(r"^(An?|The)\b", lambda a: a.group(1).lower(), m.group("term").strip())
        verb = "are" if re.search(r"\s(?:are|refer to|denote|mean)\s", sentence[:len(term) + 12]) \
            else "is"
        out.append(Card(id=_card_id("basic", sentence, passage.chunk_id, sentence), kind="basic",
                        front=f"What {verb} {term}?", back=sentence, answer=sentence, **common))
    for a in _ACRONYM.finditer(sentence):
        front = _cloze(sentence, a.group("long"))
        if front:
            out.append(Card(id=_card_id("cloze", a.group("long"), passage.chunk_id,
                                             sentence),
                            kind="cloze", front=front, back=sentence, answer=a.group("long"),
                            **common))
    numbers = [n for n in _NUMBER.finditer(sentence)
               if (n.group("unit") or "." in n.group("num"))
               and not _REF_BEFORE.search(sentence[:n.start()])]
    if numbers and not out:
        span = numbers[0].group(0).strip()
        front = _cloze(sentence, span)
        if front:
            out.append(Card(id=_card_id("cloze", span, passage.chunk_id, sentence), kind="cloze",
                            front=front, back=sentence, answer=span, **common))
    return out


def make_cards(passages: list[Passage], limit: int) -> list[Card]:
    """Deduplicated cards in the passages' order, at most `limit`, spread over the sources."""
    per_source: dict[str, list[Card]] = {}
    seen: set[str] = set()
    for p, sents in zip(passages, sentences_of(passages), strict=True):
        for s in sents:
            if not usable(s.text) or s.text.endswith("?"):
                continue
            for card in cards_from(p, s.text):
                key = " ".join(content_words(card.answer + " " + card.front))
                if key in seen or card.id in seen:
                    continue
                seen.update((key, card.id))
                per_source.setdefault(p.source_id, []).append(card)
    out: list[Card] = []
    queues = list(per_source.values())
    while len(out) < limit and any(queues):
        for q in queues:
            if q and len(out) < limit:
                out.append(q.pop(0))
    return out


def _kind_of(span: str) -> str:
    m = _NUMBER.fullmatch(span)
    if m:
        return "number:" + (m.group("unit") or "").lower()
    return "term"


def quiz_from(cards: list[Card], limit: int, options: int = 4) -> list[QuizQuestion]:
    """Multiple-choice questions from cloze cards with same-type distractors from other cards."""
    pool: dict[str, list[str]] = {}
    for c in cards:
        if c.kind == "cloze":
            pool.setdefault(_kind_of(c.answer), []).append(c.answer)
    out: list[QuizQuestion] = []
    for c in cards:
        if c.kind != "cloze" or len(out) >= limit:
            continue
        others = [a for a in dict.fromkeys(pool.get(_kind_of(c.answer), []))
                  if a != c.answer and a not in c.back]
        if len(others) < options - 1:
            continue
        step = max(1, len(others) // (options - 1))
        distractors = others[::step][: options - 1]
        seed = int(c.id[:8], 16)
        at = seed % options
        opts = distractors[:at] + [c.answer] + distractors[at:]
        question = c.front.replace("{{c1::" + c.answer + "}}", "_____")
        out.append(QuizQuestion(id=c.id, question=question, options=opts, answer_index=at,
                                cite=c.cite, explanation=c.back))
    return out
