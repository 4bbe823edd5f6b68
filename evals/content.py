"""The `content` eval suite: write scripts for corpus papers (no audio) and score their quality.

Each case (evals/datasets/content.yaml) imports its sources, researches, writes and grounds a
script exactly as the podcast graph does (same agents), then scores key-point coverage, question
answer relevance, generic questions, fragments, labels, repetition, title mentions, framing
share, turn alternation and the estimated length error; with an LLM configured, an LLM judge
adds faithfulness and engagingness (evals/llm_judge.py, reported, not gated). Audio length is
scored by the podcast suite; this one is fast enough to run on every paper of the corpus.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agents import grounding, narrator, researcher, scriptwriter
from agents.script import Brief, Line, WriterInput, estimate_seconds
from evals import content_metrics as cm
from evals.judge import judge_many
from storage import db, library
from storage.settings import Settings
from tools.audio import INTRO_LEAD_S, OUTRO_S

DATASET = Path(__file__).resolve().parent / "datasets" / "content.yaml"
REPO = Path(__file__).resolve().parent.parent


async def import_sources(settings: Settings, paths: list[str]) -> list[str]:
    """Library ids of the files (imported once; re-imports return the same id)."""
    from langchain_core.runnables import RunnableConfig

    from graphs import ingest

    sub = ingest.build_graph().compile()
    ids = []
    for i, rel in enumerate(paths):
        cfg: RunnableConfig = {"configurable": {"thread_id": f"content-import-{i}-{rel}",
                                                "settings": settings}}
        out = await sub.ainvoke({"source": str((REPO / rel).resolve()), "owner": "local"}, cfg)
        ids.append(out["result"]["source_id"])
    return ids


async def abstracts(settings: Settings, ids: list[str]) -> tuple[str, list[str]]:
    """The sources' abstracts (stored, else the chunks under an Abstract heading, else the first
    chunk) and their titles."""
    texts, titles = [], []
    async with db.session(settings) as s:
        for sid in ids:
            src = await library.get_source(s, sid)
            titles.append(src.title)
            if src.abstract:
                texts.append(src.abstract)
                continue
            chunks = await library.source_chunks(s, sid)
            under = [c.text for c in chunks if any("abstract" in h.lower() for h in c.heading_path)]
            texts.append(" ".join(under) or (chunks[0].text if chunks else ""))
    return "\n".join(texts), titles


async def write_case(settings: Settings, spec: dict[str, Any]) -> tuple[list[Line], WriterInput]:
    """The grounded extractive script for one case, as the podcast graph would write it."""
    ids = await import_sources(settings, spec["sources"])
    brief = Brief(minutes=float(spec["minutes"]), hosts=int(spec.get("hosts", 2)),
                  style=spec.get("style", "conversational"), topic=spec.get("topic"),
                  **({"format": spec["format"]} if "format" in spec else {}))
    voices = narrator.choose_voices(brief.hosts, None, settings)
    hosts = scriptwriter.default_hosts(brief.hosts, [v.id for v in voices], brief.style)
    pace = await narrator.seconds_per_word(hosts, settings)
    target = brief.minutes * 60 - (INTRO_LEAD_S + OUTRO_S)
    avg = sum(pace.values()) / len(pace)
    passages = await researcher.research(settings, ids, brief, int(target / avg))
    inp = WriterInput(passages=passages, hosts=hosts, brief=brief, target_seconds=target,
                      seconds_per_word=pace)
    out = await scriptwriter.write_extractive(inp)
    lines, _ = grounding.ground(out.lines, {p.chunk_id: p for p in passages})
    return lines, inp


def score(lines: list[Line], inp: WriterInput, abstract: str, titles: list[str],
          threshold: float) -> dict[str, float | None]:
    """Every content metric of one script."""
    rows = [line.model_dump() for line in lines]
    claims, numbers = cm.abstract_claims(abstract)
    said = [line.text for line in lines if line.kind in {"content", "summary"}] or [""]
    covered = judge_many([(c, said) for c in claims]) if claims else []
    spoken = " ".join(line.text for line in lines)
    numbers_said = sum(1 for n in numbers if n in spoken)
    key_points = (sum(1 for s in covered if s >= threshold) + numbers_said) / max(
        1, len(claims) + len(numbers))
    mean_cos, answered = cm.qa_relevance(rows)
    total = estimate_seconds(lines, inp) + (INTRO_LEAD_S + OUTRO_S)
    requested = inp.brief.minutes * 60
    return {"key_point_coverage": key_points if claims or numbers else None,
            "qa_relevance": mean_cos, "answered_rate": answered,
            "generic_question_rate": cm.generic_question_rate(rows, scriptwriter.framing_words()),
            "fragment_rate": cm.fragment_rate(rows), "label_lines": cm.label_lines(rows),
            "repetition": cm.repetition(rows),
            "title_mentions_max": cm.title_mentions(rows, titles),
            "framing_share": cm.framing_share(rows), "turn_alternation": cm.turn_alternation(rows),
            "uncited_lines": sum(1 for line in lines if not line.citations),
            "est_length_error": abs(total - requested) / requested}


async def llm_judged(settings: Settings, lines: list[Line], inp: WriterInput
                     ) -> dict[str, Any]:
    """The LLM judge's grades when an LLM is configured (else none); a judge that fails is
    noted, the case stands on its deterministic metrics."""
    if not settings.llm_configured:
        return {"skipped": "no LLM configured (LIBRARIAN_LLM_BASE_URL, LIBRARIAN_LLM_MODEL)"}
    from evals.llm_judge import judge_script

    try:
        return await judge_script(settings, lines, inp.passages)
    except Exception as exc:  # a judge outage is reported, never a failed case
        return {"error": f"{type(exc).__name__}: {exc}"}


async def run_content(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Score every case of the content dataset (errors are cases, not crashes)."""
    import yaml

    from evals.run import case

    specs = yaml.safe_load(DATASET.read_text(encoding="utf-8"))["cases"]
    settings = ctx["settings"]
    out = []
    for spec in specs:
        if ctx.get("fast") and "fast" not in spec.get("suites", []):
            continue
        try:
            lines, inp = await write_case(settings, spec)
            ids = await import_sources(settings, spec["sources"])
            abstract, titles = await abstracts(settings, ids)
            values = score(lines, inp, abstract, titles, ctx["calibration"].threshold)
            judged = await llm_judged(settings, lines, inp)
            values.update({k: judged.pop(k) for k in ("llm_faithfulness", "llm_engagingness")
                           if k in judged})
            out.append(case("content", spec["id"], values, lines=len(lines),
                            script=[f"{line.speaker}: {line.text}" for line in lines],
                            held_out=bool(spec.get("held_out")), llm_judge=judged))
        except Exception as exc:  # one broken case is a failed gate, not a crashed suite
            out.append({"suite": "content", "case": spec["id"], "metrics": {}, "details": {},
                        "error": f"{type(exc).__name__}: {exc}"})
    return out
