"""What an export hands to provenance: the artifact, its traced pieces, and who made them.

Assemblers return an `ArtifactRecord` (data only); `services.provenance.record_artifact` writes
it with every edge. Any export kind fills the same shape: a podcast's lines, a video's scenes,
a report's paragraphs or a deck's cards are all `Piece`s.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, Field

from agents.script import Passage
from tools.chunking import split_sentences

NAMESPACE = uuid.UUID("0f7c2b0e-3a55-4e0a-9d6b-41a0d8f3c7aa")


class Piece(BaseModel):
    """One traced part of an artifact (a spoken line, a scene, a paragraph, a card)."""

    seq: int
    kind: str
    text: str
    citations: list[str] = Field(default_factory=list)  # chunk ids
    quote: str = ""  # the exact source span(s) the piece rests on
    speaker: str | None = None
    section: str | None = None
    start_s: float | None = None
    end_s: float | None = None
    support: float | None = None
    figure: dict[str, Any] | None = None  # a source figure shown (id, source_id, label, page, ...)
    meta: dict[str, Any] = Field(default_factory=dict)  # kept on the segment row


class Maker(BaseModel):
    """A model, voice or backend that made the artifact (a GENERATED_BY / NARRATED_BY edge)."""

    id: str
    props: dict[str, Any] = Field(default_factory=dict)


class ArtifactRecord(BaseModel):
    """Everything provenance needs about one finished artifact."""

    id: str
    kind: str  # "podcast", "video", "report", ...
    owner: str
    title: str
    job_id: str
    files: dict[str, str]  # role -> object key (all under artifacts/{id}/)
    recipe: dict[str, Any]  # how to regenerate it exactly
    duration_s: float | None = None
    version_of: str | None = None
    meta: dict[str, Any] = Field(default_factory=dict)
    pieces: list[Piece] = Field(default_factory=list)
    passages: list[Passage] = Field(default_factory=list)  # the chunks it may cite
    models: list[Maker] = Field(default_factory=list)  # GENERATED_BY model
    voices: list[Maker] = Field(default_factory=list)  # NARRATED_BY voice


def writer_maker(writer: str | None, model: str | None,
                 prompt_hashes: dict[str, str] | None = None) -> Maker:
    """The script writer as a GENERATED_BY model: the LLM, or the extractive writer."""
    return Maker(id=model or f"extractive@{writer or 'extractive'}",
                 props={"writer": writer, "prompt_hashes": prompt_hashes or {}})


def artifact_id_for(job_id: str) -> str:
    """The artifact id a job makes: stable, so a resumed job replaces its own artifact."""
    return str(uuid.uuid5(NAMESPACE, f"artifact:{job_id}"))


def segment_id(artifact_id: str, seq: int) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{artifact_id}:segment:{seq}"))


def quoted_span(quote: str, chunk_text: str) -> str:
    """The part of a piece's quote that this chunk holds (a piece may quote several chunks)."""
    text = " ".join(chunk_text.split())
    if not quote:
        return ""
    if quote in text:
        return quote
    return " ".join(q for q in split_sentences(quote) if q in text)
