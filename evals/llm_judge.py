"""An LLM judge of a script (PodEval-style): faithfulness to the cited passages, engagingness.

Runs only when an LLM is configured (LIBRARIAN_LLM_BASE_URL and LIBRARIAN_LLM_MODEL); the
content suite then reports its two scores beside the deterministic metrics. The rubric asks
for integers 1-5 that are mapped to [0, 1]; the passages are cut to fit a small model's
context. It reports, it does not gate: the figures of a 1.5B local model are a smoke test of
the plumbing, not a verdict.
"""

from __future__ import annotations

from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agents.script import Line, Passage
from storage.settings import Settings
from tools.llm import StructuredMethod

RUBRIC = """You grade a podcast script written from source passages.
faithfulness (1-5): 5 = every claim in the script is stated by its cited passages; 3 = some
claims go beyond them; 1 = the script contradicts or invents facts.
engagingness (1-5): 5 = a natural, varied conversation that a listener would enjoy; 3 = clear
but flat; 1 = disjointed or repetitive.
Answer with JSON: {"faithfulness": int, "engagingness": int, "reason": "one sentence"}."""
MAX_PASSAGE_CHARS = 2400
MAX_SCRIPT_CHARS = 2400


class Verdict(BaseModel):
    """The judge's grades."""

    faithfulness: int = Field(ge=1, le=5)
    engagingness: int = Field(ge=1, le=5)
    reason: str = Field("", max_length=400)


def messages_for(lines: list[Line], passages: list[Passage]) -> list[BaseMessage]:
    """The rubric, then the cited passages and the numbered script, both cut to fit."""
    cited = {c for line in lines for c in line.citations}
    used = [p for p in passages if p.chunk_id in cited] or passages
    budget = MAX_PASSAGE_CHARS // max(1, len(used))
    ptext = "\n".join(f"[{i + 1}] {p.text[:budget]}" for i, p in enumerate(used))
    stext = "\n".join(f"{i + 1}. {line.speaker}: {line.text}" for i, line in enumerate(lines))
    return [SystemMessage(RUBRIC), HumanMessage(
        f"Passages:\n{ptext}\n\nScript:\n{stext[:MAX_SCRIPT_CHARS]}\n\nGrade the script.")]


async def judge_script(settings: Settings, lines: list[Line], passages: list[Passage],
                       model: BaseChatModel | None = None, *,
                       method: StructuredMethod = "function_calling") -> dict[str, Any]:
    """{"llm_faithfulness", "llm_engagingness"} in [0, 1], the reason and token usage."""
    from tools.llm import chat_model, structured_call

    model = model or chat_model(settings, temperature=0.0, max_tokens=200)
    verdict, usage = await structured_call(model, Verdict, messages_for(lines, passages),
                                           method=method, settings=settings)
    return {"llm_faithfulness": round((verdict.faithfulness - 1) / 4, 3),
            "llm_engagingness": round((verdict.engagingness - 1) / 4, 3),
            "reason": verdict.reason, "usage": usage}
