"""How sources are spoken: a title said aloud, the authors in short, numbers as words, the
show's name; and `Candidate`, a source sentence the writers may say (shared by the scriptwriter,
which chooses, and the dialogue, which voices)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.script import Passage
from tools.lang import Lang, pack

TITLE_WORDS = 8  # a spoken title is at most this long
_NUM = re.compile(r"\d")


@dataclass
class Candidate:
    """A source sentence the writer may say, with what it does and what it is about."""

    passage: Passage
    sentence: str  # exact source text (the quote)
    spoken: str
    score: float
    order: tuple[int, int]  # (passage seq, sentence index)
    role: str = "background"
    roles: dict[str, float] = field(default_factory=dict)
    phrases: list[str] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)  # best (most relevant) first
    topic: float = 0.0

    @property
    def has_number(self) -> bool:
        return bool(_NUM.search(self.spoken))


def short_authors(authors: list[str], lang: Lang | None = None) -> str:
    """"Smith", "Smith and Lee", "Smith and colleagues" (in the language)."""
    if not authors:
        return ""
    lang = lang or pack()
    last = [a.split()[-1] for a in authors if a.split()]
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return lang.text("authors_two", a=last[0], b=last[1])
    return lang.text("authors_many", a=last[0])


def spoken_title(title: str, lang: Lang | None = None) -> str:
    """A title as said aloud, at most ~8 words: the head before a colon (or the acronym it
    defines), else its first words cut where a phrase ends."""
    title = " ".join(title.split())
    head, _, tail = title.partition(":")
    head = head.strip()
    if tail and len(head.split()) <= TITLE_WORDS:
        return head
    acronym = re.search(r"\b([A-Z][A-Za-z]*[A-Z][A-Za-z]*\d*)\b", head)
    if acronym and len(acronym.group(1)) >= 3 and len(head.split()) > TITLE_WORDS:
        return acronym.group(1)
    lang = lang or pack()
    tail_words, cut_suffix = set(lang["title_tail"]), lang["title_cut_suffix"]
    cut = re.split(r"\s+", re.sub(r"\s*\([^)]*\)", "", head))[:TITLE_WORDS]
    while len(cut) > 3 and (cut[-1].lower().strip(",;") in tail_words
                            or cut[-1].endswith(cut_suffix) or len(" ".join(cut)) > 60):
        cut.pop()
    return " ".join(cut).rstrip(",;")
