"""The LLM writer of written exports: each extractive paragraph rewritten as prose.

The model sees a section's paragraphs by id and returns one rewrite per id; citations stay with
the code (a rewrite keeps the chunks and quotes of the paragraph it replaces, unknown ids are
ignored, a missing one keeps the source text). The graph's grounding check then scores every
rewrite against its chunk: unsupported sentences are replaced by the chunk's closest exact
sentence or dropped, as for podcast lines.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from storage.settings import Settings
from tools.composition import Composition
from tools.llm import chat_model, prompt_hash, structured_call

SYSTEM = ("You edit a {kind} written from research papers. Rewrite each numbered passage as "
          "one clear paragraph for a general reader. Keep every claim of the passage; add no "
          "fact, number or name that the passage does not state; no citations or brackets.")
TEMPLATE = ("Section: {section}\n\n{passages}\n\nReply with JSON: {{\"paragraphs\": "
            "[{{\"id\": \"B1\", \"text\": \"...\"}}, ...]}}, one entry per passage id.")
PROMPT_HASHES = {"system": prompt_hash(SYSTEM), "rewrite": prompt_hash(TEMPLATE)}


class Paragraph(BaseModel):
    id: str = Field(description="the passage id, e.g. B1")
    text: str = Field(description="the rewritten paragraph")


class Rewrite(BaseModel):
    """One rewritten paragraph per passage id."""

    paragraphs: list[Paragraph] = Field(default_factory=list)


async def rewrite_with_llm(doc: Composition, settings: Settings,
                           model: BaseChatModel | None = None
                           ) -> tuple[Composition, dict[str, Any]]:
    """The composition with its paragraphs rewritten (one call per section)."""
    model = model or chat_model(settings)
    usage: dict[str, int] = {}
    out = doc.model_copy(deep=True)
    for section in out.sections:
        idx = [i for i, b in enumerate(section.blocks) if b.kind == "paragraph" and b.cites]
        if not idx:
            continue
        shown = "\n\n".join(f"[B{n}] {section.blocks[i].text}" for n, i in enumerate(idx, 1))
        messages = [SystemMessage(SYSTEM.format(kind=doc.kind)),
                    HumanMessage(TEMPLATE.format(section=section.title, passages=shown))]
        reply, used = await structured_call(model, Rewrite, messages, settings=settings)
        for k, v in used.items():
            usage[k] = usage.get(k, 0) + v
        by_id = {p.id.strip().strip("[]"): " ".join(p.text.split()) for p in reply.paragraphs}
        for n, i in enumerate(idx, 1):
            text = by_id.get(f"B{n}")
            if text:
                section.blocks[i] = section.blocks[i].model_copy(update={"text": text})
    return out, {"writer": "llm", "model": settings.llm_model or getattr(model, "model_name",
                                                                          None),
                 "prompt_hashes": PROMPT_HASHES, "usage": usage}
