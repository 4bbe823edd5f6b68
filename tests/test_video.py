"""The video graph end to end, offline: 2 real papers in, a 1080p explainer and a 9:16 short out.

Also: captions aligned to the narration, real figures on screen, every scene attributed, no
blank frames, resume after a crash while rendering, and the cloud backends at the HTTP boundary.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from pydantic import SecretStr

from server import runner
from storage import artifacts, db, library, vectors
from storage.objects import LocalObjects, objects
from storage.settings import Settings, load_settings
from tests.conftest import PAPERS
from tools import video, video_backends

PAPER_FILES = [PAPERS / "s2orc_lo2020_acl.pdf", PAPERS / "papermage_lo2023_emnlp_demo.pdf"]
WIDE_S = 30.0
SHORT_S = 15.0


def run(coro: Any) -> Any:
    return asyncio.run(coro)


async def make(settings: Settings, sources: list[str], **params: Any) -> Any:
    job_id = await runner.submit(settings, "video", {"sources": sources, **params})
    job = await runner.run_job(settings, job_id)
    await db.dispose()
    return job


def load(settings: Settings, job: Any) -> dict[str, Any]:
    store = objects(settings)
    assert isinstance(store, LocalObjects)
    files = job.result["files"]
    return {"job": job, "mp4": store.path(files["video"]),
            "script": json.loads(store.path(files["script_json"]).read_text()),
            "srt": store.path(files["captions_srt"]).read_text(encoding="utf-8"),
            "thumb": store.path(files["thumbnail"])}


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = load_settings(home=tmp_path_factory.mktemp("video-home"))
    yield settings
    vectors.close(settings)


@pytest.fixture(scope="module")
def wide(home: Settings) -> dict[str, Any]:
    job = run(make(home, [str(p) for p in PAPER_FILES], seconds=WIDE_S, aspect="16:9",
                   style="explainer", watermark="Librarian"))
    assert job.status == "completed", job.error
    return load(home, job)


@pytest.fixture(scope="module")
def source_ids(home: Settings, wide: dict[str, Any]) -> list[str]:
    async def ids() -> list[str]:
        async with db.session(home) as s:
            rows = await library.list_sources(s)
        await db.dispose()
        return [r.id for r in rows]

    return list(run(ids()))


@pytest.fixture(scope="module")
def short(home: Settings, source_ids: list[str]) -> dict[str, Any]:
    job = run(make(home, source_ids, seconds=SHORT_S, style="short"))
    assert job.status == "completed", job.error
    return load(home, job)


@pytest.mark.parametrize(("which", "size", "seconds"), [("wide", (1920, 1080), WIDE_S),
                                                       ("short", (1080, 1920), SHORT_S)])
def test_streams_size_length_and_disclosure(which: str, size: tuple[int, int], seconds: float,
                                            request: pytest.FixtureRequest) -> None:
    made = request.getfixturevalue(which)
    info = video.probe(made["mp4"])
    assert (info.video_codec, info.audio_codec) == ("h264", "aac")
    assert (info.width, info.height) == size
    assert abs(info.duration_s - seconds) <= seconds * 0.10, info.duration_s
    assert "AI-generated" in info.comment
    head = made["mp4"].read_bytes()[:1 << 20]
    assert 0 <= head.find(b"moov") < max(head.find(b"mdat"), 0) or b"mdat" not in head
    end = made["script"]["scenes"][-1]
    assert end["kind"] == "end"
    assert made["thumb"].stat().st_size > 10_000


@pytest.mark.parametrize("which", ["wide", "short"])
def test_captions_follow_the_narration(which: str, request: pytest.FixtureRequest) -> None:
    made = request.getfixturevalue(which)
    cues = video.parse_srt(made["srt"])
    scenes = made["script"]["scenes"]
    assert cues
    for sc in scenes:
        a, b = sc["speech_start_s"], sc["speech_end_s"]
        mine = [c for c in cues if a - 0.01 <= c[0] and c[1] <= b + 0.01]
        assert mine, sc
        assert abs(mine[0][0] - a) < 0.01 and abs(mine[-1][1] - b) < 0.01
        assert " ".join(c[2] for c in mine).split() == sc["text"].split()
    assert len(cues) == sum(len([c for c in cues if sc["speech_start_s"] - 0.01 <= c[0]
                                 and c[1] <= sc["speech_end_s"] + 0.01]) for sc in scenes)


def test_scenes_attributed_and_a_real_figure_shown(home: Settings, wide: dict[str, Any],
                                                   short: dict[str, Any]) -> None:
    for made in (wide, short):
        r = made["job"].result
        assert r["attributed_scenes"] == r["scenes"] and r["figure_scenes"] >= 1

        async def check(aid: str) -> None:
            async with db.session(home) as s:
                segs = await artifacts.segments(s, aid)
                cited = {c for seg in segs for c in seg.meta["citations"]}
                chunks = await library.get_chunks(s, sorted(cited))
                figs = [seg.meta["figure"] for seg in segs if seg.meta["visual"] == "figure"]
                assert segs and all(seg.meta["citations"] for seg in segs)
                assert cited == set(chunks)
                assert figs and all(f["page"] and f["object_key"].startswith("sources/")
                                    for f in figs)
                stored = {f.id for sid in {c.source_id for c in chunks.values()}
                          for f in await library.source_figures(s, sid)}
                assert {f["id"] for f in figs} <= stored
            await db.dispose()

        run(check(r["artifact_id"]))
    recipe = wide["job"].result
    assert recipe["width"] == 1920


@pytest.mark.parametrize("which", ["wide", "short"])
def test_sampled_frames_are_not_blank(which: str, request: pytest.FixtureRequest,
                                      tmp_path: Path) -> None:
    from PIL import Image

    made = request.getfixturevalue(which)
    for sc in made["script"]["scenes"]:
        t = (sc["start_s"] + sc["end_s"]) / 2
        png = video.frame_at(made["mp4"], t, tmp_path / f"{which}-{sc['seq']}.png")
        px = np.asarray(Image.open(png).convert("L"), dtype=np.float32)
        assert px.std() > 12, (sc["kind"], t, px.std())  # not a flat (blank) frame
        assert px.mean() > 12, (sc["kind"], t, px.mean())  # not black


def test_resume_after_crash_in_rendering(home: Settings, source_ids: list[str],
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A job killed while rendering resumes: scenes already encoded are not encoded again."""
    real = video.render_scene
    first: list[int] = []
    second: list[int] = []

    def crashing(scene: video.SceneSpec, *a: Any, **kw: Any) -> Path:
        if len(first) == 2:
            raise RuntimeError("worker killed")
        out = real(scene, *a, **kw)
        first.append(scene.seq)
        return out

    monkeypatch.setattr(video, "render_scene", crashing)
    job = run(make(home, source_ids, seconds=SHORT_S, style="short", watermark="resume test"))
    assert job.status == "failed" and "worker killed" in (job.error or "")
    assert job.stage == "assemble"

    def counting(scene: video.SceneSpec, *a: Any, **kw: Any) -> Path:
        second.append(scene.seq)
        return real(scene, *a, **kw)

    monkeypatch.setattr(video, "render_scene", counting)

    async def resume() -> Any:
        await runner.prepare_retry(home, job.id)
        done = await runner.run_job(home, job.id)
        steps = [t["node"] for t in await runner.trace(home, job.id)]
        await db.dispose()
        return done, steps

    done, steps = run(resume())
    assert done.status == "completed", done.error
    assert first == [0, 1] and not set(first) & set(second)
    assert sorted(first + second) == list(range(done.result["scenes"]))
    assert steps.count("resolve") == 1 and steps.count("research") == 1  # not re-run


def test_bad_requests_are_refused() -> None:
    from graphs.video import request
    from storage.errors import BadInput

    for bad in ({"aspect": "4:3"}, {"style": "vlog"}, {"captions": "maybe"}, {"seconds": 3},
                {"backend": "sora"}):
        with pytest.raises(BadInput):
            request({**bad, "sources": ["x"]})  # type: ignore[typeddict-item]
    assert request({"style": "short", "sources": ["x"]}).aspect == "9:16"


# --- cloud backends at the HTTP boundary -------------------------------------------------------

def keyed(tmp_path: Path, **keys: str) -> Settings:
    return load_settings(home=tmp_path, **{k: SecretStr(v) for k, v in keys.items()})


def test_routing_rule() -> None:
    req = video_backends.ClipRequest
    assert video_backends.route(req("x", 10, avatar=True)) == "synthesia"
    assert video_backends.route(req("x", 150)) == "veo"
    assert video_backends.route(req("x", 10, cinematic=True)) == "kling"
    assert video_backends.route(req("x", 60, budget="low")) == "runway"
    assert video_backends.route(req("x", 60)) == "kling"


@pytest.mark.parametrize("name", ["kling", "veo", "runway", "synthesia"])
def test_backend_submits_polls_and_downloads(name: str, tmp_path: Path) -> None:
    polls = {"n": 0}
    seen: list[tuple[str, str]] = []
    clip = b"\x00\x00\x00\x18ftypmp42" + b"x" * 100

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.path))
        if request.url.host == "cdn.example":
            return httpx.Response(200, content=clip)
        if request.method == "POST":
            body = json.loads(request.content)
            assert body
            return httpx.Response(200, json={
                "kling": {"code": 0, "data": {"task_id": "t1"}},
                "veo": {"name": "operations/op1"}, "runway": {"id": "t1"},
                "synthesia": {"id": "t1", "status": "in_progress"}}[name])
        polls["n"] += 1
        done = polls["n"] >= 2
        url = "https://cdn.example/clip.mp4"
        return httpx.Response(200, json={
            "kling": {"code": 0, "data": {"task_status": "succeed" if done else "processing",
                                          "task_result": {"videos": [{"url": url}]}}},
            "veo": {"done": True, "response": {"generateVideoResponse": {
                "generatedSamples": [{"video": {"uri": url}}]}}} if done else {"done": False},
            "runway": {"status": "SUCCEEDED" if done else "RUNNING", "output": [url]},
            "synthesia": {"status": "complete" if done else "in_progress", "download": url},
        }[name])

    settings = keyed(tmp_path, **{f"{name}_api_key": "k-test"})
    req = video_backends.ClipRequest("a calm abstract background", 6.0)
    got = run(video_backends.generate(settings, req, prefer=name, cache=tmp_path / "clips",
                                      transport=httpx.MockTransport(handler), poll_s=0))
    assert got.path is not None and got.path.read_bytes() == clip and got.backend == name
    assert polls["n"] == 2 and seen[0][0] == "POST" and seen[-1] == ("GET", "/clip.mp4")
    again = run(video_backends.generate(settings, req, prefer=name, cache=tmp_path / "clips",
                                        transport=httpx.MockTransport(handler), poll_s=0))
    assert again.path == got.path and len(seen) == 4  # from the cache: no new request


def test_backend_failure_and_missing_key_fall_back(tmp_path: Path) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"code": 0, "data": {"task_id": "t9"}})
        return httpx.Response(200, json={"code": 0, "data": {"task_status": "failed",
                                                             "task_status_msg": "quota"}})

    req = video_backends.ClipRequest("x", 6.0)
    got = run(video_backends.generate(keyed(tmp_path, kling_api_key="k"), req, cache=tmp_path,
                                      transport=httpx.MockTransport(failing), poll_s=0))
    assert got.path is None and "quota" in got.note and "locally" in got.note
    refused = run(video_backends.generate(
        keyed(tmp_path, runway_api_key="k"), req, prefer="runway", cache=tmp_path,
        transport=httpx.MockTransport(lambda r: httpx.Response(401, text="bad key")), poll_s=0))
    assert refused.path is None and "401" in refused.note
    nokey = run(video_backends.generate(load_settings(home=tmp_path), req, prefer="veo",
                                        cache=tmp_path))
    assert nokey.path is None and "LIBRARIAN_VEO_API_KEY" in nokey.note


def test_generated_clip_scene_renders_with_captions(tmp_path: Path) -> None:
    """A clip from a backend becomes a scene: scaled, cropped, looped, captions on top."""
    src = tmp_path / "clip.mp4"
    video._run([video.ffmpeg(), "-hide_banner", "-loglevel", "error", "-f", "lavfi", "-i",
                "testsrc=size=640x360:rate=25:duration=1", "-pix_fmt", "yuv420p", str(src)],
               "make a test clip")
    style = video.Style(480, 270)
    scene = video.SceneSpec(0, {"kind": "section", "clip": str(src), "title": "Methods"}, 50,
                            [(0.2, 1.8, "a caption")])
    out = video.scene_clips([scene], style, tmp_path / "cache")[0]
    info = video.probe(out)
    assert (info.width, info.height) == (480, 270) and abs(info.duration_s - 2.0) < 0.1
