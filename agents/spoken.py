"""How sources are spoken: a title said aloud, the authors in short, numbers as words, the
show's name; and `Candidate`, a source sentence the writers may say (shared by the scriptwriter,
which chooses, and the dialogue, which voices)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from agents.script import Passage

SHOW_NAME = "the Librarian podcast"
NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
NUMBERS += [str(n) for n in range(11, 100)]
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


def short_authors(authors: list[str]) -> str:
    if not authors:
        return ""
    last = [a.split()[-1] for a in authors if a.split()]
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} and colleagues"


_TITLE_TAIL = set("a an the of for in on and or with to by from via using toward towards at "
                  "its their".split())


def spoken_title(title: str) -> str:
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
    cut = re.split(r"\s+", re.sub(r"\s*\([^)]*\)", "", head))[:TITLE_WORDS]
    while len(cut) > 3 and (cut[-1].lower().strip(",;") in _TITLE_TAIL
                            or cut[-1].endswith("ing") or len(" ".join(cut)) > 60):
        cut.pop()
    return " ".join(cut).rstrip(",;")
