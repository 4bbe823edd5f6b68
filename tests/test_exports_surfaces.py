"""Written exports from every surface: `librarian make KIND`, REST `/api/content/export` (each
kind's parameters in OpenAPI, files with their media types) and chat ("make flashcards from
S2ORC"); bad input gets a clear 4xx or a one-line CLI error."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from graphs import chat
from server.cli import app
from storage import db
from storage.settings import Settings, get_settings, load_settings


@pytest.fixture(scope="module")
def lib(five_papers: tuple[Settings, list[str]]) -> Iterator[tuple[Settings, list[str]]]:
    settings, ids = five_papers
    mp = pytest.MonkeyPatch()
    mp.setenv("LIBRARIAN_HOME", str(settings.home))
    get_settings.cache_clear()
    yield settings, ids
    get_settings.cache_clear()
    mp.undo()


def cli(*args: str) -> Any:
    return CliRunner().invoke(app, list(args))


def test_cli_make_each_kind_prints_paths(lib: tuple[Settings, list[str]], tmp_path: Path
                                         ) -> None:
    _, ids = lib
    src = [a for i in ids[:3] for a in ("--from", i)]
    for kind, extra, main in [("flashcards", ["--cards", "12"], "apkg"),
                              ("report", ["--style", "study-guide", "--words", "600"], "pdf"),
                              ("quiz", ["--questions", "4"], "json")]:
        res = cli("make", kind, *src, *extra, "--out", str(tmp_path / kind), "--json")
        assert res.exit_code == 0, res.output
        row = json.loads(res.stdout.strip().splitlines()[-1])
        assert row["kind"] == kind and row["segments"] == row["attributed_segments"] > 0
        assert Path(row["paths"][main]).is_file()
        assert Path(row["paths"][main]).parent == tmp_path / kind
    res = cli("make", "slides", *src, "--slides", "5")
    assert res.exit_code == 0 and "slides ready" in res.stdout and "pptx:" in res.stdout


def test_cli_bad_input_is_one_line(lib: tuple[Settings, list[str]]) -> None:
    _, ids = lib
    res = cli("make", "quiz", "--from", ids[0], "--options", "9")
    assert res.exit_code == 2 and "options: Input should be less than or equal to 6" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = cli("make", "ebook", "--from", "no-such-source")
    assert res.exit_code == 1 and "no-such-source" in res.output
    assert len(res.output.strip().splitlines()) == 1
    res = cli("make", "report", "--from", ids[0], "--style", "poem")
    assert res.exit_code == 2 and "style" in res.output


def wait(client: Any, job_id: str, timeout: float = 240) -> dict[str, Any]:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("completed", "failed", "cancelled"):
            return dict(job)
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish")


def test_rest_export_formats(lib: tuple[Settings, list[str]]) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    settings, ids = lib
    cfg = load_settings(home=settings.home, auth="none")
    with TestClient(create_app(cfg)) as client:
        schema = client.get("/openapi.json").json()["components"]["schemas"]
        for name, field in [("ReportParams", "style"), ("EbookParams", "chapters"),
                            ("FlashcardsParams", "cards"), ("QuizParams", "options"),
                            ("NewsletterParams", "items"), ("SlidesParams", "bullets")]:
            assert schema[name]["properties"][field]["description"], name
        assert schema["QuizParams"]["properties"]["options"]["maximum"] == 6
        body = {"format": "slides", "source_ids": ids[:2], "parameters": {"slides": 5}}
        resp = client.post("/api/content/export", json=body)
        assert resp.status_code == 202, resp.text
        job = wait(client, resp.json()["job_id"])
        assert job["status"] == "completed", job
        art = client.get("/api/artifacts?kind=slides").json()
        assert art and set(art[0]["files"]) >= {"pptx", "pdf", "attribution", "provenance"}
        pptx = client.get(art[0]["files"]["pptx"])
        assert pptx.status_code == 200 and pptx.content[:2] == b"PK"
        assert pptx.headers["content-type"].startswith("application/vnd.openxmlformats")
        assert client.get(art[0]["files"]["pdf"]).headers["content-type"] == "application/pdf"
        bad = [({"format": "quiz", "source_ids": ids[:1], "parameters": {"options": 2}}, 422),
               ({"format": "report", "source_ids": ids[:1], "parameters": {"tone": "x"}}, 422),
               ({"format": "ebook", "source_ids": ["nope"]}, 404),
               ({"format": "flashcards", "source_ids": []}, 422),
               ({"format": "zine", "source_ids": ids[:1]}, 422)]
        for req, code in bad:
            got = client.post("/api/content/export", json=req)
            assert got.status_code == code, (req, got.text)
    asyncio.run(db.dispose())


def test_chat_makes_flashcards_and_a_report(lib: tuple[Settings, list[str]]) -> None:
    settings, _ = lib

    def say(message: str, thread: str) -> dict[str, Any]:
        async def go() -> dict[str, Any]:
            try:
                return [e async for e in chat.converse(settings, thread, message)][-1]
            finally:
                await db.dispose()

        return asyncio.run(go())

    rep = say("make 15 flashcards from the S2ORC paper", "cards-1")
    assert rep["text"].startswith("Your flashcard deck is ready: "), rep["text"]
    assert rep["artifact"]["kind"] == "flashcards" and rep["attribution"]
    assert Path(rep["artifact"]["paths"]["apkg"]).is_file()
    assert rep["artifact"]["segments"] == rep["artifact"]["attributed_segments"] <= 15
    rep = say("now a study guide from the same papers", "cards-1")
    assert rep["text"].startswith("Your report is ready: ") and rep["text"].split(": ")[1]
    assert rep["artifact"]["kind"] == "report"
