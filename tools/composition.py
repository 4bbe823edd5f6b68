"""The shapes of written exports (report, ebook, newsletter, slides, flashcards): cited blocks.

Every block carries the chunks it rests on with the exact quoted span, so each paragraph, card,
slide or item becomes a segment with DERIVED_FROM edges, as podcast lines do.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, Field

CardKind = Literal["basic", "cloze"]
BlockKind = Literal["paragraph", "summary", "figure", "item", "bullet", "term", "question"]


class Cite(BaseModel):
    """One chunk a block rests on; `quote` is an exact span of the chunk's text."""

    chunk_id: str
    source_id: str
    quote: str
    page: int | None = None


class FigureRef(BaseModel):
    """A figure or table cut out of a source at import."""

    figure_id: str
    source_id: str
    label: str
    caption: str
    page: int | None = None
    object_key: str | None = None


class Block(BaseModel):
    """A paragraph, bullet, item, figure or term of a written export."""

    kind: BlockKind = "paragraph"
    text: str
    cites: list[Cite] = Field(default_factory=list)
    support: float | None = None
    figure: FigureRef | None = None
    heading: str = ""  # an item's or term's own title


class Section(BaseModel):
    title: str
    blocks: list[Block] = Field(default_factory=list)


class SourceRef(BaseModel):
    """A numbered entry of the reference list; `[n]` in the text points here."""

    n: int
    source_id: str
    title: str
    authors: list[str] = Field(default_factory=list)
    year: str | None = None
    url: str | None = None
    doi: str | None = None
    licence_id: str | None = None
    reference: str = ""  # formatted (APA-like) reference
    in_text: str = ""  # "Lo et al., 2020"
    added: str | None = None  # when it entered the library (ISO date)
    pages: list[int] = Field(default_factory=list)  # pages the export cites


class Composition(BaseModel):
    """A written export before rendering: title, summary, themed sections, numbered sources."""

    kind: str
    style: str
    title: str
    language: str = "en"
    summary: list[Block] = Field(default_factory=list)
    sections: list[Section] = Field(default_factory=list)
    sources: list[SourceRef] = Field(default_factory=list)

    def blocks(self) -> Iterator[tuple[str, Block]]:
        """Every block in reading order with the title of the section that holds it."""
        for block in self.summary:
            yield "Summary", block
        for section in self.sections:
            for block in section.blocks:
                yield section.title, block

    def number_of(self, source_id: str) -> int:
        """The reference-list number of a source (0 when it is not listed)."""
        return next((r.n for r in self.sources if r.source_id == source_id), 0)


class Card(BaseModel):
    """A flashcard: `answer` is an exact span of the cited chunk."""

    id: str
    kind: CardKind
    front: str
    back: str
    answer: str
    cite: Cite
    source_title: str = ""
    section: str = ""
    tags: list[str] = Field(default_factory=list)


class QuizQuestion(BaseModel):
    id: str
    question: str
    options: list[str]
    answer_index: int
    cite: Cite
    explanation: str  # the source sentence
