"""Podcast graph: resolve -> plan -> research -> write -> ground -> narrate -> assemble.

Sources may be library ids or files/URLs (imported first, idempotently). The offline default
writes an extractive, deterministic script; with an LLM configured (or writer="llm") the LLM
writer is used. Every line cites chunk ids; the grounding check scores, rewrites or drops lines.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import END, START, StateGraph

from agents import grounding, narrator, researcher, scriptwriter
from agents.assembler import assemble_podcast, pauses
from agents.context import job_id, report, settings_for
from agents.importer import is_url
from agents.requests import PodcastParams, PodcastRequest, estimate_cost, request_of
from agents.script import Brief, Host, Line, Passage, WriterInput, WriterOutput, estimate_seconds
from graphs import ingest
from graphs.registry import GraphSpec
from services.provenance import record_artifact
from storage import db, library
from storage.errors import BadInput, Forbidden, NotFound
from storage.objects import objects
from storage.settings import Settings
from tools.audio import INTRO_LEAD_S, OUTRO_S, read_wav
from tools.embed import MODEL_ID as EMBED_MODEL
from tools.provenance import check_commercial_use

GRAPH_VERSION = "podcast/1"
STAGES = ["resolve", "plan", "research", "write", "ground", "narrate", "assemble"]
MAX_REFITS = 2  # re-plans of the script after measuring the synthesised speech
LENGTH_TOLERANCE = 0.03


class PodcastState(TypedDict, total=False):
    # request
    sources: list[str]
    owner: str
    minutes: float
    hosts: int
    style: str
    voices: list[str] | None
    topic: str | None
    audience: str | None
    title: str | None
    writer: str | None  # "extractive" | "llm"; default: llm when configured
    wav: bool
    music: bool
    max_cost: float | None
    version_of: str | None
    commercial: bool  # refuse sources whose licence forbids commercial use or derivatives
    # produced
    source_ids: list[str]
    source_hashes: dict[str, str]
    hosts_plan: list[dict[str, Any]]
    pace: dict[str, float]
    estimate: dict[str, Any]
    passages: list[dict[str, Any]]
    draft: dict[str, Any]
    lines: list[dict[str, Any]]
    grounding: dict[str, Any]
    audio: list[dict[str, Any]]
    measured: dict[str, Any]
    refits: int
    result: dict[str, Any]


def request(state: PodcastState) -> PodcastRequest:
    """The validated request (defaults filled in) from the job's state."""
    return request_of("podcast", state)  # type: ignore[no-any-return]


def brief_of(state: PodcastState) -> Brief:
    return request(state).brief()


async def resolve(state: PodcastState, config: RunnableConfig) -> PodcastState:
    """Library ids stay; files and URLs are imported first (re-imports are detected)."""
    settings = settings_for(config)
    owner = state.get("owner", "local")
    brief_of(state)  # validate the request before any work
    wanted = state.get("sources") or []
    if not wanted:
        raise BadInput("give at least one source (library id, file or URL)")
    ids: list[str] = []
    sub = ingest.build_graph().compile()
    for i, item in enumerate(wanted):
        if is_url(item) or Path(item).expanduser().exists():
            report(i / len(wanted), f"importing {item}")
            thread = f"{job_id(config)}-import-{i}"
            cfg: RunnableConfig = {"configurable": {"thread_id": thread, "settings": settings}}
            try:
                out = await sub.ainvoke({"source": item, "owner": owner}, cfg)
            except BaseException:
                await objects(settings).delete_prefix(f"staging/{thread}/")  # leave nothing
                raise
            ids.append(out["result"]["source_id"])
        else:
            async with db.session(settings) as s:
                try:
                    await library.get_source(s, item, owner)
                except NotFound:
                    raise BadInput(f"{item} is neither a library source id nor a file") from None
            ids.append(item)
    ids = list(dict.fromkeys(ids))
    if request(state).commercial:
        await check_commercial_use(settings, ids, owner=owner)
    hashes = {}
    async with db.session(settings) as s:
        for sid in ids:
            hashes[sid] = (await library.get_source(s, sid, owner)).content_hash
    return {"source_ids": ids, "source_hashes": hashes}


def music_s(state: PodcastState) -> float:
    """Seconds of jingle the assembler adds around the speech."""
    return INTRO_LEAD_S + OUTRO_S if request(state).music else 0.0


def use_llm(state: PodcastState, settings: Settings) -> bool:
    writer = request(state).writer
    if writer == "llm" and not settings.llm_configured:
        raise BadInput("writer 'llm' needs LIBRARIAN_LLM_BASE_URL and LIBRARIAN_LLM_MODEL")
    return writer == "llm" or (writer is None and settings.llm_configured)


async def preflight(settings: Settings, state: PodcastState) -> dict[str, Any]:
    """Voices, pace and what the run will cost, before anything paid is called."""
    req = request(state)
    voices = narrator.choose_voices(req.hosts, req.voices, settings)
    hosts = scriptwriter.default_hosts(req.hosts, [v.id for v in voices], req.style)
    pace = await narrator.seconds_per_word(hosts, settings)
    target = req.minutes * 60 - (music_s(state))
    est = estimate_cost(voices, hosts, pace, target)
    del est["paid_voices"]
    if use_llm(state, settings):
        from tools.llm import check_reachable

        await check_reachable(settings)
        est["llm_tokens"] = int(est["chars"] / 4 * 3)
    return {"hosts": hosts, "pace": pace, "estimate": est, "target": target}


async def plan(state: PodcastState, config: RunnableConfig) -> PodcastState:
    """Choose voices, measure their pace, and refuse a run over budget."""
    settings = settings_for(config)
    pre = await preflight(settings, state)
    max_cost = request(state).max_cost
    if max_cost is not None and pre["estimate"]["tts_cost_usd"] > max_cost:
        raise Forbidden(f"estimated cost ${pre['estimate']['tts_cost_usd']:.2f} exceeds "
                        f"--max-cost ${max_cost:.2f}")
    return {"hosts_plan": [h.model_dump() for h in pre["hosts"]], "pace": pre["pace"],
            "estimate": {**pre["estimate"], "target_s": pre["target"]}}


async def research(state: PodcastState, config: RunnableConfig) -> PodcastState:
    settings = settings_for(config)
    brief = brief_of(state)
    avg_spw = sum(state["pace"].values()) / len(state["pace"])
    target_words = int(state["estimate"]["target_s"] / avg_spw)
    passages = await researcher.research(settings, state["source_ids"], brief, target_words,
                                         owner=state.get("owner"))
    return {"passages": [p.model_dump() for p in passages]}


def writer_input(state: PodcastState) -> WriterInput:
    return WriterInput(passages=[Passage(**p) for p in state["passages"]],
                       hosts=[Host(**h) for h in state["hosts_plan"]], brief=brief_of(state),
                       target_seconds=state["estimate"]["target_s"],
                       seconds_per_word=state["pace"],
                       pause_s=state["estimate"].get("pause_s", 0.45))


async def write(state: PodcastState, config: RunnableConfig) -> PodcastState:
    settings = settings_for(config)
    inp = writer_input(state)
    out: WriterOutput
    if use_llm(state, settings):
        from agents.llm_writer import write_with_llm

        report(0.1, "writing with the LLM (map over sections, then reduce)")
        out = await write_with_llm(inp, settings)
    else:
        out = await scriptwriter.write_extractive(inp)
    return {"draft": out.model_dump()}


async def ground(state: PodcastState, config: RunnableConfig) -> PodcastState:
    """Score every line against its cited chunks; rewrite or drop unsupported lines."""
    inp = writer_input(state)
    draft = WriterOutput(**state["draft"])
    passages = {p.chunk_id: p for p in inp.passages}
    lines, stats = grounding.ground(draft.lines, passages)
    if not lines:
        raise BadInput("no line of the script is supported by the sources")
    supports = [line.support or 0.0 for line in lines]
    stats_out: dict[str, Any] = {**stats, "mean_support": round(sum(supports) / len(supports), 4),
                                 "estimated_s": round(estimate_seconds(lines, inp), 1),
                                 "threshold": grounding.THRESHOLD}
    return {"lines": [line.model_dump() for line in lines], "grounding": stats_out}


async def narrate(state: PodcastState, config: RunnableConfig) -> PodcastState:
    settings = settings_for(config)
    lines = [Line(**d) for d in state["lines"]]
    hosts = [Host(**h) for h in state["hosts_plan"]]

    def progress(done: int, total: int) -> None:
        report(done / total, f"synthesised {done}/{total} lines")

    audio = await narrator.narrate(lines, hosts, settings, progress)
    return {"audio": audio, "measured": measure(state, lines, audio)}


def measure(state: PodcastState, lines: list[Line], audio: list[dict[str, Any]]) -> dict[str, Any]:
    """The episode's exact length from the synthesised lines, and each voice's real pace."""
    spoken: dict[str, float] = {}
    counted: dict[str, int] = {}
    speech = 0.0
    for line, item in zip(lines, audio, strict=True):
        samples, rate = read_wav(Path(item["path"]))
        seconds = len(samples) / rate
        speech += seconds
        spoken[line.speaker] = spoken.get(line.speaker, 0.0) + seconds
        counted[line.speaker] = counted.get(line.speaker, 0) + len(line.text.split())
    pause = sum(pauses(lines))
    total = speech + pause + music_s(state)
    requested = request(state).minutes * 60
    return {"total_s": round(total, 3), "requested_s": requested,
            "error": round((total - requested) / requested, 4),
            "pace": {k: spoken[k] / counted[k] for k in spoken if counted[k]},
            "pause_s": pause / max(1, len(lines))}


def after_narrate(state: PodcastState) -> str:
    """Re-plan the script once the real speech length is known, if it misses the target."""
    m = state["measured"]
    if abs(m["error"]) > LENGTH_TOLERANCE and state.get("refits", 0) < MAX_REFITS:
        return "refit"
    return "assemble"


async def refit(state: PodcastState, config: RunnableConfig) -> PodcastState:
    """Correct the voices' pace with what was measured; the script is then written again."""
    m = state["measured"]
    pace = {**state["pace"], **m["pace"]}
    report(1.0, f"length {m['total_s']:.0f}s vs {m['requested_s']:.0f}s asked: re-planning")
    return {"pace": pace, "refits": state.get("refits", 0) + 1,
            "estimate": {**state["estimate"], "pause_s": m["pause_s"]}}


def recipe_of(state: PodcastState, writer: dict[str, Any]) -> dict[str, Any]:
    try:
        code = version("librarian")
    except PackageNotFoundError:
        code = "source"
    params = request(state).model_dump(include=set(PodcastParams.model_fields) - {"max_cost"})
    return {"graph": "podcast", "graph_version": GRAPH_VERSION, "code_version": code,
            "parameters": params, "sources": state["source_ids"],
            "source_hashes": state["source_hashes"],
            "models": {"embedder": EMBED_MODEL, "writer": writer.get("model") or "extractive",
                       "voices": [h["voice_id"] for h in state["hosts_plan"]]},
            "prompt_hashes": writer.get("prompt_hashes", {}), "seed": 7,
            "pace": state["pace"]}


async def assemble(state: PodcastState, config: RunnableConfig) -> PodcastState:
    settings = settings_for(config)
    lines = [Line(**d) for d in state["lines"]]
    hosts = [Host(**h) for h in state["hosts_plan"]]
    passages = [Passage(**p) for p in state["passages"]]
    draft = state["draft"]
    writer = {"writer": draft.get("writer"), "model": draft.get("model"),
              "prompt_hashes": draft.get("prompt_hashes", {})}
    title = request(state).title or default_title(passages)
    report(0.2, "mixing, normalising loudness, encoding MP3")
    res, rec = await assemble_podcast(
        settings, job_id=job_id(config), owner=state.get("owner", "local"), title=title,
        hosts=hosts, lines=lines, audio=state["audio"], passages=passages,
        recipe=recipe_of(state, writer), wav=request(state).wav, music=request(state).music,
        version_of=state.get("version_of"), writer=writer,
        pause_stretch=pause_stretch(state, len(lines)))
    supports = [line.support or 0.0 for line in lines]
    await record_artifact(settings, rec)
    res.update(lines=len(lines), attributed_lines=sum(1 for line in lines if line.citations),
               mean_support=round(sum(supports) / len(supports), 4),
               requested_s=request(state).minutes * 60,
               writer=writer["writer"], notes=draft.get("notes", []),
               grounding=state["grounding"])
    return {"result": res}


def pause_stretch(state: PodcastState, n_lines: int) -> float:
    """Seconds added to (or taken from) each pause so the episode lands on the requested length."""
    m = state.get("measured")
    if not m or not n_lines:
        return 0.0
    gap = m["requested_s"] - m["total_s"]
    return max(-0.25, min(0.6, gap / n_lines))


def default_title(passages: list[Passage]) -> str:
    titles = list(dict.fromkeys(p.source_title for p in passages))
    if len(titles) == 1:
        return f"On \u201c{titles[0]}\u201d"
    short = titles[0].split(":")[0].strip()
    return f"{short} and {len(titles) - 1} more {'paper' if len(titles) == 2 else 'papers'}"


def narrated_graph(state_type: Any, nodes: list[tuple[str, Any]], refit_node: Any,
                   after: Any) -> StateGraph[Any]:
    """Nodes in order up to `narrate`; then back through `refit` to `write` while the measured
    length misses, else on to `assemble` (the shape of every narrated export)."""
    g: StateGraph[Any] = StateGraph(state_type)
    for name, fn in nodes:
        g.add_node(name, fn)
    g.add_node("refit", refit_node)
    names = [name for name, _ in nodes]
    g.add_edge(START, names[0])
    upto = names.index("narrate")
    for a, b in zip(names[:upto], names[1:upto + 1], strict=True):
        g.add_edge(a, b)
    g.add_conditional_edges("narrate", after, ["refit", "assemble"])
    g.add_edge("refit", "write")
    g.add_edge("assemble", END)
    return g


def build_graph() -> StateGraph[Any]:
    return narrated_graph(PodcastState, [(n, globals()[n]) for n in STAGES], refit,
                          after_narrate)


SPEC = GraphSpec("podcast", build_graph, STAGES, "a narrated podcast with traced lines",
                 PodcastParams)
graph = build_graph().compile()  # for LangGraph dev server / Studio
