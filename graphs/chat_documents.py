"""Chat's side of the written exports: the request a message makes, and the reply with paths.

"make flashcards from these papers", "a study guide about X from the LongEval paper", "a slide
deck with 8 slides": the parameters are checked by the kind's request model, as from the CLI
and REST.
"""

from __future__ import annotations

from typing import Any

from agents import intent
from agents import requests as export_requests
from agents.doc_requests import DOC_PARAMS

NOUNS = {"report": "report", "ebook": "ebook", "flashcards": "flashcard deck", "quiz": "quiz",
         "newsletter": "newsletter", "slides": "slide deck"}
MAIN_FILE = {"report": "pdf", "ebook": "epub", "flashcards": "apkg", "quiz": "html",
             "newsletter": "html", "slides": "pptx"}
UNITS = {"flashcards": "cards", "quiz": "questions", "slides": "slides"}


def params_of(req: intent.Request, sources: list[str]) -> dict[str, Any]:
    """The checked job input of a written export (BadInput names a bad parameter)."""
    fields = set(DOC_PARAMS[str(req.format)].model_fields)
    given = {k: v for k, v in req.params.items() if k in fields}
    return dict(export_requests.request_of(str(req.format), {"sources": sources, **given})
                .model_dump())


def plan_of(req: intent.Request, sources: list[str], paid_llm: str | None) -> dict[str, Any]:
    """The chat plan of a written export: no voices, nothing paid unless the LLM is."""
    params = params_of(req, sources)
    reasons = [f"the text is written by {paid_llm}, a paid API"] if paid_llm else []
    lang = req.params.get("language")
    if lang and lang != "en":
        reasons.append(f"{NOUNS[str(req.format)]}s are made in English only for now")
    return {"graph": req.format, "params": params, "estimate": {}, "confirm": reasons}


def describe(kind: str, params: dict[str, Any]) -> str:
    """'a 12-slide deck', 'a quiz of 10 questions', 'a report' (for interim messages)."""
    unit = UNITS.get(kind)
    if unit:
        return f"a {NOUNS[kind]} of up to {params[unit]} {unit}"
    return f"a {NOUNS[kind]}"


def answer_text(kind: str, result: dict[str, Any], paths: dict[str, str], by: str) -> str:
    main = paths.get(MAIN_FILE[kind]) or next(iter(paths.values()), "")
    others = ", ".join(f"{role}: {p}" for role, p in paths.items()
                       if p != main and not role.startswith("image-"))
    return (f"Your {NOUNS[kind]} is ready: {main}\n\u201c{result['title']}\u201d: "
            f"{result['segments']} {'items' if kind != 'slides' else 'slides'}, "
            f"{result['attributed_segments']} with citations.\nAlso: {others}\nBuilt from:\n{by}")
