"""A written export's checked content as segments (pieces) and as files.

Pieces are what provenance records: a paragraph, summary bullet, figure, term, item, card,
quiz question or content slide, each with the chunks it cites and their exact quotes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents import doc_render
from agents.doc_record import Piece
from agents.material import Material, figure_files
from storage.settings import Settings
from tools import slides as slide_plan
from tools.composition import Card, Composition, QuizQuestion

LOCAL_API = "http://127.0.0.1:8000"


def finish(kind: str, req: Any, content: dict[str, Any]) -> dict[str, Any]:
    """Add what follows from the checked content: a deck's slides."""
    if kind == "slides":
        doc = Composition(**content["composition"])
        planned = slide_plan.plan_slides(doc, bullets_per_slide=req.bullets, limit=req.slides)
        return {**content, "slides": [s.model_dump() for s in planned]}
    return content


def pieces_of(kind: str, content: dict[str, Any]) -> list[Piece]:
    if "cards" in content:
        return [Piece(kind=f"card-{c.kind}", text=c.front, section=c.section, cites=[c.cite],
                      support=1.0, meta={"card_id": c.id, "answer": c.answer, "back": c.back,
                                         "tags": c.tags})
                for c in (Card(**d) for d in content["cards"])]
    if "questions" in content:
        return [Piece(kind="question", text=q.question, cites=[q.cite], support=1.0,
                      meta={"options": q.options, "answer_index": q.answer_index})
                for q in (QuizQuestion(**d) for d in content["questions"])]
    if "slides" in content:
        out = []
        for s in (slide_plan.Slide(**d) for d in content["slides"]):
            if not s.blocks:
                continue  # the title and sources slides state no claim
            supports = [b.support or 0.0 for b in s.blocks]
            out.append(Piece(kind="slide", text="\n".join([s.title, *s.bullets]),
                             section=s.title, cites=[c for b in s.blocks for c in b.cites],
                             support=min(supports), meta={
                                 "slide_kind": s.kind, "notes": s.notes,
                                 "points": [{"text": t, "chunk_id": b.cites[0].chunk_id}
                                            for t, b in zip(s.bullets, s.blocks, strict=False)
                                            if b.cites]}))
        return out
    doc = Composition(**content["composition"])
    return [Piece(kind=b.kind, text=b.text, section=section, cites=b.cites, support=b.support,
                  meta={"heading": b.heading,
                        **({"figure": b.figure.model_dump()} if b.figure else {})})
            for section, b in doc.blocks()]


def licence_line(m: Material) -> str:
    ids = sorted({r.licence_id or "unknown" for r in m.sources})
    return "Sources under: " + ", ".join(ids) + ". See the colophon for attribution."


async def render(kind: str, req: Any, content: dict[str, Any], m: Material, folder: Path,
                 settings: Settings, *, seed: str) -> dict[str, str]:
    """Write the kind's files into `folder`; returns role -> path."""
    title = content["title"]
    if kind == "flashcards":
        files = doc_render.flashcards([Card(**c) for c in content["cards"]], folder,
                                      title=title, seed=seed)
    elif kind == "quiz":
        files = doc_render.quiz([QuizQuestion(**q) for q in content["questions"]], folder,
                                title=title, titles={r.source_id: r.title for r in m.sources})
    else:
        doc = Composition(**content["composition"])
        used = [b.figure for _, b in doc.blocks() if b.figure is not None]
        figs = await figure_files(settings, used, folder / "_figures")
        if kind == "report":
            files = doc_render.report(doc, folder, figs)
        elif kind == "ebook":
            files = doc_render.ebook(doc, folder, figs, seed=seed, licence=licence_line(m))
        elif kind == "newsletter":
            files = doc_render.newsletter_files(
                doc, folder, library_url=req.library_url or settings.api_url or LOCAL_API)
        else:
            planned = [slide_plan.Slide(**s) for s in content["slides"]]
            files = doc_render.deck(doc, planned, folder, figs)
    return {role: str(path) for role, path in files.items()}
