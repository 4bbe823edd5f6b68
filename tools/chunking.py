"""Turn an extracted document's blocks into paragraph-sized chunks with their positions."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tools.document import Document
from tools.hygiene import junk_reason

MIN_WORDS = 25
MAX_WORDS = 220
MERGE_KINDS = {"paragraph", "list"}  # short neighbours of one kind in one section merge
CHUNK_KINDS = {"paragraph", "list", "caption", "quote", "code", "transcript", "table"}
# a sentence ends at . ! ? before a capital (accented too), digit, quote, bracket or ¿ ¡
_SENT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9À-ÖØ-ÞĀ-Ž\"'“‘(\[¿¡])")


@dataclass
class ChunkDraft:
    """A chunk before it is stored: `char_start/char_end` index the source's full text."""

    seq: int
    text: str
    kind: str
    page: int | None
    char_start: int
    char_end: int
    heading_path: list[str] = field(default_factory=list)
    start_s: float | None = None
    end_s: float | None = None


def full_text(doc: Document) -> str:
    """The source text that chunk spans point into: every block, blank-line separated."""
    return "\n\n".join(b.text for b in doc.blocks)


def embedding_text(title: str, chunk: dict[str, Any]) -> str:
    """What a chunk is indexed as (dense and sparse): its title and heading path, then text."""
    path = " > ".join(chunk.get("heading_path") or [])
    return f"{title}. {path}. {chunk['text']}" if path else f"{title}. {chunk['text']}"


def split_sentences(text: str, language: str | None = None) -> list[str]:
    """Sentences of a text; with a `language`, none ends at one of its abbreviations
    ("et al.", "p. ej.", "Fig.": tools/lang)."""
    out = [s.strip() for s in _SENT.split(text) if s.strip()]
    if not language or len(out) < 2:
        return out
    from tools.lang import is_supported, pack

    if not is_supported(language):
        return out
    abbreviations = tuple(" " + a for a in pack(language)["abbreviations"])
    merged: list[str] = []
    for sent in out:
        if merged and (" " + merged[-1]).endswith(abbreviations):
            merged[-1] = f"{merged[-1]} {sent}"
        else:
            merged.append(sent)
    return merged


def chunk_document(doc: Document) -> list[ChunkDraft]:
    """Paragraph chunks: tiny neighbours in one section merge, long ones split at sentences."""
    drafts: list[ChunkDraft] = []
    offset = 0
    pending: ChunkDraft | None = None

    def flush() -> None:
        nonlocal pending
        if pending is not None and pending.text.strip():
            pending.seq = len(drafts)
            drafts.append(pending)
        pending = None

    for block in doc.blocks:
        start = offset
        offset += len(block.text) + 2
        if block.kind not in CHUNK_KINDS or not block.text.strip():
            if block.kind == "heading":
                flush()
            continue
        pieces = _split_long(block.text) if len(block.text.split()) > MAX_WORDS else [block.text]
        pos = start
        for piece in pieces:
            p_start = block.text.find(piece, pos - start) + start if len(pieces) > 1 else start
            p_end = p_start + len(piece)
            pos = p_end
            same_section = pending is not None and pending.heading_path == block.heading_path
            mergeable = (
                pending is not None and same_section and block.kind == pending.kind
                and block.kind in MERGE_KINDS
                and p_start == pending.char_end + 2  # adjacent: the span must equal the text
                and len(pending.text.split()) < MIN_WORDS
                and len(pending.text.split()) + len(piece.split()) <= MAX_WORDS
                and pending.start_s is None
            )
            if mergeable and pending is not None:
                pending.text = pending.text + "\n\n" + piece
                pending.char_end = p_end
                continue
            flush()
            pending = ChunkDraft(seq=0, text=piece, kind=block.kind, page=block.page,
                                 char_start=p_start, char_end=p_end,
                                 heading_path=list(block.heading_path), start_s=block.start_s,
                                 end_s=block.end_s)
            if len(piece.split()) >= MIN_WORDS or block.kind not in MERGE_KINDS:
                flush()
    flush()
    return content_only(drafts)


def content_only(drafts: list[ChunkDraft]) -> list[ChunkDraft]:
    """Drop drafts that are not content (tools.hygiene), renumbered; a document with nothing
    but such drafts keeps them (a tiny note is still its own content)."""
    per_section: dict[tuple[str, ...], int] = {}
    for d in drafts:
        per_section[tuple(d.heading_path)] = per_section.get(tuple(d.heading_path), 0) + 1
    kept = [d for d in drafts if junk_reason(
        d.text, d.kind, heading_bound=bool(d.heading_path)
        and per_section[tuple(d.heading_path)] == 1) is None]
    if not kept:
        return drafts
    for i, d in enumerate(kept):
        d.seq = i
    return kept


def _split_long(text: str) -> list[str]:
    """Sentence-aligned pieces of about MAX_WORDS * 0.75 words, each an exact slice of `text`."""
    bounds = [0] + [m.end() for m in _SENT.finditer(text)] + [len(text)]
    out: list[str] = []
    start = bounds[0]
    words = 0
    for a, b in zip(bounds, bounds[1:], strict=False):
        n = len(text[a:b].split())
        if words and words + n > MAX_WORDS * 0.75:
            out.append(text[start:a].strip())
            start, words = a, 0
        words += n
    if text[start:].strip():
        out.append(text[start:].strip())
    return [p for p in out if p]


def split_text(text: str, limit: int) -> list[str]:
    """Split text into chunks of at most `limit` characters, on sentence boundaries if possible.

    A sentence longer than the limit is split at clause punctuation, then at spaces, then hard.
    """
    text = re.sub(r"\s+", " ", text).strip()
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    for sentence in re.split(r"(?<=[.!?…])\s+", text):
        if len(sentence) <= limit:
            pieces.append(sentence)
            continue
        for clause in re.split(r"(?<=[,;:])\s+", sentence):
            while len(clause) > limit:
                cut = clause.rfind(" ", 0, limit + 1)
                cut = cut if cut > 0 else limit
                pieces.append(clause[:cut].strip())
                clause = clause[cut:].strip()
            if clause:
                pieces.append(clause)
    chunks: list[str] = []
    for piece in pieces:
        if chunks and len(chunks[-1]) + 1 + len(piece) <= limit:
            chunks[-1] += " " + piece
        else:
            chunks.append(piece)
    return chunks
