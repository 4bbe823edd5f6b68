"""The translator: which language an export is written and spoken in, and translation by the LLM.

An export is written in its sources' dominant language (the offline writer's framing, questions
and grounding work in that language) and spoken in the requested one (default: the same). A line
whose language differs from the requested one is translated by the configured LLM after the
grounding check; it keeps its citations (DERIVED_FROM the original chunks, with the original
quoted span) and notes the original text and language in `meta["translated_from"]`, which
provenance keeps as the TRANSLATED_FROM note of the segment. Without an LLM such a request is
refused before any work starts, with the setting it needs named: languages are never mixed.
"""

from __future__ import annotations

from collections import Counter

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from agents.script import Line, Passage
from storage.errors import BadInput
from storage.settings import Settings
from tools.lang import base, is_supported, pack, supported
from tools.llm import chat_model, prompt_hash, structured_call

BATCH = 30  # lines per translation call
NEEDS_LLM = ("the sources are in {src} and the export was asked in {dst}: translating needs an "
             "LLM (set LIBRARIAN_LLM_BASE_URL and LIBRARIAN_LLM_MODEL), or ask for "
             "--language {src_code}")
SYSTEM = ("You translate podcast and video narration faithfully. Keep every fact, number, name "
          "and title exactly; add nothing, drop nothing; write for the ear.")
PROMPT = """Translate each line below from {src} to {dst}. Keep the ids; one translation per id.
Keep names of people, titles of works in quotation marks, numbers and units as they are.

{lines}"""
PROMPT_HASH = prompt_hash(SYSTEM + PROMPT)


class Translated(BaseModel):
    id: int = Field(description="the id of the line, as given")
    text: str = Field(description="the line translated")


class Translations(BaseModel):
    lines: list[Translated]


def dominant(languages: dict[str, str | None]) -> str | None:
    """The most common (base) language of the sources; ties go to the first source's."""
    codes = [base(code) for code in languages.values() if code]
    if not codes:
        return None
    counts = Counter(codes)
    return max(dict.fromkeys(codes), key=lambda c: counts[c])


def _name(code: str) -> str:
    return pack(code).name if is_supported(code) else code


def settle(requested: str | None, languages: dict[str, str | None],
           llm_configured: bool) -> tuple[str, str]:
    """(spoken, written) languages of an export; BadInput when it cannot be made as asked."""
    written = dominant(languages) or base(requested) or "en"
    spoken = base(requested) or written
    for code in (spoken, written):
        if not is_supported(code):
            raise BadInput(f"narration in {code!r} is not supported; supported languages: "
                           + ", ".join(supported()))
    other = [base(c) for c in languages.values() if c and base(c) != spoken]
    if other and not llm_configured:
        raise BadInput(NEEDS_LLM.format(src=_name(other[0]), dst=_name(spoken),
                                        src_code=other[0]))
    return spoken, written


def check_written(kind: str, requested: str | None, languages: dict[str, str | None]) -> None:
    """A written export quotes its sources: a `requested` language none of them is in is
    refused (BadInput), never translated or mixed."""
    want = base(requested)
    other = sorted({base(c) for c in languages.values() if c and base(c) != want})
    if want and other:
        raise BadInput(f"a {kind} quotes its sources exactly, in their language "
                       f"({', '.join(_name(c) for c in other)}); it cannot be made in "
                       f"{_name(want)}: drop --language, or make a podcast or video, which "
                       "an LLM can translate")


def line_language(line: Line, passages: dict[str, Passage], languages: dict[str, str | None],
                  written: str) -> str:
    """A content line speaks its cited source's language; framing lines the script's."""
    if line.kind in {"content", "summary"}:
        cited = {base(languages.get(passages[c].source_id)) for c in line.citations
                 if c in passages and languages.get(passages[c].source_id)}
        if len(cited) == 1:
            return cited.pop()
    return written


async def translate(lines: list[Line], passages: list[Passage], languages: dict[str, str | None],
                    written: str, spoken: str, settings: Settings,
                    model: BaseChatModel | None = None) -> tuple[list[Line], dict[str, int]]:
    """Every line not in `spoken` translated by the LLM (one call per language and batch)."""
    by_chunk = {p.chunk_id: p for p in passages}
    todo: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        src = line_language(line, by_chunk, languages, written)
        if src != spoken and "translated_from" not in line.meta:
            todo.setdefault(src, []).append(i)
    if not todo:
        return lines, {}
    model = model or chat_model(settings, temperature=0.0)
    name = settings.llm_model or getattr(model, "model_name", None) or "llm"
    out = [line.model_copy(deep=True) for line in lines]
    usage: dict[str, int] = {}
    for src, idxs in todo.items():
        for k in range(0, len(idxs), BATCH):
            batch = idxs[k:k + BATCH]
            got, used = await _call(model, settings, src, spoken, [lines[i].text for i in batch])
            usage["calls"] = usage.get("calls", 0) + 1
            for key, value in used.items():
                usage[key] = usage.get(key, 0) + value
            for j, i in enumerate(batch):
                text = got.get(j, "").strip()
                if not text:
                    raise BadInput(f"the LLM returned no translation for line {i + 1}")
                out[i].text = text
                out[i].meta = {**out[i].meta, "translated_from": {
                    "language": src, "text": lines[i].text, "model": str(name),
                    "prompt_hash": PROMPT_HASH}}
    return out, usage


async def _call(model: BaseChatModel, settings: Settings, src: str, dst: str,
                texts: list[str]) -> tuple[dict[int, str], dict[str, int]]:
    numbered = "\n".join(f"[{j}] {t}" for j, t in enumerate(texts))
    messages: list[BaseMessage] = [SystemMessage(SYSTEM), HumanMessage(PROMPT.format(
        src=_name(src), dst=_name(dst), lines=numbered))]
    parsed, usage = await structured_call(model, Translations, messages, settings=settings)
    return {t.id: t.text for t in parsed.lines if 0 <= t.id < len(texts)}, usage
