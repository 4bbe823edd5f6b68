"""Video graph: resolve -> plan -> research -> write -> ground -> direct -> narrate -> assemble.

The podcast pipeline with one narrator (lecture style) and a director: every narration line
becomes a scene whose picture comes from its sources (figures cut from the PDFs, quote cards
with references, ...). Scene lengths follow the synthesised speech; when the measured length
misses the request, the script is refitted once with the voice's real pace.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, TypedDict

from langchain_core.runnables import RunnableConfig
from langgraph.graph import StateGraph

from agents import director, narrator, researcher, scriptwriter
from agents.context import job_id, report, settings_for
from agents.requests import VideoParams, VideoRequest, request_of
from agents.script import Brief, Host, Line, Passage, WriterInput, WriterOutput, estimate_seconds
from agents.scriptwriter import by_line, group_sources, short_authors, spoken_title
from agents.video_assembler import assemble_video
from graphs import podcast
from graphs.registry import GraphSpec
from services import assets
from services.provenance import record_artifact
from storage import db, library
from tools import video
from tools.audio import read_wav
from tools.embed import MODEL_ID as EMBED_MODEL

GRAPH_VERSION = "video/1"
STAGES = ["resolve", "plan", "research", "write", "ground", "direct", "narrate", "assemble"]
MAX_REFITS = 1
LENGTH_TOLERANCE = 0.05
OVERHEAD_S = director.FIRST_LEAD_S + director.END_HOLD_S  # beyond speech and per-line gaps
PAUSE_S = 0.75  # average lead + gap per line
OVERRUN_PER_LINE_S = 0.4  # narration overrun per line the timeline absorbs by shorter pauses


class VideoState(TypedDict, total=False):
    # request
    sources: list[str]
    owner: str
    seconds: float
    aspect: str  # "16:9" | "9:16"
    style: str  # "explainer" | "short"
    captions: str  # "burn" | "srt" | "none"
    voices: list[str] | None
    topic: str | None
    title: str | None
    music: bool
    watermark: str | None
    logo: str | None
    backend: str | None  # cloud clips: None (offline), "auto" or a backend name
    version_of: str | None
    commercial: bool
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
    scenes: list[dict[str, Any]]
    audio: list[dict[str, Any]]
    measured: dict[str, Any]
    refits: int
    result: dict[str, Any]


def request(state: VideoState) -> VideoRequest:
    """The validated request (defaults filled in) from the job's state."""
    return request_of("video", state)  # type: ignore[no-any-return]


def owner_of(state: VideoState) -> str:
    return state.get("owner", "local")


def brief_of(state: VideoState) -> Brief:
    return request(state).brief()


async def resolve(state: VideoState, config: RunnableConfig) -> VideoState:
    request(state)
    shim: dict[str, Any] = {**state, "style": "lecture", "minutes": 1.0, "hosts": 1}
    return await podcast.resolve(shim, config)  # type: ignore[arg-type, return-value]


async def plan(state: VideoState, config: RunnableConfig) -> VideoState:
    """The narrator's voice and measured pace; the speech the script should fill."""
    settings = settings_for(config)
    req = request(state)
    voice = narrator.choose_voices(1, req.voices, settings)[0]
    hosts = scriptwriter.default_hosts(1, [voice.id], "lecture")
    pace = await narrator.seconds_per_word(hosts, settings)
    target = req.seconds - OVERHEAD_S
    return {"hosts_plan": [h.model_dump() for h in hosts], "pace": pace,
            "estimate": {"target_s": target, "pause_s": PAUSE_S, "voice": voice.id}}


async def research(state: VideoState, config: RunnableConfig) -> VideoState:
    settings = settings_for(config)
    spw = next(iter(state["pace"].values()))
    passages = await researcher.research(settings, state["source_ids"], brief_of(state),
                                         int(state["estimate"]["target_s"] / spw),
                                         owner=state.get("owner"))
    return {"passages": [p.model_dump() for p in passages]}


def writer_input(state: VideoState, target: float | None = None) -> WriterInput:
    return WriterInput(passages=[Passage(**p) for p in state["passages"]],
                       hosts=[Host(**h) for h in state["hosts_plan"]], brief=brief_of(state),
                       target_seconds=target or state["estimate"]["target_s"],
                       seconds_per_word=state["pace"],
                       pause_s=state["estimate"].get("pause_s", PAUSE_S))


def for_video(lines: list[Line], passages: list[Passage], style: str) -> list[Line]:
    """The podcast script as narration: video framing for intro and outro (each title said
    once, for the sources the narration uses); shorts keep only the intro, the content and the
    outro."""
    cited = {c for line in lines if line.kind == "content" for c in line.citations}
    groups = group_sources(passages)
    firsts = [g[0] for g in groups if any(p.chunk_id in cited for p in g)] or \
        [g[0] for g in groups]
    said = [f"\u201c{spoken_title(p.source_title)}\u201d" for p in firsts]
    names = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    what = "one paper" if len(firsts) == 1 else f"{scriptwriter.NUMBERS[len(firsts)]} papers"
    who = list(dict.fromkeys(w for w in (short_authors(p.source_authors) for p in firsts) if w))
    credit = " and ".join(who) if who else "the sources"
    out = []
    for line in lines:
        if line.kind == "intro":
            text = (f"{what.capitalize()}: {names}." if style == "short" else
                    f"Today we're looking at {what}: " + "; ".join(by_line(p) for p in firsts)
                    + ".")
            line = line.model_copy(update={"text": text, "citations": [p.chunk_id
                                                                       for p in firsts]})
        elif line.kind == "outro":
            text = f"From {credit}." if style == "short" else (
                f"Everything you heard came from the work of {credit}.")
            line = line.model_copy(update={"text": text, "citations": [p.chunk_id
                                                                       for p in firsts]})
        elif style == "short" and line.kind in {"transition", "question"}:
            continue
        out.append(line)
    for i, line in enumerate(out):
        line.seq = i
    return out


def trim(lines: list[Line], inp: WriterInput) -> list[Line]:
    """Drop the last content lines while the script is longer than the target."""
    out = list(lines)
    while estimate_seconds(out, inp) > inp.target_seconds * (1 + LENGTH_TOLERANCE / 2) + \
            OVERRUN_PER_LINE_S * len(out):
        content = [i for i, line in enumerate(out) if line.kind == "content"]
        if len(content) <= 1:
            break
        out.pop(content[-1])
        if out[content[-1] - 1].kind in {"transition", "question"} and (
                content[-1] >= len(out) or out[content[-1]].kind != "content"):
            out.pop(content[-1] - 1)  # a hand-off with nothing left after it
    for i, line in enumerate(out):
        line.seq = i
    return out


async def write(state: VideoState, config: RunnableConfig) -> VideoState:
    """The extractive writer sized so that the video-framed script fits the target."""
    style = request(state).style
    passages = [Passage(**p) for p in state["passages"]]
    target = state["estimate"]["target_s"]
    goal = target
    best: tuple[float, list[Line], WriterOutput] | None = None
    for _ in range(4):
        out = await scriptwriter.write_extractive(writer_input(state, goal))
        lines = for_video(out.lines, passages, style)
        got = estimate_seconds(lines, writer_input(state))
        # an overrun costs half: the timeline shortens the pauses to absorb it
        err = (got - target) / 2 if got > target else target - got
        if best is None or err < best[0]:
            best = (err, lines, out)
        if abs(got - target) <= target * 0.03:
            break
        goal = max(5.0, goal + (target - got))
    assert best is not None
    _, lines, out = best
    lines = trim(lines, writer_input(state))
    return {"draft": {**out.model_dump(), "lines": [line.model_dump() for line in lines]}}


async def ground(state: VideoState, config: RunnableConfig) -> VideoState:
    shim: dict[str, Any] = {**state, "style": "lecture", "minutes": 1.0, "hosts": 1}
    return await podcast.ground(shim, config)  # type: ignore[arg-type, return-value]


def title_of(state: VideoState, passages: list[Passage]) -> str:
    return request(state).title or podcast.default_title(passages).replace("\u201c", "").replace(
        "\u201d", "").removeprefix("On ")


async def direct(state: VideoState, config: RunnableConfig) -> VideoState:
    """Plan every scene's picture from what the sources hold (figures first)."""
    settings = settings_for(config)
    req = request(state)
    figures: list[director.FigureInfo] = []
    async with db.session(settings) as s:
        for sid in state["source_ids"]:
            for f in await library.source_figures(s, sid):
                if f.object_key:
                    figures.append(director.FigureInfo(
                        id=f.id, source_id=f.source_id, kind=f.kind, label=f.label,
                        caption=f.caption, page=f.page, object_key=f.object_key))
    passages = [Passage(**p) for p in state["passages"]]
    lines = [Line(**d) for d in state["lines"]]
    scenes = director.plan(lines, passages, figures, title=title_of(state, passages),
                           style=req.style, portrait=req.aspect == "9:16",
                           backend=req.backend)
    for sc in scenes:
        if sc.generate:
            sc.generate["aspect"] = req.aspect
            if sc.generate["backend"] == "auto":
                sc.generate["backend"] = None
    kinds = [sc.kind for sc in scenes]
    report(1.0, "scenes: " + ", ".join(f"{k} x{kinds.count(k)}" for k in dict.fromkeys(kinds)))
    return {"scenes": [sc.model_dump() for sc in scenes]}


async def narrate(state: VideoState, config: RunnableConfig) -> VideoState:
    settings = settings_for(config)
    lines = [Line(**d) for d in state["lines"]]
    hosts = [Host(**h) for h in state["hosts_plan"]]

    def progress(done: int, total: int) -> None:
        report(done / total, f"synthesised {done}/{total} lines")

    audio = await narrator.narrate(lines, hosts, settings, progress)
    return {"audio": audio, "measured": measure(state, lines, audio)}


def measure(state: VideoState, lines: list[Line], audio: list[dict[str, Any]]) -> dict[str, Any]:
    """The video's exact length from the synthesised lines, and the voice's real pace."""
    speech = []
    for item in audio:
        samples, rate = read_wav(Path(item["path"]))
        speech.append(len(samples) / rate)
    requested = request(state).seconds
    times = director.timeline(speech, lines, requested)
    total = sum(t["frames"] for t in times) / video.FPS
    n_words = sum(len(line.text.split()) for line in lines)
    speaker = lines[0].speaker
    return {"total_s": round(total, 3), "requested_s": requested,
            "error": round((total - requested) / requested, 4),
            "pace": {speaker: sum(speech) / max(1, n_words)},
            "pause_s": (total - sum(speech) - OVERHEAD_S) / max(1, len(lines))}


def after_narrate(state: VideoState) -> str:
    m = state["measured"]
    if abs(m["error"]) > LENGTH_TOLERANCE and state.get("refits", 0) < MAX_REFITS:
        return "refit"
    return "assemble"


async def refit(state: VideoState, config: RunnableConfig) -> VideoState:
    return await podcast.refit(state, config)  # type: ignore[arg-type, return-value]


def recipe_of(state: VideoState, writer: dict[str, Any]) -> dict[str, Any]:
    try:
        code = version("librarian")
    except PackageNotFoundError:
        code = "source"
    params = request(state).model_dump(include=set(VideoParams.model_fields))
    return {"graph": "video", "graph_version": GRAPH_VERSION, "code_version": code,
            "render_version": video.RENDER_VERSION, "parameters": params,
            "sources": state["source_ids"], "source_hashes": state["source_hashes"],
            "models": {"embedder": EMBED_MODEL, "writer": writer.get("model") or "extractive",
                       "voices": [h["voice_id"] for h in state["hosts_plan"]],
                       "h264": video.h264_encoder()},
            "prompt_hashes": writer.get("prompt_hashes", {}), "seed": 7, "pace": state["pace"],
            "fps": video.FPS}


async def assemble(state: VideoState, config: RunnableConfig) -> VideoState:
    settings = settings_for(config)
    req = request(state)
    lines = [Line(**d) for d in state["lines"]]
    scenes = [director.Scene(**d) for d in state["scenes"]]
    passages = [Passage(**p) for p in state["passages"]]
    host = Host(**state["hosts_plan"][0])
    draft = state["draft"]
    writer = {"writer": draft.get("writer"), "model": draft.get("model"),
              "prompt_hashes": draft.get("prompt_hashes", {})}
    w, h = video.SIZES[req.aspect]
    logo = await assets.image_file(settings, owner_of(state), req.logo) if req.logo else None
    style = video.Style(w, h, captions=req.captions, watermark=req.watermark,
                        logo=str(logo) if logo else None)

    def progress(done: int, total: int) -> None:
        report(done / total, f"rendered {done}/{total} scenes")

    res, rec = await assemble_video(
        settings, job_id=job_id(config), owner=state.get("owner", "local"),
        title=title_of(state, passages), host=host, lines=lines, scenes=scenes,
        audio=state["audio"], passages=passages, style=style, music=req.music,
        target_s=req.seconds, recipe=recipe_of(state, writer),
        version_of=state.get("version_of"), writer=writer, on_progress=progress)
    await record_artifact(settings, rec)
    res.update(attributed_scenes=sum(1 for sc in scenes if sc.citations),
               figure_scenes=sum(1 for sc in scenes if sc.kind == "figure"),
               requested_s=req.seconds, writer=writer["writer"],
               notes=draft.get("notes", []) + res.get("notes", []),
               grounding=state["grounding"])
    return {"result": res}


def build_graph() -> StateGraph[Any]:
    return podcast.narrated_graph(VideoState, [(n, globals()[n]) for n in STAGES], refit,
                                  after_narrate)


SPEC = GraphSpec("video", build_graph, STAGES, "a narrated video with traced scenes",
                 VideoParams)
graph = build_graph().compile()  # for LangGraph dev server / Studio
