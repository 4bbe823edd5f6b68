"""What every extractor returns: one shape for papers, web pages, documents and media."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Block:
    """A unit of text in reading order: paragraph, heading, caption, list item, transcript piece."""

    text: str
    kind: str = "paragraph"  # paragraph | heading | caption | list | code | quote | transcript
    page: int | None = None  # 1-based page number (PDFs)
    bbox: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1; top-left origin, points
    level: int | None = None  # heading level, 1 = top section
    heading_path: list[str] = field(default_factory=list)  # enclosing headings, outermost first
    start_s: float | None = None  # media timestamps
    end_s: float | None = None


@dataclass
class Figure:
    """A figure or table with its caption; `image` is a PNG cut from the page when available."""

    kind: str  # figure | table
    label: str  # "Figure 3", "Table 1"
    caption: str
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None
    image: bytes | None = None


@dataclass
class Document:
    """An extracted source, ready to be chunked and stored."""

    kind: str  # paper | pdf | webpage | document | audio | video
    title: str
    blocks: list[Block] = field(default_factory=list)
    authors: list[str] = field(default_factory=list)
    published: str | None = None  # ISO date or year
    abstract: str | None = None
    references: list[str] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    pages: int | None = None
    licence: str | None = None  # SPDX-style id, e.g. CC-BY-4.0
    licence_evidence: str | None = None  # the text the licence was recognised from
    url: str | None = None
    site: str | None = None
    doi: str | None = None
    arxiv_id: str | None = None
    language: str | None = None
    duration_s: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def headings(self) -> list[Block]:
        return [b for b in self.blocks if b.kind == "heading"]
