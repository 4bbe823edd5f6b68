"""The parameters of the written exports: report, ebook, flashcards, quiz, newsletter, slides.

One model per kind holds every default, range and allowed value (`agents.requests` adds the
sources and the REST body around them, as for podcast and video).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

STRICT = ConfigDict(extra="forbid", strict=True, use_attribute_docstrings=True)
Text = Annotated[str, Field(max_length=500)]
Writer = Literal["extractive", "llm"]
Language = Annotated[str, Field(min_length=2, max_length=8,
                                pattern=r"^[A-Za-z]{2}(?:-[A-Za-z]{2,4})?$")]
ReportStyle = Literal["briefing", "study-guide", "literature-review"]


class DocParams(BaseModel):
    """What every written export takes."""

    model_config = STRICT
    topic: Text | None = None
    """Focus on this (default: what each source is mostly about)."""
    title: Text | None = None
    """Title (default: from the sources' titles)."""
    writer: Writer | None = None
    """extractive (exact source passages) or llm; default: the LLM when one is configured."""
    commercial: bool = False
    """Refuse sources whose licence forbids commercial use or derivatives."""
    language: Language | None = None
    """The sources' language (ISO 639-1): written exports quote their sources exactly, so
    another language than theirs is refused rather than mixed."""


class ReportParams(DocParams):
    """A report: executive summary, sections by theme across sources, cited paragraphs."""

    style: ReportStyle = "briefing"
    """briefing, study-guide (adds key terms and review questions) or literature-review
    (adds a per-source overview)."""
    words: int = Field(1200, ge=200, le=8000)
    """About how many words of body text (200 to 8000)."""
    sections: int = Field(5, ge=1, le=12)
    """At most this many theme sections (1 to 12)."""
    figures: int = Field(3, ge=0, le=12)
    """At most this many figures and tables from the sources (0 to 12)."""


class EbookParams(DocParams):
    """An EPUB 3 book: a chapter per theme, footnote citations, cover, colophon."""

    words: int = Field(3000, ge=500, le=30000)
    """About how many words (500 to 30000)."""
    chapters: int = Field(6, ge=1, le=20)
    """At most this many chapters (1 to 20)."""
    figures: int = Field(6, ge=0, le=30)
    """At most this many figures and tables (0 to 30)."""


class FlashcardsParams(DocParams):
    """An Anki deck and CSV of basic and cloze cards whose answers are source spans."""

    cards: int = Field(40, ge=1, le=300)
    """At most this many cards (1 to 300)."""


class QuizParams(DocParams):
    """Multiple-choice questions with distractors from the same sources and a cited key."""

    questions: int = Field(10, ge=1, le=100)
    """At most this many questions (1 to 100)."""
    options: int = Field(4, ge=3, le=6)
    """Options per question, one correct (3 to 6)."""


class NewsletterParams(DocParams):
    """An HTML e-mail (inline CSS, plain-text alternative) and Markdown digest."""

    items: int = Field(6, ge=1, le=30)
    """At most this many cited items (1 to 30)."""
    library_url: Annotated[str, Field(max_length=300, pattern=r"^https?://[^\s]+$")] | None = None
    """Base URL for "read more" links to sources that have no URL or DOI of their own."""


class SlidesParams(DocParams):
    """A slide deck (PPTX and PDF): one idea per slide, figures, speaker notes that cite."""

    slides: int = Field(12, ge=3, le=60)
    """At most this many slides, title and sources slides included (3 to 60)."""
    bullets: int = Field(4, ge=1, le=6)
    """Bullets per slide (1 to 6)."""
    figures: int = Field(4, ge=0, le=20)
    """At most this many figure slides (0 to 20)."""


DOC_PARAMS: dict[str, type[DocParams]] = {
    "report": ReportParams, "ebook": EbookParams, "flashcards": FlashcardsParams,
    "quiz": QuizParams, "newsletter": NewsletterParams, "slides": SlidesParams}
