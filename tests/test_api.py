"""REST API and job lifecycle against a real server process, with both executors.

The job tests run twice: in-process executor, and arq with a worker process on Redis.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import jobgraphs
from tests.jobkit import TERMINAL, Stack, make_stack, steps_job, upload, wait_job

pytestmark = [pytest.mark.postgres]
HTML = Path("/work/shared/testdata/html/creativecommons_about.html")
DOCX = Path("/work/shared/testdata/docx/docling_word_tables.docx")


@pytest.fixture(scope="module", params=["inproc", "arq"])
def stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
          ) -> Iterator[Stack]:
    st = make_stack(tmp_path_factory.mktemp(request.param), request.param,
                    LIBRARIAN_MAX_UPLOAD_BYTES=str(2 * 1024 * 1024))
    yield st
    st.stop()


@pytest.fixture(scope="module")
def source_id(stack: Stack) -> str:
    """One imported document owned by alice (the export jobs below need a source)."""
    with stack.client() as c:
        job = upload(c, HTML)
        assert job["status"] == "queued"
        done = wait_job(c, job["job_id"], 90)
    assert done["status"] == "completed", done
    return str(done["result"]["source_id"])


def test_upload_import_completes_and_is_searchable(stack: Stack, source_id: str) -> None:
    with stack.client() as c:
        rows = c.get("/api/content").json()
        assert [r["source_id"] for r in rows] == [source_id]
        assert rows[0]["chunks"] > 0 and rows[0]["filename"] == HTML.name
        detail = c.get(f"/api/content/{source_id}").json()
        assert detail["title"] == "What we do - Creative Commons"
        hits = c.get("/api/search", params={"q": "copyright licenses"}).json()
        assert hits and hits[0]["source_id"] == source_id and hits[0]["mode"] == "hybrid"
        lexical = c.get("/api/search", params={"q": "copyright", "mode": "sparse",
                                               "kind": ["webpage", "pdf"]}).json()
        assert lexical and {h["mode"] for h in lexical} == {"sparse"}
        assert c.get("/api/search", params={"q": "copyright", "kind": "pdf"}).json() == []
        assert c.get("/api/search", params={"q": "copyright", "mode": "fuzzy"}).status_code == 422
        assert c.get("/api/content", params={"licence": "CC-BY-4.0"}).json()
        assert c.get("/api/content", params={"kind": "pdf"}).json() == []
        # importing the same bytes again is a duplicate, not a second source
        again = wait_job(c, upload(c, HTML)["job_id"], 60)
        assert again["result"]["duplicate"] is True
        assert len(c.get("/api/content").json()) == 1
        patched = c.patch(f"/api/content/{source_id}", json={"title": "CC", "licence": "CC0-1.0"})
        assert patched.status_code == 200 and patched.json()["licence"] == "CC0-1.0"
        assert c.patch(f"/api/content/{source_id}",
                       json={"title": "What we do - Creative Commons"}).status_code == 200


def test_enqueue_to_complete_with_trace(stack: Stack, source_id: str, tmp_path: Path) -> None:
    with stack.client() as c:
        job_id = steps_job(c, source_id, tmp_path / "m")
        job = wait_job(c, job_id, 60)
        assert job["status"] == "completed", job
        assert job["progress"] == 1.0 and job["attempts"] == 1
        assert jobgraphs.runs(tmp_path / "m") == jobgraphs.STAGES
        trace = c.get(f"/api/jobs/{job_id}/trace").json()
        assert [t["node"] for t in trace if not t["node"].startswith("__")] == jobgraphs.STAGES
        art = c.get(f"/api/artifacts/{job['result']['artifact_id']}")
        assert art.status_code == 200 and art.json()["job_id"] == job_id
        assert job_id in [j["job_id"] for j in c.get("/api/jobs").json()]


def test_transient_failure_is_retried_automatically(stack: Stack, source_id: str,
                                                    tmp_path: Path) -> None:
    with stack.client() as c:
        job = wait_job(c, steps_job(c, source_id, tmp_path, fail_transient=1), 60)
    assert job["status"] == "completed", job
    assert job["attempts"] == 1  # the node was retried inside the run (LangGraph RetryPolicy)
    # `start` ran once, `work` twice
    assert jobgraphs.runs(tmp_path) == ["start", "work", "work", "ingest", "slow", "finish"]


def test_permanent_failure_then_manual_retry(stack: Stack, source_id: str,
                                             tmp_path: Path) -> None:
    flag = tmp_path / "refuse"
    flag.write_text("x")
    with stack.client() as c:
        job_id = steps_job(c, source_id, tmp_path / "m", fail_while=str(flag))
        job = wait_job(c, job_id, 60)
        assert job["status"] == "failed" and "flag file exists" in job["error"], job
        assert job["attempts"] == 1  # bad input is not retried
        assert c.post(f"/api/jobs/{job_id}/resume").status_code == 200  # fails again at once
        assert wait_job(c, job_id, 60)["status"] == "failed"
        flag.unlink()
        retried = c.post(f"/api/jobs/{job_id}/retry", json={"manual": True})
        assert retried.status_code == 200, retried.text
        assert retried.json()["priority"] == 7  # +1 per retry/resume of a failed job
        job = wait_job(c, job_id, 60)
    assert job["status"] == "completed", job
    # a bad-input failure is final: its checkpoints go, so each resume/retry starts over
    assert jobgraphs.runs(tmp_path / "m") == ["start", "work"] * 3 + ["ingest", "slow", "finish"]
    with stack.client() as c:
        assert c.post(f"/api/jobs/{job_id}/retry").status_code == 400  # completed


def test_cancel_while_running(stack: Stack, source_id: str, tmp_path: Path) -> None:
    with stack.client() as c:
        job_id = steps_job(c, source_id, tmp_path, slow_s=2.0)
        wait_job(c, job_id, 60, until=lambda j: j["stage"] == "slow")
        resp = c.delete(f"/api/jobs/{job_id}")
        assert resp.status_code == 200
        job = wait_job(c, job_id, 30)
    assert job["status"] == "cancelled", job
    assert "finish" not in jobgraphs.runs(tmp_path)  # stopped at the node boundary
    with stack.client() as c:
        assert c.get(f"/api/artifacts/{job['result'].get('artifact_id', 'x')}").status_code == 404


def test_priority_ordering(stack: Stack, source_id: str, tmp_path: Path) -> None:
    with stack.client() as c:
        blocker = steps_job(c, source_id, tmp_path / "b", slow_s=1.5)
        wait_job(c, blocker, 60, until=lambda j: j["status"] == "running")
        low = steps_job(c, source_id, tmp_path / "l", priority=2)
        mid = steps_job(c, source_id, tmp_path / "m", priority=5)
        high = steps_job(c, source_id, tmp_path / "h", priority=9)
        done = {j: wait_job(c, j, 60) for j in (blocker, low, mid, high)}
    assert all(d["status"] == "completed" for d in done.values()), done
    order = sorted((low, mid, high), key=lambda j: done[j]["started_at"])
    assert order == [high, mid, low]


def _sse(stack: Stack, job_id: str, out: list[dict[str, Any]]) -> None:
    with stack.client() as c, c.stream("GET", f"/api/jobs/{job_id}/events") as resp:
        assert resp.status_code == 200
        for line in resp.iter_lines():
            if line.startswith("data:"):
                out.append(json.loads(line[5:]))
                if out[-1]["type"] == "status" and out[-1]["status"] in TERMINAL:
                    return


async def _ws(stack: Stack, job_id: str) -> list[dict[str, Any]]:
    import websockets

    url = stack.url.replace("http", "ws") + f"/ws/jobs/{job_id}?token={stack.keys['alice']}"
    got = []
    async with websockets.connect(url) as ws:
        async for msg in ws:
            got.append(json.loads(msg))
    return got


def _stages(events: list[dict[str, Any]]) -> list[str]:
    stages: list[str] = []
    for e in events:
        if e.get("stage") and (not stages or stages[-1] != e["stage"]):
            stages.append(e["stage"])
    return stages


def test_ws_and_sse_deliver_every_stage_in_order(stack: Stack, source_id: str,
                                                 tmp_path: Path) -> None:
    with stack.client() as c:
        job_id = steps_job(c, source_id, tmp_path, delay=0.4, slow_s=0.5)
    sse: list[dict[str, Any]] = []
    t = threading.Thread(target=_sse, args=(stack, job_id, sse))
    t.start()
    ws = asyncio.run(_ws(stack, job_id))
    t.join(60)
    for got in (ws, sse):
        assert got[0]["type"] == "status"  # a late subscriber first gets the current state
        assert got[-1] == {**got[-1], "type": "status", "status": "completed"}
        assert _stages(got) == jobgraphs.STAGES, got
        assert any(e["type"] == "progress" and e.get("message", "").startswith("slow step")
                   for e in got)
    # after the end, a subscriber gets the final status at once
    late = asyncio.run(_ws(stack, job_id))
    assert len(late) == 1 and late[0]["status"] == "completed"


def test_owner_isolation(stack: Stack, source_id: str, tmp_path: Path) -> None:
    with stack.client() as alice:
        job_id = steps_job(alice, source_id, tmp_path)
        wait_job(alice, job_id, 60)
    with stack.client("bob") as bob:
        for method, path in [("GET", f"/api/jobs/{job_id}"), ("GET", f"/api/jobs/{job_id}/trace"),
                             ("GET", f"/api/jobs/{job_id}/events"),
                             ("POST", f"/api/jobs/{job_id}/retry"),
                             ("DELETE", f"/api/jobs/{job_id}"),
                             ("GET", f"/api/content/{source_id}"),
                             ("DELETE", f"/api/content/{source_id}"),
                             ("POST", f"/api/content/{source_id}/reprocess")]:
            assert bob.request(method, path).status_code == 404, path
        assert bob.get("/api/content").json() == []
        assert bob.get("/api/jobs").json() == []
        assert bob.get("/api/search", params={"q": "creative commons"}).json() == []
        resp = bob.post("/api/content/export", json={"source_ids": [source_id],
                                                     "format": "steps"})
        assert resp.status_code == 404
    with stack.client(None) as anon:
        assert anon.get("/api/jobs").status_code == 401
        assert anon.get("/api/jobs", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert anon.get(f"/api/jobs/{job_id}").status_code == 401


def test_hostile_input(stack: Stack, source_id: str, tmp_path: Path) -> None:
    if stack.mode != "inproc":
        pytest.skip("same API code in both modes; run once")
    staging = Path(stack.env["LIBRARIAN_HOME"]) / "objects" / "staging"
    with stack.client() as c:
        before = len(c.get("/api/jobs", params={"limit": 500}).json())
        big = tmp_path / "big.txt"
        big.write_bytes(b"a" * (3 * 1024 * 1024))
        with big.open("rb") as f:
            r = c.post("/api/content/import", files={"file": ("big.txt", f)})
        assert r.status_code == 413 and "larger than" in r.json()["detail"]
        png = b"\x89PNG\r\n\x1a\n" + b"0" * 99
        r = c.post("/api/content/import", files={"file": ("x.png", png)})
        assert r.status_code == 415, r.text
        r = c.post("/api/content/import", files={"file": ("e.txt", b"")})
        assert r.status_code == 400
        r = c.post("/api/content/import", content=b"{not json",
                   headers={"content-type": "application/json"})
        assert r.status_code == 422
        r = c.post("/api/content/import", content=b"hello", headers={"content-type": "text/plain"})
        assert r.status_code == 415
        for url in ("http://127.0.0.1:6379/", "http://10.0.0.1/x", "http://169.254.169.254/",
                    "file:///etc/passwd", "http://[::1]/"):
            r = c.post("/api/content/import", json={"url": url})
            assert r.status_code == 400, (url, r.text)
        r = c.post("/api/content/import", json={"url": "https://example.org", "priority": 11})
        assert r.status_code == 422
        assert c.get("/api/jobs/nope").status_code == 404
        assert c.get("/api/content/nope").status_code == 404
        assert c.get("/api/artifacts/nope/files/audio").status_code == 404
        r = c.post("/api/content/export", json={"source_ids": [source_id], "format": "video9"})
        assert r.status_code == 422 and "podcast" in r.json()["detail"]
        r = c.post("/api/content/export", json={"source_ids": [source_id], "format": "podcast",
                                                "parameters": {"minutes": 999}})
        assert r.status_code == 422
        r = c.post("/api/content/export", json={"source_ids": [source_id], "format": "podcast",
                                                "parameters": {"bogus": 1}})
        assert r.status_code == 422 and "bogus" in str(r.json()["detail"])
        assert c.post("/api/plugins/nope/disable").status_code == 404
        after = len(c.get("/api/jobs", params={"limit": 500}).json())
    assert after == before  # nothing was queued
    assert not staging.exists() or not any(staging.rglob("*"))  # nothing was stored


def _alice_figure(stack: Stack, source_id: str) -> tuple[str, str]:
    """A figure (id, stored file path) of alice's source: an image another owner must not use."""
    import io

    from PIL import Image

    from storage import db
    from storage.models import Figure
    from storage.objects import objects

    settings = stack.settings()
    png = io.BytesIO()
    Image.new("RGB", (32, 32), "red").save(png, "PNG")

    async def add() -> tuple[str, str]:
        key = f"sources/{source_id}/figures/test-logo.png"
        await objects(settings).put(key, png.getvalue(), "image/png")
        async with db.session(settings) as s:
            s.add(Figure(id="fig-alice-1", source_id=source_id, kind="figure", label="Figure 1",
                         caption="alice's figure", page=1, object_key=key))
        await db.dispose()
        return "fig-alice-1", str(Path(stack.env["LIBRARIAN_HOME"]) / "objects" / key)

    return asyncio.run(add())


def test_export_requests_are_checked_at_the_request(stack: Stack, source_id: str) -> None:
    """Wrong types, unknown fields and server paths get 422 before any job is queued."""
    if stack.mode != "inproc":
        pytest.skip("same API code in both modes; run once")
    fig_id, fig_path = _alice_figure(stack, source_id)

    def post(client: Any, fmt: str, sids: list[str], **params: Any) -> Any:
        return client.post("/api/content/export", json={"source_ids": sids, "format": fmt,
                                                        "parameters": params})

    with stack.client("bob") as bob:
        bob_source = wait_job(bob, upload(bob, DOCX)["job_id"], 90)["result"]["source_id"]
        before = len(bob.get("/api/jobs", params={"limit": 500}).json())
        for logo in (fig_path, "/etc/passwd", "../../etc/passwd"):
            r = post(bob, "video", [bob_source], seconds=10, logo=logo)
            assert r.status_code == 422 and "logo" in str(r.json()["detail"]), (logo, r.text)
        r = post(bob, "video", [bob_source], seconds=10, logo=fig_id)  # alice's, by id
        assert r.status_code == 422 and "no image" in r.json()["detail"], r.text
        for bad in ({"minutes": 0}, {"minutes": []}, {"minutes": None}, {"minutes": True},
                    {"hosts": 2.5}, {"hosts": True}, {"style": "rap"}, {"writer": "gpt"}):
            r = post(bob, "podcast", [bob_source], **bad)
            assert r.status_code == 422, (bad, r.text)
            field = next(iter(bad))
            assert any(e["loc"][-1] == field for e in r.json()["detail"]), (bad, r.text)
        for bad in ({"seconds": 5}, {"seconds": "10"}, {"aspect": "4:3"}, {"captions": 1},
                    {"backend": "sora"}, {"logo": ""}, {"unknown": 1}):
            assert post(bob, "video", [bob_source], **bad).status_code == 422, bad
        assert bob.get("/api/jobs", params={"limit": 500}).json().__len__() == before
        schema = bob.get("/openapi.json").json()["components"]["schemas"]
        assert {"PodcastParams", "VideoParams"} <= set(schema)
        assert schema["PodcastParams"]["properties"]["minutes"]["maximum"] == 60
        assert "description" in schema["VideoParams"]["properties"]["logo"]
    with stack.client() as alice:  # the owner may use their own figure as the logo
        r = post(alice, "video", [source_id], seconds=10, logo=fig_id, style="short")
        assert r.status_code == 202, r.text
        alice.delete(f"/api/jobs/{r.json()['job_id']}")
        wait_job(alice, r.json()["job_id"], 60)


def test_plugins_disable_is_honoured(stack: Stack, tmp_path: Path) -> None:
    if stack.mode != "inproc":
        pytest.skip("same API code in both modes; run once")
    with stack.client() as c:
        assert {p["id"] for p in c.get("/api/plugins/import").json()} >= {"pdf", "webpage",
                                                                          "document"}
        assert "podcast" in {p["id"] for p in c.get("/api/plugins/export").json()}
        assert c.post("/api/plugins/document/disable").json()["enabled"] is False
        try:
            md = tmp_path / "note.md"
            md.write_text("# Note\n\nA paragraph about owls and their night flights.\n")
            job = wait_job(c, upload(c, md)["job_id"], 60)
            assert job["status"] == "failed" and "disabled" in job["error"], job
        finally:
            assert c.post("/api/plugins/document/enable").json()["enabled"] is True
        # a bad-input failure is final: the staged upload is gone, and retry says so
        retried = c.post(f"/api/jobs/{job['job_id']}/retry")
        assert retried.status_code == 400 and "removed" in retried.json()["detail"], retried.text


def test_delete_soft_and_hard(stack: Stack, tmp_path: Path) -> None:
    if stack.mode != "arq":
        pytest.skip("run once, in worker mode (vectors shared across processes)")
    with stack.client("bob") as c:
        job = wait_job(c, upload(c, DOCX)["job_id"], 90)
        assert job["status"] == "completed", job
        sid = job["result"]["source_id"]
        assert c.delete(f"/api/content/{sid}").json()["deleted"] == "soft"
        assert c.get(f"/api/content/{sid}").status_code == 404
        hard = c.delete(f"/api/content/{sid}", params={"hard_delete": "true"}).json()
        assert hard["deleted"] == "hard" and hard["chunks"] > 0
        assert c.get("/api/search", params={"q": "table"}).json() == []
    from storage import vectors

    assert asyncio.run(vectors.count(stack.settings(), sid)) == 0
