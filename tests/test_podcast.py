"""The podcast graph end to end, offline: 3 real papers in, a traced two-host MP3 out."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.assembler import probe_duration
from evals.metrics import median_f0, wer
from server import runner
from storage import artifacts, db, edges, library, vectors
from storage.objects import LocalObjects, objects
from storage.settings import Settings, load_settings
from tests.conftest import PAPERS
from tools import tts
from tools.chunking import split_sentences
from tools.transcribe import transcribe

PAPER_FILES = [PAPERS / "s2orc_lo2020_acl.pdf", PAPERS / "papermage_lo2023_emnlp_demo.pdf",
               PAPERS / "longeval_krishna2023_eacl.pdf"]
MINUTES = 3.0  # long enough that the spoken titles do not dominate the round-trip WER


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def make(settings: Settings, **params: Any) -> Any:
    job_id = await runner.submit(settings, "podcast", {
        "sources": [str(p) for p in PAPER_FILES], "minutes": MINUTES, **params})
    job = await runner.run_job(settings, job_id)
    await db.dispose()
    return job


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = load_settings(home=tmp_path_factory.mktemp("podcast-home"))
    yield settings
    vectors.close(settings)


@pytest.fixture(scope="module")
def episode(home: Settings) -> dict[str, Any]:
    job = run(make(home))
    assert job.status == "completed", job.error
    store = objects(home)
    assert isinstance(store, LocalObjects)
    script = json.loads(store.path(job.result["files"]["script_json"]).read_text())
    return {"job": job, "script": script, "mp3": store.path(job.result["files"]["audio"])}


def test_length_within_ten_percent(episode: dict[str, Any]) -> None:
    seconds = probe_duration(episode["mp3"])
    assert abs(seconds - MINUTES * 60) <= MINUTES * 60 * 0.10, seconds
    assert abs(seconds - episode["script"]["duration_s"]) < 0.5


def test_every_line_cites_chunks_of_the_papers(home: Settings, episode: dict[str, Any]) -> None:
    async def check() -> None:
        async with db.session(home) as s:
            segs = await artifacts.segments(s, episode["job"].result["artifact_id"])
            cited = {c for seg in segs for c in seg.meta["citations"]}
            chunks = await library.get_chunks(s, sorted(cited))
            sources = {c.source_id for c in chunks.values()}
            titles = {(await library.get_source(s, sid)).title for sid in sources}
            derived = await edges.edges_from(s, "segment", [seg.id for seg in segs],
                                             "DERIVED_FROM")
        assert segs and all(seg.meta["citations"] for seg in segs)
        assert cited == set(chunks)  # every citation resolves to a stored chunk
        assert len(sources) == 3, titles  # every paper is covered
        for seg in segs:
            if seg.kind == "content":  # its quote is made of exact sentences of its chunks
                texts = " ".join(" ".join(chunks[c].text.split()) for c in seg.meta["citations"])
                assert seg.meta["quote"] and all(
                    q in texts for q in split_sentences(seg.meta["quote"]))
        spans = [e for e in derived if e.props["quote"]]
        assert spans and all(" ".join(e.props["quote"].split()) in " ".join(
            chunks[e.dst_id].text.split()) for e in spans)
        await db.dispose()

    run(check())
    assert episode["job"].result["attributed_lines"] == episode["job"].result["lines"]


def test_two_hosts_sound_different(home: Settings, episode: dict[str, Any]) -> None:
    hosts = episode["script"]["hosts"]
    assert len(hosts) == 2 and hosts[0]["voice_id"] != hosts[1]["voice_id"]
    f0 = []
    for host in hosts:
        voice = next(v for v in tts.list_voices(home) if v.id == host["voice_id"])
        samples, rate = tts.synthesize("Here is what the paper says about its data.", voice, home)
        f0.append(median_f0(samples, rate))
    assert abs(f0[0] - f0[1]) / max(f0) > 0.15, f0


def test_round_trip_wer_and_timings(home: Settings, episode: dict[str, Any]) -> None:
    spoken = transcribe(episode["mp3"], settings=home)
    script_text = " ".join(line["text"] for line in episode["script"]["lines"])
    # Piper samples its noise afresh each run: the same script measured 0.07-0.113 on identical
    # runs (the 0.10 is tracked by the eval suite's roundtrip_wer); 0.13 catches drift
    assert wer(script_text, " ".join(s.text for s in spoken.segments)) <= 0.13
    lines = episode["script"]["lines"]
    ends = [(line["start_s"], line["end_s"]) for line in lines]
    assert all(a < b for a, b in ends) and all(ends[i][1] <= ends[i + 1][0]
                                               for i in range(len(ends) - 1))
    # every recognised speech segment falls inside some line's interval
    inside = sum(1 for seg in spoken.segments
                 if any(a - 1.0 <= (seg.start + seg.end) / 2 <= b + 1.0 for a, b in ends))
    assert inside >= 0.9 * len(spoken.segments)


def test_chapters_and_script_files(home: Settings, episode: dict[str, Any]) -> None:
    from mutagen.id3 import ID3

    tags = ID3(episode["mp3"])
    assert tags.getall("CHAP") and tags.getall("TIT2")
    store = objects(home)
    assert isinstance(store, LocalObjects)
    md = store.path(episode["job"].result["files"]["script_md"]).read_text()
    assert "## Sources" in md and "S2ORC" in md


def test_same_request_gives_identical_script(home: Settings, episode: dict[str, Any]) -> None:
    again = run(make(home))
    assert again.status == "completed", again.error
    store = objects(home)
    assert isinstance(store, LocalObjects)
    second = json.loads(store.path(again.result["files"]["script_json"]).read_text())
    first = episode["script"]
    assert [(x["speaker"], x["text"], x["citations"]) for x in first["lines"]] == \
        [(x["speaker"], x["text"], x["citations"]) for x in second["lines"]]


def test_resume_after_crash_in_narration(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         home: Settings) -> None:
    """A job killed mid-narration resumes: only lines not yet synthesised are synthesised."""
    settings = load_settings(home=tmp_path)
    # share the imported library? no: a fresh home keeps this test independent
    real = tts.synthesize
    first: list[str] = []
    second: list[str] = []
    calls = {"n": 0}

    def crashing(text: str, voice: Any, s: Settings, **kw: Any) -> Any:
        if "calibration" not in kw and text != tts.CALIBRATION_TEXT:
            calls["n"] += 1
            if calls["n"] > 5:
                raise RuntimeError("worker killed")
            first.append(text)
        return real(text, voice, s, **kw)

    monkeypatch.setattr(tts, "synthesize", crashing)
    job = run(make(settings, minutes=1.0))
    assert job.status == "failed" and "worker killed" in (job.error or "")
    assert job.stage == "narrate"

    def counting(text: str, voice: Any, s: Settings, **kw: Any) -> Any:
        if text != tts.CALIBRATION_TEXT:
            second.append(text)
        return real(text, voice, s, **kw)

    monkeypatch.setattr(tts, "synthesize", counting)

    async def resume() -> Any:
        await runner.prepare_retry(settings, job.id)
        done = await runner.run_job(settings, job.id)
        steps = [t["node"] for t in await runner.trace(settings, job.id)]
        await db.dispose()
        return done, steps

    done, steps = run(resume())
    assert done.status == "completed", done.error
    assert not set(first) & set(second)  # nothing synthesised twice
    assert steps.count("research") == 1 and steps.count("resolve") == 1  # not re-run
    vectors.close(settings)


def test_bad_source_fails_cleanly(tmp_path: Path) -> None:
    """A corrupt file among the sources: clear error, no artifact, no staged file left."""
    settings = load_settings(home=tmp_path / "home")
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n this is not really a pdf")

    async def go() -> tuple[Any, list[str], list[Any]]:
        job_id = await runner.submit(settings, "podcast", {"sources": [str(bad)], "minutes": 1})
        job = await runner.run_job(settings, job_id)
        left = await objects(settings).list("")
        async with db.session(settings) as s:
            arts = await artifacts.list_artifacts(s)
        await db.dispose()
        return job, left, arts

    job, left, arts = run(go())
    assert job.status == "failed" and "pdf" in (job.error or "").lower()
    assert job.attempts == 1  # bad input is not retried
    assert left == [] and arts == []
    vectors.close(settings)
