"""The owner's review of a script before audio: edits in, grounded lines out.

A reviewed line keeps the citations of the line it replaces (its `seq`) unless the edit names
others, always among the passages the writer was shown. An edited line that makes a claim
(content, summary) must still be supported by what it cites, by the same judge as the writer's
lines; framing lines (intro, questions, transitions, outro) make no claim and are taken as the
owner wrote them. Every changed line is flagged `edited_by: owner` with its original text, and
that flag is kept on its provenance segment.
"""

from __future__ import annotations

from agents import grounding
from agents.script import Line, LineEdit, LineKind, Passage, ScriptEdit
from agents.scriptwriter import candidates
from storage.errors import BadInput

CLAIMS = frozenset({"content", "summary"})


def script_of(lines: list[Line]) -> ScriptEdit:
    """The script as an edit that changes nothing (what a reviewer starts from)."""
    return ScriptEdit(lines=[LineEdit(seq=ln.seq, speaker=ln.speaker, text=ln.text, kind=ln.kind,
                                      citations=list(ln.citations)) for ln in lines])


def apply_edits(lines: list[Line], edit: ScriptEdit, passages: dict[str, Passage],
                speakers: list[str]) -> list[Line]:
    """The reviewed script; raise BadInput naming the first line that cannot stand."""
    by_seq = {ln.seq: ln for ln in lines}
    out: list[Line] = []
    for n, e in enumerate(edit.lines, 1):
        old = by_seq.get(e.seq) if e.seq is not None else None
        if e.seq is not None and old is None:
            raise BadInput(f"line {n}: the script has no line {e.seq}")
        if e.speaker not in speakers:
            raise BadInput(f"line {n}: {e.speaker!r} is not a host ({', '.join(speakers)})")
        line = _edited(n, old, e, passages)
        out.append(line)
    for i, line in enumerate(out):
        line.seq = i
    return out


def _edited(n: int, old: Line | None, e: LineEdit, passages: dict[str, Passage]) -> Line:
    citations = list(e.citations) if e.citations is not None else (
        list(old.citations) if old else [])
    unknown = [c for c in citations if c not in passages]
    if unknown:
        raise BadInput(f"line {n}: {unknown[0]!r} is not one of the script's passages")
    kind: LineKind = e.kind or (old.kind if old else ("content" if citations else "transition"))
    if old is not None and (old.speaker, old.text, old.kind, old.citations) == (
            e.speaker, e.text, kind, citations):
        return old.model_copy(deep=True)
    if kind in CLAIMS and not citations:
        raise BadInput(f"line {n}: a {kind} line must cite the passages it rests on")
    meta = {**(old.meta if old else {}), "edited_by": "owner",
            "original": old.text if old else None}
    line = Line(speaker=e.speaker, kind=kind, text=" ".join(e.text.split()),
                citations=citations, section=old.section if old else "", meta=meta)
    line.support = grounding.score_lines([line], passages)[0] if citations else None
    if kind in CLAIMS and (line.support or 0.0) < grounding.THRESHOLD:
        raise BadInput(f"line {n}: its cited passages do not support it (support "
                       f"{line.support:.2f} < {grounding.THRESHOLD}); cite the passage it "
                       "comes from or keep closer to its words")
    line.quote = best_quote(line.text, [passages[c] for c in citations])
    return line


def best_quote(text: str, cited: list[Passage]) -> str:
    """The cited passages' sentence that shares most content words with `text` (an exact
    span of its passage), or the first passage's opening when none is readable."""
    claimed = set(grounding.content_words(text))
    best, best_overlap = "", -1.0
    for p in cited:
        for cand in candidates(p):
            overlap = len(claimed & set(grounding.content_words(cand.spoken)))
            if overlap > best_overlap:
                best, best_overlap = cand.sentence, overlap
    if not best and cited:
        best = cited[0].text[:200]
    return best
