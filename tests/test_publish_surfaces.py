"""`POST /api/publish/{platform}/{artifact_id}` on a running server and `librarian publish` on
the command line, against the platform fakes: published with the job's result, refusals as
one-line 4xx/5xx details and CLI errors naming the source, setting or command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from storage import db
from storage.settings import load_settings
from storage.tokens import new_key
from tests.conftest import REPO, free_port
from tests.fakes.platforms import Fake, serve, settings_for
from tests.publishkit import sign_in, video_artifact
from tests.test_cli import LIBRARIAN


@pytest.fixture(scope="module")
def fake() -> Iterator[Fake]:
    from tests.test_trends import rss

    with serve() as f:
        f.trends_rss = rss([("coral reef bleaching", "50K+"), ("nba finals game 7", "2M+")])
        yield f


def _env(home: Path, fake: Fake, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env.update({f"LIBRARIAN_{k.upper()}": v for k, v in settings_for(fake).items()})
    env.update(LIBRARIAN_HOME=str(home), LIBRARIAN_AUTH="none", LIBRARIAN_VOICE_ENGINE="piper",
               LIBRARIAN_PUBLISH_CHUNK_BYTES=str(256 * 1024), LIBRARIAN_PUBLISH_POLL_S="0.05",
               **extra)
    return env


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory, fake: Fake) -> dict[str, Any]:
    """A library with two videos (one from an NC source) and YouTube signed in."""
    home = tmp_path_factory.mktemp("pub") / "home"
    env = _env(home, fake, LIBRARIAN_TOKEN_KEY=new_key(), LIBRARIAN_PUBLISH_QUOTA="3")
    cfg = load_settings(home=home, _env_file=None, token_key=env["LIBRARIAN_TOKEN_KEY"],
                        **settings_for(fake))

    async def setup() -> tuple[str, str]:
        ok, _ = await video_artifact(cfg, ["CC-BY-4.0"], size=600 * 1024)
        nc, _ = await video_artifact(cfg, ["CC-BY-NC-4.0"], size=10 * 1024, job="job-nc")
        await sign_in(cfg, "youtube")
        await db.dispose()
        return ok, nc

    ok, nc = asyncio.run(setup())
    return {"env": env, "ok": ok, "nc": nc, "home": home}


@pytest.fixture(scope="module")
def server(library: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = open(tmp_path_factory.mktemp("srv") / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-c", "from tests import netguard; netguard.install(); "
         "import uvicorn; uvicorn.run('server.app:create_app', factory=True, "
         f"host='127.0.0.1', port={port}, log_level='warning')"],
        cwd=REPO, env=library["env"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(url + "/api/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(10)


def _wait(c: httpx.Client, job_id: str) -> dict[str, Any]:
    for _ in range(600):
        job: dict[str, Any] = c.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return job
        time.sleep(0.1)
    raise AssertionError(job)


def test_rest_publishes_and_refuses_clearly(server: str, library: dict[str, Any],
                                            fake: Fake) -> None:
    with httpx.Client(base_url=server, timeout=30) as c:
        resp = c.post(f"/api/publish/youtube/{library['ok']}", json={"privacy": "unlisted"})
        assert resp.status_code == 202, resp.text
        job = _wait(c, resp.json()["job_id"])
        assert job["status"] == "completed", job
        assert job["result"]["url"].startswith("https://youtube.com/shorts/")
        fake.yt_stats[job["result"]["id"]] = {"views": 42, "likes": 5, "comments": 1,
                                              "shares": 2, "estimatedMinutesWatched": 7}
        dash = c.get("/api/analytics/dashboard", params={"refresh": "true"}).json()
        assert dash["totals"]["views"] == 42 and dash["videos"][0]["cost"]["complete"]
        one = c.get(f"/api/analytics/video/{library['ok']}").json()
        assert one["metrics"]["youtube"]["watch_minutes"] == 7
        assert c.get("/api/analytics/video/nope").status_code == 404
        impact = c.get(f"/api/provenance/artifact/{library['ok']}/impact").json()
        assert impact["published"][0]["platform"] == "youtube"
        assert impact["metrics"]["youtube"]["views"] == 42
        nc = c.post(f"/api/publish/youtube/{library['nc']}", json={"commercial": True})
        assert nc.status_code == 403 and "src-job-nc-0" in nc.json()["detail"]
        tt = c.post(f"/api/publish/tiktok/{library['ok']}")
        assert tt.status_code == 503
        assert "librarian publish auth tiktok" in tt.json()["detail"]
        bad = c.post(f"/api/publish/tiktok/{library['ok']}", json={"privacy": "unlisted"})
        assert bad.status_code == 422 and "not offered by tiktok" in bad.text
        assert c.post(f"/api/publish/vimeo/{library['ok']}").status_code == 422
        gone = c.post("/api/publish/youtube/no-such-artifact")
        assert gone.status_code == 404
        got = c.get("/api/trends", params={"region": "US", "limit": 5})
        assert got.status_code == 200, got.text
        trends = got.json()["trends"]
        assert {t["topic"] for t in trends} == {"coral reef bleaching", "nba finals game 7"}
        assert not any(t["supported"] for t in trends)  # nothing indexed in this library
        refused = c.get(f"/api/trends/{trends[0]['trend_id']}/sources")
        assert refused.status_code == 403 and "no supporting source" in refused.text
        assert c.get("/api/trends", params={"region": "usa"}).status_code == 422
        codes = [c.post(f"/api/publish/instagram/{library['ok']}").status_code
                 for _ in range(3)]
        assert codes == [202, 202, 429]  # LIBRARIAN_PUBLISH_QUOTA=3 a day (one used above)


def test_cli_publish_and_its_one_line_refusals(library: dict[str, Any], fake: Fake) -> None:
    if not LIBRARIAN.exists():
        pytest.skip(f"{LIBRARIAN} is not installed")
    env = {**library["env"], "LIBRARIAN_PUBLISH_QUOTA": "50"}

    def run(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(LIBRARIAN), *args], env={**env, **extra},
                              capture_output=True, text=True, timeout=120, cwd=REPO)

    done = run("publish", library["ok"], "--to", "instagram")
    assert done.returncode == 0, done.stderr
    assert "caption:" in done.stdout and "Credit:" in done.stdout
    nc = run("publish", library["nc"], "--to", "youtube", "--commercial")
    assert nc.returncode == 1 and "(src-job-nc-0)" in nc.stderr and "CC-BY-NC-4.0" in nc.stderr
    assert len(nc.stderr.strip().splitlines()) == 1
    bare = run("publish", library["ok"], "--to", "youtube", LIBRARIAN_YOUTUBE_CLIENT_ID="")
    assert bare.returncode == 1 and "LIBRARIAN_YOUTUBE_CLIENT_ID" in bare.stderr
    nokey = run("publish", "auth", "tiktok", LIBRARIAN_TOKEN_KEY="")
    assert nokey.returncode == 1 and "LIBRARIAN_TOKEN_KEY" in nokey.stderr
    dash = run("analytics", "--json")
    assert dash.returncode == 0, dash.stderr
    assert '"videos"' in dash.stdout and '"totals"' in dash.stdout
    key = run("publish", "keygen")
    assert key.returncode == 0 and len(key.stdout.strip()) == 44
    placeholder = run("publish", "auth", "youtube", LIBRARIAN_TOKEN_KEY="changeme")
    assert placeholder.returncode == 2 and "placeholder" in placeholder.stderr


def test_rest_config_and_video_batch(server: str, library: dict[str, Any]) -> None:
    with httpx.Client(base_url=server, timeout=30) as c:
        assert c.get("/api/config/brand-voice").json()["intro"] is None
        put = c.put("/api/config/brand-voice", json={"tone": "calm", "intro": "Reef Notes.",
                                                     "accent_color": "#22AA88"})
        assert put.status_code == 200 and put.json()["accent_color"] == "#22AA88"
        assert c.get("/api/config/brand-voice").json()["intro"] == "Reef Notes."
        assert c.put("/api/config/brand-voice", json={"accent_color": "green"}
                     ).status_code == 422
        assert c.put("/api/config/brand-voice", json={"logo": "nope"}).status_code == 400
        ids = {t["template_id"]: t for t in c.get("/api/config/templates").json()}
        assert ids["video/short"]["parameters"]["aspect"] == "9:16"
        assert ids["podcast/lecture"]["parameters"]["hosts"] == 1
        clone = c.post("/api/config/voice-clone", files={"file": ("a.wav", b"RIFF")},
                       data={"name": "Ana"})
        assert clone.status_code == 503 and "LIBRARIAN_ELEVENLABS_API_KEY" in clone.text

        video = {"source_ids": ["src-0"], "parameters": {"style": "short"}}
        assert c.post("/api/video/batch", json={"videos": [video] * 11}).status_code == 422
        gone = c.post("/api/video/batch", json={"videos": [video, {"source_ids": ["nope"]}]})
        assert gone.status_code == 404
        made = c.post("/api/video/batch", json={"videos": [video, video]})
        assert made.status_code == 202, made.text
        batch = made.json()
        assert len({j["job_id"] for j in batch["jobs"]}) == 2
        over = c.post("/api/video/batch", json={"videos": [video, video]})
        assert over.status_code == 429  # 3 videos a day: two fit, four do not, none started
        status = c.get(f"/api/video/batch/{batch['batch_id']}").json()
        assert [j["job_id"] for j in status["jobs"]] == [j["job_id"] for j in batch["jobs"]]
        assert sum(status["counts"].values()) == 2
        assert c.get("/api/video/batch/none").status_code == 404
        for j in batch["jobs"]:
            c.post(f"/api/jobs/{j['job_id']}/cancel")


def test_cli_against_the_server_same_commands(server: str, library: dict[str, Any]) -> None:
    """LIBRARIAN_API_URL: trends, analytics and publish run over REST with the same output."""
    if not LIBRARIAN.exists():
        pytest.skip(f"{LIBRARIAN} is not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env.update(LIBRARIAN_API_URL=server, LIBRARIAN_HOME=str(library["home"].parent / "remote"))

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(LIBRARIAN), *args], env=env, capture_output=True,
                              text=True, timeout=120, cwd=REPO)

    trends = run("trends", "--json")
    assert trends.returncode == 0, trends.stderr
    assert "nba finals game 7" in trends.stdout
    dash = run("analytics", "--json")
    assert dash.returncode == 0 and '"videos"' in dash.stdout, dash.stderr
    nc = run("publish", library["nc"], "--to", "youtube", "--commercial")
    assert nc.returncode == 1 and "src-job-nc-0" in nc.stderr
    auth = run("publish", "auth", "youtube")
    assert auth.returncode == 2 and "where the library is" in auth.stderr
