"""The shared shapes of the podcast pipeline: passages in, script lines out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

LineKind = Literal["intro", "transition", "question", "content", "summary", "outro"]
BRIEF_MAX_MINUTES = 2.0  # a "brief" episode is one voice under this length


class Passage(BaseModel):
    """A chunk the researcher selected, with enough context to write and to cite."""

    chunk_id: str
    source_id: str
    seq: int
    text: str
    section: str = ""  # heading path joined with " > "
    page: int | None = None
    score: float = 0.0
    source_title: str = ""
    source_authors: list[str] = Field(default_factory=list)
    source_year: str | None = None


class Host(BaseModel):
    name: str
    role: str  # "host", "co-host", "guest expert", "lecturer"
    voice_id: str


class Line(BaseModel):
    """One spoken line; `citations` are chunk ids, `quote` the exact source span it rests on."""

    seq: int = 0
    speaker: str
    kind: LineKind = "content"
    text: str
    citations: list[str] = Field(default_factory=list)
    quote: str = ""
    section: str = ""  # chapter / segment title
    support: float | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class Brief(BaseModel):
    """What the user asked for."""

    minutes: float = 5.0
    hosts: int = 2
    style: Literal["conversational", "interview", "lecture"] = "conversational"
    format: Literal["deep-dive", "brief", "critique", "debate"] = "deep-dive"
    topic: str | None = None
    audience: str | None = None
    title: str | None = None
    language: str = "en"
    tone: str | None = None  # the owner's brand voice (agents.brand)
    avoid_words: list[str] = Field(default_factory=list)


def words(text: str) -> int:
    return len(text.split())


class WriterInput(BaseModel):
    """Everything a scriptwriter gets; both writers (extractive, LLM) take this."""

    passages: list[Passage]
    hosts: list[Host]
    brief: Brief
    target_seconds: float  # speech + pauses the script should fill
    seconds_per_word: dict[str, float]  # per host name, measured from the voice
    pause_s: float = 0.45  # average pause between lines


class WriterOutput(BaseModel):
    lines: list[Line]
    writer: str  # "extractive" or "llm"
    model: str | None = None
    prompt_hashes: dict[str, str] = Field(default_factory=dict)
    usage: dict[str, int] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)


def estimate_seconds(lines: list[Line], inp: WriterInput) -> float:
    """Spoken length of lines from the voices' measured pace, pauses included."""
    total = 0.0
    for line in lines:
        spw = inp.seconds_per_word.get(line.speaker) or (sum(inp.seconds_per_word.values())
                                                         / max(1, len(inp.seconds_per_word)))
        total += words(line.text) * spw + inp.pause_s
    return total


ChunkId = Annotated[str, Field(min_length=1, max_length=128)]


class LineEdit(BaseModel):
    """One line of the reviewed script."""

    model_config = ConfigDict(extra="forbid")
    seq: int | None = Field(None, ge=0)
    """The line this one replaces (keeps its kind and citations); none for a new line."""
    speaker: str = Field(min_length=1, max_length=100)
    """A host of the script."""
    text: str = Field(min_length=1, max_length=2000)
    """What is said."""
    kind: LineKind | None = None
    """intro, transition, question, content, summary or outro (default: the replaced line's;
    a new line is content when it cites, else a transition)."""
    citations: list[ChunkId] | None = Field(None, max_length=20)
    """Chunk ids among the script's passages (default: the replaced line's)."""


class ScriptEdit(BaseModel):
    """The whole reviewed script, in order: lines left out are dropped."""

    model_config = ConfigDict(extra="forbid")
    lines: list[LineEdit] = Field(min_length=1, max_length=2000)
