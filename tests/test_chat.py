"""The chat front door end to end, offline: `librarian ask` imports attached papers, makes the
podcast, answers with path, duration and attribution; follow-ups reuse the thread; questions
are answered with citations or "not found"; REST streams a turn and serves the history."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agents.answers import NOT_FOUND
from graphs import chat
from server.cli import app
from storage import db, vectors
from storage import jobs as jobs_db
from storage.settings import Settings, get_settings, load_settings
from tests.conftest import PAPERS
from tests.test_intent import ToolModel

PAPER_A = PAPERS / "s2orc_lo2020_acl.pdf"
PAPER_B = PAPERS / "papermage_lo2023_emnlp_demo.pdf"
THREAD = "t-" + uuid.uuid4().hex[:8]


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    mp = pytest.MonkeyPatch()
    path = tmp_path_factory.mktemp("chat-home")
    mp.setenv("LIBRARIAN_HOME", str(path))
    get_settings.cache_clear()
    yield load_settings(home=path)
    vectors.close()
    get_settings.cache_clear()
    mp.undo()


def ask(*args: str) -> dict[str, Any]:
    res = CliRunner().invoke(app, ["ask", *args, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.stdout.strip().splitlines()[-1])


def say(settings: Settings, message: str, thread: str, **kw: Any) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        try:
            return [e async for e in chat.converse(settings, thread, message, **kw)][-1]
        finally:
            await db.dispose()

    return asyncio.run(go())


@pytest.fixture(scope="module")
def first(home: Settings) -> dict[str, Any]:
    return ask("make a 1 minute podcast from these papers", str(PAPER_A), str(PAPER_B),
               "--thread", THREAD)


def test_ask_imports_attachments_and_makes_the_podcast(first: dict[str, Any]) -> None:
    art = first["artifact"]
    assert first["status"] == "completed" and first["thread_id"] == THREAD
    assert Path(art["path"]).is_file() and art["path"].endswith(".mp3")
    assert 45 <= art["duration_s"] <= 75
    assert art["lines"] > 0 and art["attributed_lines"] == art["lines"]
    titles = " ".join(a["title"] for a in first["attribution"])
    assert "S2ORC" in titles and "PaperMage" in titles
    assert all(a["authors"] and a["year"] for a in first["attribution"])
    assert art["path"] in first["text"] and "S2ORC" in first["text"]


def test_follow_up_reuses_the_threads_sources(home: Settings, first: dict[str, Any]) -> None:
    again = ask("make it again but with three hosts", "--thread", THREAD)
    assert again["status"] == "completed", again["text"]
    assert again["artifact"]["artifact_id"] != first["artifact"]["artifact_id"]
    assert {a["source_id"] for a in again["attribution"]} == {
        a["source_id"] for a in first["attribution"]}

    async def job_input() -> dict[str, Any]:
        async with db.session(home) as s:
            job = await jobs_db.get_job(s, again["job_id"])
        await db.dispose()
        return dict(job.input)

    inp = asyncio.run(job_input())
    assert inp["hosts"] == 3 and inp["minutes"] == 1.0
    history = asyncio.run(chat.history(home, THREAD))
    assert [m["role"] for m in history] == ["user", "assistant"] * 2


def test_chat_makes_a_video(home: Settings, first: dict[str, Any]) -> None:
    reply = ask("make a 10 second vertical video from the S2ORC paper")
    assert reply["status"] == "completed", reply["text"]
    art = reply["artifact"]
    assert art["path"].endswith(".mp4") and Path(art["path"]).is_file()
    assert art["scenes"] >= 1 and art["attributed_scenes"] >= 1
    assert reply["text"].startswith("Your video is ready") and "S2ORC" in reply["text"]

    async def job_input() -> dict[str, Any]:
        async with db.session(home) as s:
            job = await jobs_db.get_job(s, reply["job_id"])
        await db.dispose()
        return {**job.input, "graph": job.graph}

    inp = asyncio.run(job_input())
    assert (inp["graph"], inp["seconds"], inp["aspect"]) == ("video", 10, "9:16")


def test_question_in_the_library_is_cited(home: Settings, first: dict[str, Any]) -> None:
    reply = ask("How many papers are in S2ORC?")
    con = sqlite3.connect(home.home / "library.sqlite")
    page = con.execute("SELECT page FROM chunks WHERE text LIKE '%81.1M papers%'").fetchone()[0]
    top = reply["citations"][0]
    assert reply["found"] and "81.1M" in reply["text"]
    assert top["title"].startswith("S2ORC") and top["page"] == page
    assert f"[S2ORC: The Semantic Scholar Open Research Corpus, p. {page}]" in reply["text"]


def test_question_not_in_the_library_is_not_found(first: dict[str, Any]) -> None:
    for q in ("What is the boiling point of mercury?", "Who won the 2018 football world cup?"):
        reply = ask(q)
        assert reply["text"] == NOT_FOUND and reply["citations"] == [] and not reply["found"]
        assert "[" not in reply["text"]


def test_paid_voices_are_confirmed_first(home: Settings, first: dict[str, Any]) -> None:
    paid = load_settings(home=home.home, elevenlabs_api_key="sk-test-0123456789")
    thread = "paid-" + uuid.uuid4().hex[:6]
    q = say(paid, "make a 1 minute podcast from S2ORC with elevenlabs voices", thread)
    assert q.get("question") and "$" in q["text"] and "Go ahead" in q["text"]
    no = say(paid, "no thanks", thread)
    assert no["text"] == "OK, I won't do that."


def test_ambiguous_name_is_asked_and_other_formats_made(home: Settings,
                                                          first: dict[str, Any]) -> None:
    thread = "amb-" + uuid.uuid4().hex[:6]
    q = say(home, "make a podcast from the Lo paper", thread)
    assert q.get("question") and len(q["options"]) == 2 and "Which one" in q["text"]
    assert say(home, "never mind", thread)["text"] == "OK, never mind."
    rep = say(home, "turn the S2ORC paper into flashcards", thread)
    assert rep["text"].startswith("Your flashcard deck is ready: ") and rep["attribution"]


def test_llm_tool_call_drives_the_graph(home: Settings, first: dict[str, Any]) -> None:
    from langchain_core.messages import AIMessage

    call = AIMessage(content="", tool_calls=[{"name": "ListLibrary", "id": "c", "args": {}}])
    reply = say(home, "what have I got?", "llm-" + uuid.uuid4().hex[:6],
                model=ToolModel(messages=iter([call])))
    assert reply["text"].startswith("Your library has 2 source(s)")


def test_rest_chat_streams_a_turn_and_serves_history(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from server.app import create_app

    cfg = load_settings(home=tmp_path, auth="none")
    with TestClient(create_app(cfg)) as client:
        with client.stream("POST", "/api/chat", json={"thread_id": "rest1",
                                                      "message": "help"}) as resp:
            assert resp.status_code == 200
            body = "".join(resp.iter_text())
        assert "event: reply" in body and "podcasts" in body
        bad = client.post("/api/chat", json={"message": "make a podcast from these",
                                             "attachments": ["/etc/passwd"]})
        assert bad.status_code == 400
        hist = client.get("/api/chat/rest1").json()
        assert [m["role"] for m in hist["messages"]] == ["user", "assistant"]
        assert client.get("/api/chat/nope").status_code == 404
