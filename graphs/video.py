"""Video graph: the narrated export (graphs/narrated.py) with one narrator and a director.

What differs from other narrated exports: one lecture voice, the script framed for video and
sized to the target, a `direct` stage that turns every narration line into a scene whose picture
comes from its sources (figures cut from the PDFs, quote cards with references, ...), a length
measured on the scene timeline, and an MP4 with captions and a thumbnail.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agents import director, narrator, scriptwriter
from agents.brand import rgb
from agents.context import RunContext, report, run_context
from agents.requests import VideoParams, VideoRequest, request_of
from agents.script import Line, Passage, WriterInput, WriterOutput, estimate_seconds
from agents.scriptwriter import by_line, group_sources, short_authors, spoken_title
from agents.video_assembler import assemble_video
from graphs import narrated
from graphs.narrated import Measured, NarratedState, Plan
from graphs.podcast import default_title
from graphs.spec import GraphSpec
from services import assets, brand
from services.provenance import record_artifact
from storage import db, library
from tools import tts, video
from tools.audio import read_wav
from tools.lang import pack

LENGTH_TOLERANCE = 0.05
OVERHEAD_S = director.FIRST_LEAD_S + director.END_HOLD_S  # beyond speech and per-line gaps
PAUSE_S = 0.75  # average lead + gap per line
OVERRUN_PER_LINE_S = 0.4  # narration overrun per line the timeline absorbs by shorter pauses


def request(data: Mapping[str, Any] | NarratedState) -> VideoRequest:
    """The validated request: from the graph state, or from a job input / CLI options."""
    req = data.get("request")
    if isinstance(req, VideoRequest):
        return req
    out: VideoRequest = request_of("video", data)
    return out


async def plan(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """The narrator's voice and measured pace; the speech the script should fill."""
    settings = run_context(runtime).settings
    req = request(state)
    voice = narrator.choose_voices(1, req.voices, settings, req.language)[0]
    hosts = scriptwriter.default_hosts(1, [voice.id], "lecture")
    pace = await narrator.seconds_per_word(hosts, settings)
    target = req.seconds - OVERHEAD_S
    return {"plan": Plan(hosts=hosts, pace=pace, target_s=target, pause_s=PAUSE_S,
                         estimate={"target_s": target, "pause_s": PAUSE_S, "voice": voice.id}),
            "notes": tts.voice_notes([voice])}


def for_video(lines: list[Line], passages: list[Passage], style: str,
              language: str | None = None) -> list[Line]:
    """The podcast script as narration: video framing for intro and outro (each title said
    once, for the sources the narration uses, in the script's language); shorts keep only the
    intro, the content and the outro."""
    lang = pack(language)
    cited = {c for line in lines if line.kind == "content" for c in line.citations}
    groups = group_sources(passages)
    firsts = [g[0] for g in groups if any(p.chunk_id in cited for p in g)] or \
        [g[0] for g in groups]
    names = lang.join([f"\u201c{spoken_title(p.source_title, lang)}\u201d" for p in firsts])
    what = lang.text("video.one_paper") if len(firsts) == 1 else \
        lang.text("papers", n=lang.number(len(firsts)))
    who = list(dict.fromkeys(w for w in (short_authors(p.source_authors, lang)
                                         for p in firsts) if w))
    credit = lang.join(who) if who else lang.text("video.sources")
    out = []
    for line in lines:
        if line.kind == "intro":
            text = (lang.text("video.short_intro", what=what[:1].upper() + what[1:], names=names)
                    if style == "short" else lang.text(
                        "video.intro", what=what,
                        list="; ".join(by_line(p, lang=lang) for p in firsts)))
            line = line.model_copy(update={"text": text, "citations": [p.chunk_id
                                                                       for p in firsts]})
        elif line.kind == "outro":
            text = lang.text("video.short_outro" if style == "short" else "video.outro",
                             credit=credit)
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


async def write(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """The extractive writer sized so that the video-framed script fits the target."""
    style = request(state).style
    passages = state["passages"]
    target = state["plan"].target_s
    goal = target
    best: tuple[float, list[Line], WriterOutput] | None = None
    for _ in range(4):
        out = await scriptwriter.write_extractive(narrated.writer_input(state, goal))
        lines = for_video(out.lines, passages, style, state.get("written_language"))
        got = estimate_seconds(lines, narrated.writer_input(state))
        # an overrun costs half: the timeline shortens the pauses to absorb it
        err = (got - target) / 2 if got > target else target - got
        if best is None or err < best[0]:
            best = (err, lines, out)
        if abs(got - target) <= target * 0.03:
            break
        goal = max(5.0, goal + (target - got))
    assert best is not None
    _, lines, out = best
    return {"draft": out.model_copy(update={
        "lines": trim(lines, narrated.writer_input(state))})}


def title_of(req: VideoRequest, passages: list[Passage]) -> str:
    """The title card's title: the one asked for, else the sources' (no "On" and quotes)."""
    if req.title:
        return req.title
    if len({p.source_id for p in passages}) == 1:
        return passages[0].source_title
    return default_title(passages, req.language)


async def direct(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Plan every scene's picture from what the sources hold (figures first)."""
    settings = run_context(runtime).settings
    req = request(state)
    figures: list[director.FigureInfo] = []
    async with db.session(settings) as s:
        for sid in state["source_ids"]:
            for f in await library.source_figures(s, sid):
                if f.object_key:
                    figures.append(director.FigureInfo(
                        id=f.id, source_id=f.source_id, kind=f.kind, label=f.label,
                        caption=f.caption, page=f.page, object_key=f.object_key))
    passages = state["passages"]
    scenes = director.plan(state["lines"], passages, figures, title=title_of(req, passages),
                           style=req.style, portrait=req.aspect == "9:16",
                           backend=req.backend, language=req.language)
    for sc in scenes:
        if sc.generate:
            sc.generate["aspect"] = req.aspect
            if sc.generate["backend"] == "auto":
                sc.generate["backend"] = None
    kinds = [sc.kind for sc in scenes]
    report(1.0, "scenes: " + ", ".join(f"{k} x{kinds.count(k)}" for k in dict.fromkeys(kinds)))
    return {"scenes": scenes}


def measure(state: NarratedState, lines: list[Line], audio: list[dict[str, Any]]) -> Measured:
    """The video's exact length from the synthesised lines, and the voice's real pace."""
    speech = []
    for item in audio:
        samples, rate = read_wav(Path(item["path"]))
        speech.append(len(samples) / rate)
    requested = request(state).seconds
    times = director.timeline(speech, lines, requested)
    total = sum(t["frames"] for t in times) / video.FPS
    n_words = sum(len(line.text.split()) for line in lines)
    return Measured(total_s=round(total, 3), requested_s=requested,
                    error=round((total - requested) / requested, 4),
                    pace={lines[0].speaker: sum(speech) / max(1, n_words)},
                    pause_s=(total - sum(speech) - OVERHEAD_S) / max(1, len(lines)))


async def assemble(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = run_context(runtime)
    req = request(state)
    scenes, passages = state["scenes"], state["passages"]
    w, h = video.SIZES[req.aspect]
    profile = await brand.get(ctx.settings, ctx.owner)
    logo_id = req.logo or profile.logo  # the brand's logo when the request names none
    logo = await assets.image_file(ctx.settings, ctx.owner, logo_id) if logo_id else None
    accent = rgb(profile.accent_color) if profile.accent_color else video.ACCENT
    style = video.Style(w, h, captions=req.captions, watermark=req.watermark,
                        logo=str(logo) if logo else None, accent=accent)
    recipe = narrated.recipe_of(KIND, state)
    if profile.logo or profile.accent_color:
        recipe["brand"] = {**recipe.get("brand", {}), "logo": logo_id,
                           "accent_color": profile.accent_color}

    def progress(done: int, total: int) -> None:
        report(done / total, f"rendered {done}/{total} scenes")

    res, rec = await assemble_video(
        ctx.settings, job_id=ctx.job_id, owner=ctx.owner, title=title_of(req, passages),
        host=state["plan"].hosts[0], lines=state["lines"], scenes=scenes, audio=state["audio"],
        passages=passages, style=style, music=req.music, target_s=req.seconds,
        recipe=recipe, version_of=req.version_of,
        writer=narrated.writer_of(state["draft"]), on_progress=progress, language=req.language)
    await record_artifact(ctx.settings, rec)
    summary = narrated.summary(state)
    res.update(attributed_scenes=sum(1 for sc in scenes if sc.citations),
               figure_scenes=sum(1 for sc in scenes if sc.kind == "figure"),
               requested_s=req.seconds, **{**summary, "notes": summary["notes"] + res["notes"]})
    return {"result": res}


KIND = narrated.NarratedKind(
    name="video", version="video/1", params=VideoParams, plan=plan, write=write,
    assemble=assemble, measure=measure, shows=[("direct", direct)], max_refits=1,
    tolerance=LENGTH_TOLERANCE,
    recipe_extra=lambda: {"render_version": video.RENDER_VERSION, "fps": video.FPS},
    models_extra=lambda: {"h264": video.h264_encoder()})
STAGES = KIND.stages
GRAPH_VERSION = KIND.version


def build_graph() -> Any:
    return narrated.build(KIND)


SPEC = GraphSpec("video", build_graph, STAGES, "a narrated video with traced scenes",
                 VideoParams)
graph = build_graph().compile()  # for LangGraph dev server / Studio
