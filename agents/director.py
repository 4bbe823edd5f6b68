"""The director: one scene per narration line, each showing what its sources actually contain.

A content line gets, in order of preference: a figure or table cut from its source PDF (one on
the cited chunk's page, or one the chunk names as "Figure N" / "Table N"), a terminal typing
its text when it is code or a command, a bar chart when it compares several numbers, or a quote
card (one sentence) / bullet card (several) of the exact source text with its reference. The
intro is a title card, a hand-off between papers a section card, the outro the end card with
the sources and the AI-generated disclosure. When the papers have figures, at least one scene
shows one. Scene lengths follow the narration: `timeline` turns measured speech into frames.
"""

from __future__ import annotations

import math
import re
from typing import Any

from pydantic import BaseModel, Field

from agents.assembler import credits, pauses
from agents.script import Line, Passage
from agents.scriptwriter import short_authors
from tools.chunking import split_sentences
from tools.lang import Lang, pack
from tools.video import FPS

LEAD_S = 0.25  # picture before the voice starts
FIRST_LEAD_S = 0.5  # the title card shows a little longer before the first words
END_HOLD_S = 1.2  # the end card stays after the last words
MAX_EXTRA_HOLD_S = 3.0  # the end card may stay this much longer to reach the requested length
GENERATED_KINDS = {"title", "section"}  # scenes a cloud backend may replace with a clip

_FIG_REF = re.compile(r"\b(Figure|Fig\.|Table)\s*(\d+)", re.I)
_CODE = re.compile(r"(^|\s)(\$ |>>> |pip install|npm |git \w+|python -m|--[a-z][\w-]+)|"
                   r"\w+\.\w+\(|\bdef \w+\(|`[^`]+`")
_NUMBER = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s*(%|percent|million|billion|[MBK]\b)?"
                     r"\s+([A-Za-z][\w-]*(?:\s+[a-z][\w-]*)?)")


class FigureInfo(BaseModel):
    """A figure or table the import cut from a source PDF."""

    id: str
    source_id: str
    kind: str
    label: str
    caption: str
    page: int | None = None
    object_key: str


class Scene(BaseModel):
    """One scene: the line it narrates, what it shows, and where both come from."""

    seq: int
    line_seq: int
    kind: str  # title | section | quote | bullets | figure | terminal | chart | end
    text: str
    citations: list[str]
    quote: str = ""
    section: str = ""
    support: float | None = None
    visual: dict[str, Any] = Field(default_factory=dict)
    figure: FigureInfo | None = None
    generate: dict[str, Any] | None = None  # a request for a cloud backend clip
    translated_from: dict[str, Any] | None = None  # the narration line's original (translator)


def _who(p: Passage, lang: Lang | None = None) -> str:
    """"Smith", "Smith and Lee", "Smith et al." (the written reference form, in the language)."""
    if len(p.source_authors) > 2:
        return f"{p.source_authors[0].split()[-1]} et al." if p.source_authors[0].split() else ""
    return short_authors(p.source_authors, lang)


def disclosure(language: str | None = None) -> str:
    """The AI-generated disclosure of the end card and the file, in the video's language."""
    return pack(language).text("video.disclosure")


def reference(p: Passage) -> str:
    who = _who(p)
    parts = [p.source_title]
    tail = ", ".join(x for x in [who, p.source_year or "", f"p. {p.page}" if p.page else ""] if x)
    return parts[0] + (f" \u2014 {tail}" if tail else "")


def figure_for(p: Passage, figures: list[FigureInfo], used: set[str]) -> FigureInfo | None:
    """A figure this passage names ("Figure 2"), else one on the passage's page."""
    free = [f for f in figures if f.source_id == p.source_id and f.id not in used]
    for kind, num in _FIG_REF.findall(p.text):
        label = ("Table" if kind.lower() == "table" else "Figure") + f" {num}"
        for f in free:
            if f.label.lower() == label.lower():
                return f
    return next((f for f in free if p.page is not None and f.page == p.page), None)


def chart_of(text: str) -> dict[str, Any] | None:
    """Bars for a passage that states several comparable quantities, else None."""
    found: list[tuple[str, float, str]] = []
    units = set()
    for num, unit, label in _NUMBER.findall(text):
        value = float(num.replace(",", ""))
        if not unit and 1900 <= value <= 2100:
            continue  # a year
        units.add(unit)
        found.append((label, value, f"{num} {unit}" if len(unit) > 1 else f"{num}{unit}"))
    if len(found) < 2 or len(found) > 6 or len(units) > 1:
        return None
    return {"labels": [f[0] for f in found], "values": [f[1] for f in found],
            "texts": [f[2] for f in found]}


def content_visual(line: Line, p: Passage, figure: FigureInfo | None, prev_kind: str,
                   portrait: bool) -> tuple[str, dict[str, Any]]:
    ref = reference(p)
    quote = line.quote or line.text
    if figure is not None:
        return "figure", {"kind": "figure", "figure_key": figure.object_key,
                          "caption": figure.caption, "reference": ref}
    if _CODE.search(quote):
        return "terminal", {"kind": "terminal", "text": "$ " + quote, "reference": ref}
    chart = chart_of(quote)
    if chart is not None:
        return "chart", {"kind": "chart", "heading": p.section.split(" > ")[-1] or p.source_title,
                         "reference": ref, **chart}
    sentences = [" ".join(s.split()) for s in split_sentences(quote)]
    if len(sentences) >= 2 and prev_kind == "quote" and not portrait:
        return "bullets", {"kind": "bullets", "bullets": sentences,
                           "heading": p.section.split(" > ")[-1] or p.source_title,
                           "reference": ref}
    return "quote", {"kind": "quote", "text": quote, "reference": ref}


def plan(lines: list[Line], passages: list[Passage], figures: list[FigureInfo], *,
         title: str, style: str, portrait: bool, backend: str | None = None,
         language: str | None = None) -> list[Scene]:
    """A scene for every line (cards in the video's language); at least one shows a real figure
    when the sources have any."""
    lang = pack(language)
    by_chunk = {p.chunk_id: p for p in passages}
    firsts: dict[str, Passage] = {}
    for p in passages:
        firsts.setdefault(p.source_id, p)
    used: set[str] = set()
    scenes: list[Scene] = []
    prev = ""
    for line in lines:
        cited = [by_chunk[c] for c in line.citations if c in by_chunk]
        head = cited[0] if cited else None
        fig = None
        visual: dict[str, Any]
        if line.kind == "intro":
            kind = "title"
            subtitle = " \u00b7 ".join(
                f"{p.source_title.split(':')[0]} ({_who(p, lang)}"
                f"{', ' + p.source_year if p.source_year else ''})" for p in firsts.values())
            visual = {"kind": "title", "title": title, "subtitle": subtitle,
                      "kicker": lang.text("video.kicker_explainer" if style == "explainer"
                                          else "video.kicker_short")}
        elif line.kind == "outro":
            kind = "end"
            visual = {"kind": "end", "credits": credits(passages, lang),
                      "heading": lang.text("video.sources_heading"),
                      "disclosure": disclosure(language)}
        elif line.kind in {"transition", "question"} or head is None:
            kind = "section"
            src = head or next(iter(firsts.values()))
            who = ", ".join(src.source_authors[:4]) + (" et al." if len(src.source_authors) > 4
                                                       else "")
            visual = {"kind": "section", "title": src.source_title,
                      "subtitle": " \u00b7 ".join(x for x in [who, src.source_year or ""] if x)}
        else:
            fig = figure_for(head, figures, used)
            kind, visual = content_visual(line, head, fig, prev, portrait)
            if fig is not None:
                used.add(fig.id)
        scene = Scene(seq=len(scenes), line_seq=line.seq, kind=kind, text=line.text,
                      citations=line.citations, quote=line.quote, section=line.section,
                      support=line.support, visual=visual, figure=fig,
                      translated_from=line.meta.get("translated_from"))
        if backend and kind in GENERATED_KINDS:
            scene.generate = {"prompt": f"Abstract, calm cinematic background for a section "
                                        f"titled: {visual.get('title', '')}",
                              "backend": backend}
        scenes.append(scene)
        prev = kind
    if not used:
        ensure_figure(scenes, by_chunk, figures)
    return scenes


def ensure_figure(scenes: list[Scene], by_chunk: dict[str, Passage],
                  figures: list[FigureInfo]) -> None:
    """Give the content scene nearest (by page) to one of its source's figures that figure."""
    best: tuple[float, int, FigureInfo] | None = None
    for i, sc in enumerate(scenes):
        if sc.kind not in {"quote", "bullets", "chart"}:
            continue
        p = by_chunk.get(sc.citations[0]) if sc.citations else None
        if p is None:
            continue
        for f in figures:
            if f.source_id != p.source_id:
                continue
            gap = abs((f.page or 0) - (p.page or 0)) + (0.5 if f.kind == "table" else 0.0)
            if best is None or gap < best[0]:
                best = (gap, i, f)
    if best is None:
        return
    _, i, f = best
    p = by_chunk[scenes[i].citations[0]]
    scenes[i].kind = "figure"
    scenes[i].figure = f
    scenes[i].visual = {"kind": "figure", "figure_key": f.object_key, "caption": f.caption,
                        "reference": reference(p).rsplit(", p.", 1)[0]
                        + (f", p. {f.page}" if f.page else "")}


def timeline(speech_s: list[float], lines: list[Line],
             target_s: float | None = None) -> list[dict[str, Any]]:
    """Each scene's frames and where its narration starts, from the measured speech; a short
    video holds its end card up to MAX_EXTRA_HOLD_S longer to come closer to `target_s`, a long
    one shortens the pauses between scenes (within natural bounds)."""
    out = _timeline(speech_s, lines, pauses(lines))
    total = sum(t["frames"] for t in out) / FPS
    if out and target_s is not None and total > target_s:
        out = _timeline(speech_s, lines, pauses(lines, (target_s - total) / len(lines)))
    t = sum(x["frames"] for x in out)
    if out and target_s is not None and t / FPS < target_s:
        extra = math.floor(min(MAX_EXTRA_HOLD_S, target_s - t / FPS) * FPS)
        out[-1]["frames"] += extra
    return out


def _timeline(speech_s: list[float], lines: list[Line], gaps: list[float]) -> list[dict[str, Any]]:
    out = []
    t = 0
    for i, (speech, gap) in enumerate(zip(speech_s, gaps, strict=True)):
        lead = FIRST_LEAD_S if i == 0 else LEAD_S
        tail = END_HOLD_S if i == len(lines) - 1 else gap
        frames = math.ceil((lead + speech + tail) * FPS)
        out.append({"start_s": t / FPS, "frames": frames, "speech_start_s": t / FPS + lead,
                    "speech_end_s": t / FPS + lead + speech})
        t += frames
    return out
