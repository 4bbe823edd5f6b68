"""REST provenance routes, hard delete with cascade, image uploads, and the CLI's remote mode
(LIBRARIAN_API_URL) against a running test server: the same commands, the same fields.

The artifact is the test-only "steps" export (fast); its GENERATED_FROM edge is written the way
the exporters write it, so the provenance views have something to follow.
"""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO
from tests.jobkit import Stack, make_stack, steps_job, upload, wait_job
from tests.test_cli import LIBRARIAN, lines

pytestmark = [pytest.mark.postgres]
HTML = Path("/work/shared/testdata/html/creativecommons_about.html")
VIEWS = ("genealogy", "attribution", "licenses", "impact")


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    st = make_stack(tmp_path_factory.mktemp("surfaces"), "inproc")
    yield st
    st.stop()


async def _generated_from(stack: Stack, artifact_id: str, source_id: str) -> None:
    from storage import db, edges

    settings = stack.settings()
    async with db.session(settings) as s:
        await edges.add_edge(s, ("artifact", artifact_id), "GENERATED_FROM",
                             ("source", source_id))
    await db.dispose()


@pytest.fixture(scope="module")
def made(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """alice's source and an artifact generated from it."""
    with stack.client() as c:
        done = wait_job(c, upload(c, HTML)["job_id"], 90)
        assert done["status"] == "completed", done
        sid = done["result"]["source_id"]
        job = wait_job(c, steps_job(c, sid, tmp_path_factory.mktemp("m")), 60)
        assert job["status"] == "completed", job
    art = job["result"]["artifact_id"]
    asyncio.run(_generated_from(stack, art, sid))
    return {"source_id": sid, "artifact_id": art}


def remote(stack: Stack, *args: str, who: str = "alice", module: bool = False
           ) -> subprocess.CompletedProcess[str]:
    """The CLI in remote mode: the server's URL and a key, nothing else of the stack's env."""
    env = {k: v for k, v in stack.env.items() if not k.startswith("LIBRARIAN_")}
    env.update(LIBRARIAN_API_URL=stack.url, LIBRARIAN_API_KEY=stack.keys[who],
               LIBRARIAN_HOME=str(stack.root / f"cli-{who}"), COLUMNS="200")
    cmd = [sys.executable, "-m", "server.cli"] if module else [str(LIBRARIAN)]
    return subprocess.run([*cmd, *args], env=env, capture_output=True, text=True, timeout=120,
                          cwd=REPO)


def test_provenance_routes_are_owner_scoped(stack: Stack, made: dict[str, str]) -> None:
    art, sid = made["artifact_id"], made["source_id"]
    with stack.client("alice") as alice, stack.client("bob") as bob:
        for kind, item in (("artifact", art), ("source", sid)):
            for view in VIEWS:
                path = f"/api/provenance/{kind}/{item}/{view}"
                mine = alice.get(path)
                assert mine.status_code == 200, (path, mine.text)
                assert bob.get(path).status_code == 404
        made_from = alice.get(f"/api/provenance/source/{sid}/generated-content")
        assert [a["artifact_id"] for a in made_from.json()] == [art]
        assert bob.get(f"/api/provenance/source/{sid}/generated-content").status_code == 404
        impact = alice.get(f"/api/provenance/source/{sid}/impact").json()
        assert [w["artifact_id"] for w in impact["derivative_works"]] == [art]
        gen = alice.get(f"/api/provenance/artifact/{art}/genealogy").json()
        assert [s["source_id"] for s in gen["sources"]] == [sid]
        lic = alice.get(f"/api/provenance/source/{sid}/licenses").json()
        assert lic["source_id"] == sid and lic["licences"]
        assert alice.get(f"/api/provenance/job/{art}/genealogy").status_code == 422
        assert alice.get(f"/api/provenance/artifact/{art}/generated-content").status_code in (
            404, 405)


def test_openapi_documents_the_new_routes_and_their_errors(stack: Stack) -> None:
    with stack.client() as c:
        paths = c.get("/openapi.json").json()["paths"]
    for view in VIEWS:
        op = paths[f"/api/provenance/{{kind}}/{{item_id}}/{view}"]["get"]
        assert {"404", "422"} <= set(op["responses"])
    assert "404" in paths["/api/provenance/source/{source_id}/generated-content"]["get"][
        "responses"]
    delete = paths["/api/content/{source_id}"]["delete"]
    assert {"cascade", "hard_delete"} <= {p["name"] for p in delete["parameters"]}
    assert {"400", "404", "409"} <= set(delete["responses"])
    assert {"400", "413", "415"} <= set(paths["/api/assets"]["post"]["responses"])


def test_cli_remote_reads_the_same_fields(stack: Stack, made: dict[str, str]) -> None:
    art, sid = made["artifact_id"], made["source_id"]
    with stack.client() as c:
        rest_sources = c.get("/api/content").json()
        rest_show = c.get(f"/api/content/{sid}").json()
    srcs = remote(stack, "sources", "--json", module=True)
    assert srcs.returncode == 0, srcs.stderr
    assert lines(srcs) == rest_sources
    show = remote(stack, "show", sid, "--json")
    assert lines(show) == [rest_show]
    made_from = remote(stack, "generated-content", sid, "--json")
    assert [a["artifact_id"] for a in lines(made_from)] == [art]
    lic = remote(stack, "licences", sid, "--source", "--json")
    assert lines(lic)[0]["source_id"] == sid
    imp = remote(stack, "impact", art, "--json")
    assert lines(imp)[0]["artifact_id"] == art
    jobs = remote(stack, "jobs", "--json")
    assert {j["graph"] for j in lines(jobs)} == {"ingest", "steps"}
    theirs = remote(stack, "show", sid, who="bob")
    assert theirs.returncode == 1 and theirs.stderr.strip() == f"error: 404: no source {sid}"


def test_cli_remote_chat_and_plugins(stack: Stack, made: dict[str, str]) -> None:
    reply = remote(stack, "ask", "list my papers", "--json")
    assert reply.returncode == 0, reply.stderr
    (row,) = lines(reply)
    assert row["text"].startswith("Your library has 1 source(s)") and row["thread_id"]
    plugins = remote(stack, "plugins", "list", "--json")
    assert {"podcast", "video"} <= {p["id"] for p in lines(plugins) if p["group"] == "export"}
    trace = remote(stack, "job", lines(remote(stack, "jobs", "--json"))[-1]["job_id"], "--trace",
                   "--json")
    assert trace.returncode == 0 and lines(trace)[0]["trace"]


def test_image_upload_is_the_owners(stack: Stack) -> None:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    with stack.client() as c:
        up = c.post("/api/assets", files={"file": ("logo.png", buf.getvalue())})
        assert up.status_code == 201, up.text
        assert up.json()["image_id"].startswith("img-")
        bad = c.post("/api/assets", files={"file": ("x.png", b"not an image")})
        assert bad.status_code == 400
        assert c.post("/api/assets", json={}).status_code == 415


def test_translation_without_an_llm_is_refused_at_the_request(stack: Stack,
                                                             made: dict[str, Any]) -> None:
    """An English source asked in Spanish with no LLM to translate: refused, nothing started
    (before the hard-delete test below removes the source)."""
    with stack.client() as c:
        for fmt in ("podcast", "video"):
            body = {"format": fmt, "source_ids": [made["source_id"]],
                    "parameters": {"language": "es"}}
            res = c.post("/api/content/export", json=body)
            assert res.status_code == 422, res.text
            assert "translating needs an LLM" in res.text and "LIBRARIAN_LLM_BASE_URL" in res.text
        body["parameters"] = {"language": "klingon"}
        assert c.post("/api/content/export", json=body).status_code == 422


def test_rest_hard_delete_cascades(stack: Stack, made: dict[str, str]) -> None:
    art, sid = made["artifact_id"], made["source_id"]
    with stack.client() as c:
        refused = c.delete(f"/api/content/{sid}", params={"hard_delete": "true"})
        assert refused.status_code == 400 and art in refused.json()["detail"]
        with stack.client("bob") as bob:
            assert bob.delete(f"/api/content/{sid}", params={
                "hard_delete": "true", "cascade": "true"}).status_code == 404
        gone = remote(stack, "delete", sid, "--hard", "--cascade", "--json")
        assert gone.returncode == 0, gone.stderr
        assert lines(gone)[0]["orphaned"] == [art]
        orphan = c.get(f"/api/artifacts/{art}").json()
        assert orphan["status"] == "orphaned"
        assert c.get(f"/api/content/{sid}").status_code == 404
        still = c.get(f"/api/provenance/artifact/{art}/genealogy")
        assert still.status_code == 200 and json.loads(still.text)["artifact"]["status"] == (
            "orphaned")


def test_export_refusals_are_422_at_the_request(stack: Stack, made: dict[str, Any]) -> None:
    with stack.client() as c:
        body = {"format": "podcast", "source_ids": ["nope"], "parameters": {"minutes": 1}}
        assert c.post("/api/content/export", json=body).status_code == 404
        body["parameters"] = {"minutes": True}
        assert c.post("/api/content/export", json=body).status_code == 422
        body = {"format": "nope", "source_ids": ["x"], "parameters": {}}
        res = c.post("/api/content/export", json=body)
        assert res.status_code == 422 and "unknown format" in res.text

