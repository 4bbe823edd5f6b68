"""Podcast graph: the narrated export (graphs/narrated.py) with hosts in dialogue and an MP3.

What differs from other narrated exports: the voices are the hosts (their cost is estimated and
checked against `max_cost` before anything paid runs), the script is written by the extractive
writer or, when configured or asked, the LLM writer, and the episode is mixed with pauses and a
jingle into a tagged MP3 with chapters.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langgraph.runtime import Runtime

from agents import narrator, scriptwriter
from agents.assembler import assemble_podcast, pauses
from agents.context import RunContext, report, run_context
from agents.requests import PodcastParams, PodcastRequest, estimate_cost, request_of
from agents.script import Line, Passage, WriterOutput
from graphs import narrated
from graphs.narrated import Measured, NarratedState, Plan
from graphs.spec import GraphSpec
from services.provenance import record_artifact
from storage.errors import BadInput, Forbidden
from storage.settings import Settings
from tools import tts
from tools.audio import INTRO_LEAD_S, OUTRO_S, read_wav
from tools.lang import pack

LENGTH_TOLERANCE = 0.03


def request(data: Mapping[str, Any] | NarratedState) -> PodcastRequest:
    """The validated request: from the graph state, or from a job input / CLI options."""
    req = data.get("request")
    if isinstance(req, PodcastRequest):
        return req
    out: PodcastRequest = request_of("podcast", data)
    return out


def music_s(req: PodcastRequest) -> float:
    """Seconds of jingle the assembler adds around the speech."""
    return INTRO_LEAD_S + OUTRO_S if req.music else 0.0


def use_llm(req: PodcastRequest, settings: Settings) -> bool:
    if req.writer == "llm" and not settings.llm_configured:
        raise BadInput("writer 'llm' needs LIBRARIAN_LLM_BASE_URL and LIBRARIAN_LLM_MODEL")
    return req.writer == "llm" or (req.writer is None and settings.llm_configured)


async def preflight(settings: Settings, data: Mapping[str, Any] | PodcastRequest,
                    ) -> dict[str, Any]:
    """Voices, pace and what the run will cost, before anything paid is called."""
    req = data if isinstance(data, PodcastRequest) else request(data)
    voices = narrator.choose_voices(req.hosts, req.voices, settings, req.language)
    hosts = scriptwriter.default_hosts(req.hosts, [v.id for v in voices], req.style)
    pace = await narrator.seconds_per_word(hosts, settings)
    target = req.minutes * 60 - music_s(req)
    est = estimate_cost(voices, hosts, pace, target)
    del est["paid_voices"]
    if use_llm(req, settings):
        from tools.llm import check_reachable

        await check_reachable(settings)
        est["llm_tokens"] = int(est["chars"] / 4 * 3)
    return {"hosts": hosts, "pace": pace, "estimate": est, "target": target,
            "notes": tts.voice_notes(voices)}


async def plan(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    """Choose voices, measure their pace, and refuse a run over budget."""
    req = request(state)
    pre = await preflight(run_context(runtime).settings, req)
    if req.max_cost is not None and pre["estimate"]["tts_cost_usd"] > req.max_cost:
        raise Forbidden(f"estimated cost ${pre['estimate']['tts_cost_usd']:.2f} exceeds "
                        f"--max-cost ${req.max_cost:.2f}")
    return {"plan": Plan(hosts=pre["hosts"], pace=pre["pace"], target_s=pre["target"],
                         pause_s=0.45, estimate={**pre["estimate"], "target_s": pre["target"]}),
            "notes": pre["notes"]}


async def write(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    settings = run_context(runtime).settings
    inp = narrated.writer_input(state)
    out: WriterOutput
    if use_llm(request(state), settings):
        from agents.llm_writer import write_with_llm

        report(0.1, "writing with the LLM (map over sections, then reduce)")
        out = await write_with_llm(inp, settings)
    else:
        out = await scriptwriter.write_extractive(inp)
    return {"draft": out}


def measure(state: NarratedState, lines: list[Line], audio: list[dict[str, Any]]) -> Measured:
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
    req = request(state)
    total = speech + sum(pauses(lines)) + music_s(req)
    requested = req.minutes * 60
    return Measured(total_s=round(total, 3), requested_s=requested,
                    error=round((total - requested) / requested, 4),
                    pace={k: spoken[k] / counted[k] for k in spoken if counted[k]},
                    pause_s=sum(pauses(lines)) / max(1, len(lines)))


async def assemble(state: NarratedState, runtime: Runtime[RunContext]) -> dict[str, Any]:
    ctx = run_context(runtime)
    req = request(state)
    lines, passages, draft = state["lines"], state["passages"], state["draft"]
    report(0.2, "mixing, normalising loudness, encoding MP3")
    res, rec = await assemble_podcast(
        ctx.settings, job_id=ctx.job_id, owner=ctx.owner,
        title=req.title or default_title(passages, req.language), hosts=state["plan"].hosts,
        lines=lines,
        audio=state["audio"], passages=passages, recipe=narrated.recipe_of(KIND, state),
        wav=req.wav, music=req.music, version_of=req.version_of,
        writer=narrated.writer_of(draft), pause_stretch=pause_stretch(state, len(lines)))
    await record_artifact(ctx.settings, rec)
    supports = [line.support or 0.0 for line in lines]
    res.update(lines=len(lines), attributed_lines=sum(1 for line in lines if line.citations),
               mean_support=round(sum(supports) / len(supports), 4),
               requested_s=req.minutes * 60, **narrated.summary(state))
    return {"result": res}


def pause_stretch(state: NarratedState, n_lines: int) -> float:
    """Seconds added to (or taken from) each pause so the episode lands on the requested length."""
    measured = state.get("measured")
    if not measured or not n_lines:
        return 0.0
    m = measured[-1]
    return max(-0.25, min(0.6, (m.requested_s - m.total_s) / n_lines))


def default_title(passages: list[Passage], language: str | None = None) -> str:
    """"On “Title”", or "Title and 2 more papers" (in the language)."""
    lang = pack(language)
    titles = list(dict.fromkeys(p.source_title for p in passages))
    if len(titles) == 1:
        return lang.text("title.one", title=titles[0])
    short = titles[0].split(":")[0].strip()
    return lang.text("title.more_one" if len(titles) == 2 else "title.more", short=short,
                     n=len(titles) - 1)


KIND = narrated.NarratedKind(
    name="podcast", version="podcast/1", params=PodcastParams, plan=plan, write=write,
    assemble=assemble, measure=measure, max_refits=2, tolerance=LENGTH_TOLERANCE,
    unrecorded=frozenset({"max_cost"}))
STAGES = KIND.stages
GRAPH_VERSION = KIND.version


def build_graph() -> Any:
    return narrated.build(KIND)


SPEC = GraphSpec("podcast", build_graph, STAGES, "a narrated podcast with traced lines",
                 PodcastParams)
graph = build_graph().compile()  # for LangGraph dev server / Studio
