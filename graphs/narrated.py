"""The narrated export graph, shared by every export that speaks (podcast, video, ...).

resolve -> plan -> research -> write -> ground -> review -> translate -> [the kind's own stages]
-> narrate -> (refit -> write ...) -> assemble. `review` stops the run (LangGraph `interrupt`) only
when the request asks for it; the owner's approved script is narrated as it is (no refit rewrites
it). The script is written (and grounded) in the sources' dominant language and spoken in the
requested one: `translate` (agents.translator) translates the lines that differ with the LLM, and
does nothing when none does. `NarratedKind` says what differs: how to plan the voices, how to
write, what to show, how to measure the result and how to assemble it. The rest (resolving
sources, research, grounding, translation, narration, the refit loop, the recipe) is written here
once.

State is typed: domain models (`Plan`, `Passage`, `WriterOutput`, `Line`, `Scene`), with reducers
where lists grow over the refit loop (`measured`, `notes`). The per-run context (settings, owner,
job id) is LangGraph's `context_schema` (`agents.context.RunContext`), not state.
"""

from __future__ import annotations

import asyncio
import operator
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph
from langgraph.runtime import Runtime
from langgraph.types import Command, interrupt
from pydantic import BaseModel, ConfigDict, Field, create_model

from agents import grounding, narrator, researcher, script_edits, translator
from agents.context import RunContext, report, run_context
from agents.director import Scene
from agents.importer import is_url
from agents.requests import REQUESTS, PodcastRequest, VideoRequest, request_of
from agents.script import (
    Host,
    Line,
    Passage,
    ScriptEdit,
    WriterInput,
    WriterOutput,
    estimate_seconds,
)
from graphs import ingest
from services import brand
from services.lineage import check_commercial_use
from storage import db, library
from storage.errors import BadInput, NotFound
from storage.objects import objects
from tools.embed import MODEL_ID as EMBED_MODEL
from tools.lang import base, pack

NarratedRequest = PodcastRequest | VideoRequest


class Plan(BaseModel):
    """The voices and how long the script should be; refits correct pace and pauses."""

    hosts: list[Host]
    pace: dict[str, float]  # seconds per word, per host name (measured from the voice)
    target_s: float  # speech + pauses the script should fill
    pause_s: float  # average pause between lines
    estimate: dict[str, Any] = Field(default_factory=dict)  # what the run will cost


class Measured(BaseModel):
    """The real length of one narration, and each voice's real pace."""

    total_s: float
    requested_s: float
    error: float  # (total - requested) / requested
    pace: dict[str, float]
    pause_s: float


class NarratedState(TypedDict, total=False):
    request: NarratedRequest
    source_ids: list[str]
    source_hashes: dict[str, str]
    source_languages: dict[str, str | None]
    written_language: str  # the script's language before translation (the sources' dominant)
    brand: dict[str, Any]  # the owner's brand voice the writers follow (tone, words to avoid)
    plan: Plan
    passages: list[Passage]
    draft: WriterOutput
    lines: list[Line]
    grounding: dict[str, float]
    scenes: list[Scene]
    audio: list[dict[str, Any]]  # per line: seq, path of the cached WAV, voice id
    measured: Annotated[list[Measured], operator.add]  # one per narration (refits add more)
    notes: Annotated[list[str], operator.add]
    reviewed: bool  # the owner approved the script (narrated as approved, never rewritten)
    review_edit: ScriptEdit | None  # the owner's edits, recorded in the recipe
    result: dict[str, Any]


Node = Callable[..., Awaitable[Any]]  # async (state, runtime) -> update


@dataclass(frozen=True)
class NarratedKind:
    """What one narrated export does differently."""

    name: str
    version: str
    params: type[BaseModel]  # its parameters model: the recipe records these fields
    plan: Node
    write: Node
    assemble: Node
    measure: Callable[[NarratedState, list[Line], list[dict[str, Any]]], Measured]
    shows: list[tuple[str, Node]] = field(default_factory=list)  # between ground and narrate
    max_refits: int = 1
    tolerance: float = 0.05  # relative length error that triggers a refit
    unrecorded: frozenset[str] = frozenset()  # request fields the recipe leaves out
    recipe_extra: Callable[[], dict[str, Any]] = dict  # e.g. render versions, encoders
    models_extra: Callable[[], dict[str, Any]] = dict

    @property
    def stages(self) -> list[str]:
        return ["resolve", "plan", "research", "write", "ground", "review", "translate",
                *[n for n, _ in self.shows], "narrate", "assemble"]


# --- nodes written once ---------------------------------------------------------------------

async def resolve_sources(ctx: RunContext, wanted: list[str]) -> list[str]:
    """Library ids stay; files and URLs are imported first (re-imports are detected)."""
    ids: list[str] = []
    sub = ingest.build_graph().compile()
    for i, item in enumerate(wanted):
        if is_url(item) or Path(item).expanduser().exists():
            report(i / len(wanted), f"importing {item}")
            thread = f"{ctx.job_id}-import-{i}"
            cfg: RunnableConfig = {"configurable": {"thread_id": thread,
                                                    "settings": ctx.settings}}
            try:
                out = await sub.ainvoke({"source": item, "owner": ctx.owner}, cfg)
            except BaseException:
                await objects(ctx.settings).delete_prefix(f"staging/{thread}/")  # leave nothing
                raise
            ids.append(out["result"]["source_id"])
        else:
            async with db.session(ctx.settings) as s:
                try:
                    await library.get_source(s, item, ctx.owner)
                except NotFound:
                    raise BadInput(f"{item} is neither a library source id nor a file") from None
            ids.append(item)
    return list(dict.fromkeys(ids))


def resolve_node(kind: NarratedKind) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def resolve(state: BaseModel, runtime: Runtime[RunContext]) -> dict[str, Any]:
        """Check the request, then resolve and (if asked) licence-check its sources."""
        ctx = run_context(runtime)
        req: NarratedRequest = request_of(kind.name, state.model_dump())
        got = await sources_of(ctx, list(req.sources), req.commercial)
        spoken, written = translator.settle(req.language, got["source_languages"],
                                            ctx.settings.llm_configured)
        profile = await brand.get(ctx.settings, ctx.owner)
        return {"request": req.model_copy(update={"language": spoken}),
                "written_language": written,
                "brand": profile.model_dump(include={"tone", "avoid_words"}), **got}

    return resolve


async def sources_of(ctx: RunContext, wanted: list[str], commercial: bool) -> dict[str, Any]:
    """Any export's sources: resolved (imported first when files or URLs), licence-checked
    for commercial use when asked, with their content hashes for the recipe."""
    if not wanted:
        raise BadInput("give at least one source (library id, file or URL)")
    ids = await resolve_sources(ctx, wanted)
    if commercial:
        await check_commercial_use(ctx.settings, ids, owner=ctx.owner)
    async with db.session(ctx.settings) as s:
        rows = [await library.get_source(s, sid, ctx.owner) for sid in ids]
    return {"source_ids": ids, "source_hashes": {r.id: r.content_hash for r in rows},
            "source_languages": {r.id: r.language for r in rows}}


async def research(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Passages relevant to the request, every source covered, enough to fill the target."""
    ctx = run_context(runtime)
    plan = state["plan"]
    avg_spw = sum(plan.pace.values()) / len(plan.pace)
    passages = await researcher.research(ctx.settings, state["source_ids"],
                                         state["request"].brief(),
                                         int(plan.target_s / avg_spw), owner=ctx.owner)
    return {"passages": passages}


def writer_input(state: NarratedState, target: float | None = None) -> WriterInput:
    """What the writers get: the brief in the script's (written) language."""
    plan = state["plan"]
    brief = state["request"].brief()
    brief.language = state.get("written_language") or brief.language
    voice = state.get("brand") or {}
    brief.tone, brief.avoid_words = voice.get("tone"), list(voice.get("avoid_words") or [])
    return WriterInput(passages=state["passages"], hosts=plan.hosts,
                       brief=brief, target_seconds=target or plan.target_s,
                       seconds_per_word=plan.pace, pause_s=plan.pause_s)


async def ground(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Score every line against its cited chunks; rewrite or drop unsupported lines."""
    inp = writer_input(state)
    lines, stats = await asyncio.to_thread(  # embeddings: off the event loop
        grounding.ground, state["draft"].lines, {p.chunk_id: p for p in inp.passages},
        lang=pack(inp.brief.language))
    if not lines:
        raise BadInput("no line of the script is supported by the sources")
    supports = [line.support or 0.0 for line in lines]
    return {"lines": lines,
            "grounding": {**stats, "mean_support": round(sum(supports) / len(supports), 4),
                          "estimated_s": round(estimate_seconds(lines, inp), 1),
                          "threshold": grounding.THRESHOLD}}


async def review(state: NarratedState) -> dict[str, Any]:
    """When asked: stop for the owner to read, edit and approve the script; the resume value is
    their `ScriptEdit` (None: approved as written), grounded again line by line. A request's
    own `script` (a recipe's recorded edits) is applied without stopping."""
    req = state["request"]
    if state.get("reviewed") or not (req.review or req.script):
        return {}
    edits = req.script if req.script else interrupt(
        {"lines": [ln.model_dump() for ln in state["lines"]]})
    if edits is None:
        return {"reviewed": True, "notes": ["script approved by the owner as written"]}
    edit = ScriptEdit.model_validate(edits)
    lines = await asyncio.to_thread(script_edits.apply_edits, state["lines"], edit,
                                    {p.chunk_id: p for p in state["passages"]},
                                    [h.name for h in state["plan"].hosts])
    changed = sum(1 for ln in lines if ln.meta.get("edited_by") == "owner")
    return {"lines": lines, "reviewed": True, "review_edit": edit,
            "notes": [f"script reviewed by the owner: {changed} line(s) edited, "
                      f"{len(lines)} narrated"]}


async def translate(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Lines not in the requested language, translated by the LLM (citations kept)."""
    spoken = state["request"].language or "en"
    written = state.get("written_language") or spoken
    langs = state.get("source_languages") or {}
    if written == spoken and all(not c or base(c) == spoken for c in langs.values()):
        return {}
    report(0.1, f"translating into {pack(spoken).name} with the LLM")
    lines, usage = await translator.translate(state["lines"], state["passages"], langs, written,
                                              spoken, run_context(runtime).settings)
    n = sum(1 for line in lines if "translated_from" in line.meta)
    return {"lines": lines, "notes": [f"{n} line(s) translated into {pack(spoken).name} by the "
                                      f"LLM in {usage.get('calls', 0)} call(s)"]}


def narrate_node(kind: NarratedKind) -> Callable[..., Awaitable[Command[Any]]]:
    async def narrate(state: NarratedState, runtime: Runtime[RunContext],
                      ) -> Command[Literal["refit", "assemble"]]:
        """Synthesise every line (cached per line); refit when the real length misses."""
        ctx = run_context(runtime)
        lines = state["lines"]

        def progress(done: int, total: int) -> None:
            report(done / total, f"synthesised {done}/{total} lines")

        audio = await narrator.narrate(lines, state["plan"].hosts, ctx.settings, progress)
        m = kind.measure(state, lines, audio)
        refits = len(state.get("measured") or [])
        missed = abs(m.error) > kind.tolerance
        again = missed and refits < kind.max_refits and not state.get("reviewed")
        update: dict[str, Any] = {"audio": audio, "measured": [m]}
        if missed and state.get("reviewed"):
            update["notes"] = [f"the approved script runs {m.total_s:.0f}s for the "
                               f"{m.requested_s:.0f}s asked: an approved script is narrated as "
                               "written, never refitted"]
        return Command(update=update, goto="refit" if again else "assemble")

    return narrate


async def refit(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Correct the voices' pace and the pauses with what was measured; then write again."""
    m = state["measured"][-1]
    plan = state["plan"]
    report(1.0, f"length {m.total_s:.0f}s vs {m.requested_s:.0f}s asked: re-planning")
    return {"plan": plan.model_copy(update={"pace": {**plan.pace, **m.pace},
                                            "pause_s": m.pause_s})}


def recipe_of(kind: NarratedKind, state: NarratedState) -> dict[str, Any]:
    """Everything needed to make the artifact again: code, parameters, sources, models."""
    try:
        code = version("librarian")
    except PackageNotFoundError:
        code = "source"
    draft, plan = state["draft"], state["plan"]
    params = state["request"].model_dump(include=set(kind.params.model_fields) - kind.unrecorded)
    edit = state.get("review_edit")
    params.update(review=False, script=edit.model_dump() if edit else None)
    out = {"graph": kind.name, "graph_version": kind.version, "code_version": code,
           **kind.recipe_extra(), "parameters": params, "sources": state["source_ids"],
           "source_hashes": state["source_hashes"],
           "languages": {"spoken": state["request"].language,
                         "written": state.get("written_language")},
           "models": {"embedder": EMBED_MODEL, "writer": draft.model or "extractive",
                      "voices": [h.voice_id for h in plan.hosts], **kind.models_extra()},
           "prompt_hashes": draft.prompt_hashes, "seed": 7, "pace": plan.pace}
    voice = {k: v for k, v in (state.get("brand") or {}).items() if v}
    if voice:  # the brand voice the writers followed
        out["brand"] = voice
    return out


def writer_of(draft: WriterOutput) -> dict[str, Any]:
    return {"writer": draft.writer, "model": draft.model, "prompt_hashes": draft.prompt_hashes}


def summary(state: NarratedState) -> dict[str, Any]:
    """What every narrated result reports beside the kind's own figures."""
    draft = state["draft"]
    return {"writer": draft.writer, "notes": draft.notes + list(state.get("notes") or []),
            "grounding": state["grounding"]}


# --- the graph ------------------------------------------------------------------------------

def build(kind: NarratedKind) -> StateGraph[Any, Any, Any, Any]:
    """The stages in order up to `narrate`; `narrate` goes back through `refit` to `write`
    while the measured length misses, else on to `assemble`."""
    g: StateGraph[Any, RunContext, Any, Any] = StateGraph(NarratedState, context_schema=RunContext,
                                    input_schema=input_schema(kind))
    g.add_node("resolve", resolve_node(kind), input_schema=input_schema(kind))
    nodes: list[tuple[str, Any]] = [("plan", kind.plan), ("research", research),
                                    ("write", kind.write), ("ground", ground),
                                    ("review", review), ("translate", translate),
                                    *kind.shows]
    for name, fn in nodes:
        g.add_node(name, fn)
    g.add_node("narrate", narrate_node(kind), destinations=("refit", "assemble"))
    g.add_node("refit", refit)
    g.add_node("assemble", kind.assemble)
    order = ["resolve", *[n for n, _ in nodes], "narrate"]
    g.add_edge(START, "resolve")
    for a, b in zip(order, order[1:], strict=False):
        g.add_edge(a, b)
    g.add_edge("refit", "write")
    g.add_edge("assemble", END)
    return g


_INPUTS: dict[str, type[BaseModel]] = {}


def input_schema(kind: NarratedKind) -> type[BaseModel]:
    """The graph's input: the fields of the kind's request, taken as given (`resolve` checks
    them with the request model and reports the first error as bad input)."""
    if kind.name not in _INPUTS:
        fields = REQUESTS[kind.name].model_fields
        _INPUTS[kind.name] = create_model(  # type: ignore[call-overload]
            f"{kind.name.capitalize()}Input", __config__=ConfigDict(extra="ignore"),
            **{k: (Any, None) for k in fields})
    return _INPUTS[kind.name]
