"""Review before audio (`--review`): the run stops after the script, the owner reads and edits
it, approves, and narration goes on from the checkpoint with the edits, re-grounded and
flagged in provenance. Also the podcast formats on every surface (request, CLI, chat).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from agents import intent
from agents.requests import PodcastRequest, first_error
from agents.script import Line, LineEdit
from agents.script_edits import apply_edits, script_of
from storage.errors import BadInput
from tests.jobkit import Stack, make_stack, upload, wait_job
from tests.test_cli import Cli, lines
from tests.test_llm_writer import ATTN_PASSAGES

HTML = Path("/work/shared/testdata/html/creativecommons_about.html")
P = {p.chunk_id: p for p in ATTN_PASSAGES}
HOSTS = ["Alex", "Sam"]


def draft() -> list[Line]:
    first = ATTN_PASSAGES[1]
    return [Line(seq=0, speaker="Alex", kind="intro", text="Welcome to the show.",
                 citations=[first.chunk_id]),
            Line(seq=1, speaker="Sam", kind="question", text="What did they build?",
                 citations=[first.chunk_id]),
            Line(seq=2, speaker="Alex", kind="content", text=first.text.split(". ")[0] + ".",
                 citations=[first.chunk_id], quote=first.text.split(". ")[0]),
            Line(seq=3, speaker="Sam", kind="outro", text="That's all for today.",
                 citations=[first.chunk_id])]


# --- the edit rules ---------------------------------------------------------------------

def test_unchanged_script_is_the_draft() -> None:
    lines = draft()
    out = apply_edits(lines, script_of(lines), P, HOSTS)
    assert [ln.model_dump() for ln in out] == [ln.model_dump() for ln in lines]


def test_edited_lines_are_flagged_regrounded_and_renumbered() -> None:
    lines = draft()
    cid = lines[2].citations[0]
    edit = script_of(lines)
    edit.lines[0].text = "Hi, I'm Alex, and today: a model built on attention alone."
    claim = ATTN_PASSAGES[1].text.split(". ")[0]
    edit.lines[2].text = "In short: " + claim + "."
    del edit.lines[1]  # the question is dropped
    out = apply_edits(lines, edit, P, HOSTS)
    assert [ln.seq for ln in out] == [0, 1, 2]
    assert out[0].meta == {"edited_by": "owner", "original": "Welcome to the show."}
    assert out[1].meta["edited_by"] == "owner" and out[1].citations == [cid]
    assert out[1].support is not None and out[1].support >= 0.6
    assert out[1].quote and out[1].quote in " ".join(P[cid].text.split())
    assert "edited_by" not in out[2].meta  # the outro was left as it was


def test_unsupported_or_malformed_edits_are_refused_with_the_line() -> None:
    lines = draft()
    cases: list[tuple[dict[str, Any], str]] = [
        ({"text": "The moon is made of cheese and costs 42 dollars."}, "line 3: its cited"),
        ({"speaker": "Eve"}, "line 3: 'Eve' is not a host"),
        ({"citations": ["no-such-chunk"]}, "line 3: 'no-such-chunk' is not one of"),
        ({"seq": 99}, "line 3: the script has no line 99"),
        ({"seq": None, "citations": []}, "line 3: a content line must cite"),
    ]
    for change, message in cases:
        edit = script_of(lines)
        edit.lines[2] = edit.lines[2].model_copy(update=change)
        with pytest.raises(BadInput, match=message.replace("(", r"\(")):
            apply_edits(lines, edit, P, HOSTS)


def test_a_new_framing_line_needs_no_citation() -> None:
    lines = draft()
    edit = script_of(lines)
    edit.lines.insert(3, LineEdit(speaker="Sam", text="Now, to wrap up."))
    out = apply_edits(lines, edit, P, HOSTS)
    assert out[3].kind == "transition" and out[3].citations == []
    assert out[3].meta == {"edited_by": "owner", "original": None}


# --- formats and review on the request and in chat -----------------------------------------

def test_formats_by_request_rules() -> None:
    brief = PodcastRequest(sources=["s"], episode_format="brief")
    assert (brief.hosts, brief.minutes, brief.brief().format) == (1, 1.5, "brief")
    for bad, msg in [({"episode_format": "brief", "minutes": 5}, "a brief is under 2 minutes"),
                     ({"episode_format": "brief", "hosts": 2}, "a brief has one voice"),
                     ({"episode_format": "debate", "style": "lecture"}, "at least 2 hosts")]:
        with pytest.raises(ValueError) as err:
            PodcastRequest(sources=["s"], **bad)
        assert msg in first_error(err.value)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "params"), [
    ("make a debate podcast from these papers", {"episode_format": "debate"}),
    ("a critique of these papers as a podcast", {"episode_format": "critique"}),
    ("make a brief podcast", {"episode_format": "brief"}),
    ("a brief 10 minute podcast", {"minutes": 10.0}),
    ("make a 3 minute podcast and let me review the script first",
     {"minutes": 3.0, "review": True}),
    ("make a video, I want to edit the script before audio", {"review": True}),
])
def test_chat_understands_formats_and_review(text: str, params: dict[str, Any]) -> None:
    req = intent.parse(text, ["paper.pdf"])
    assert req.params == params


# --- end to end -------------------------------------------------------------------------

def test_cli_review_edit_approve(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
                                 ) -> None:
    """make --review stops before audio; review prints the script; a file of edits is staged
    and approved; the episode narrates the edits, flagged in provenance; the recipe keeps them."""
    cli = Cli(tmp_path_factory.mktemp("review-cli") / "home")
    made = cli("make", "podcast", "--from", str(HTML), "--minutes", "0.5", "--review")
    assert made.returncode == 0, made.stderr
    assert "script ready for review" in made.stdout
    job_id = made.stdout.split("(job ")[1].split(")")[0]
    shown = cli("review", job_id)
    assert shown.returncode == 0, shown.stderr
    tagged = [ln for ln in shown.stdout.splitlines() if ln.startswith("[")]
    assert len(tagged) >= 3 and "(intro):" in tagged[0]
    edited = tmp_path / "script.txt"
    first = tagged[0].split("): ", 1)[0] + "): Hello from the reviewer, welcome."
    edited.write_text("\n".join([first, *tagged[1:]]) + "\n")
    done = cli("review", job_id, "--file", str(edited), "--approve", "--json")
    assert done.returncode == 0, done.stderr
    out = lines(done)[-1]
    assert out["edited"]["edited"] == 1 and out["job"]["status"] == "completed", out
    art = out["job"]["result"]["artifact_id"]
    recipe = lines(cli("recipe", art, "--json"))[-1]
    assert recipe["format"] == "podcast" and recipe["review"] is False
    assert recipe["script"]["lines"][0]["text"] == (
        "Hello from the reviewer, welcome.")
    again = cli("review", job_id)
    assert again.returncode == 1 and "not waiting for review" in again.stderr


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Any:
    st = make_stack(tmp_path_factory.mktemp("review"), "inproc")
    yield st
    st.stop()


@pytest.mark.postgres
def test_rest_review_is_the_owners_and_checked(stack: Stack) -> None:
    with stack.client() as c, stack.client("bob") as bob:
        done = wait_job(c, upload(c, HTML)["job_id"], 120)
        sid = done["result"]["source_id"]
        body = {"format": "podcast", "source_ids": [sid],
                "parameters": {"minutes": 0.5, "review": True}}
        job = c.post("/api/content/export", json=body).json()
        job = wait_job(c, job["job_id"], 600, until=lambda j: j["status"] in (
            "review", "failed", "completed", "cancelled"))
        assert job["status"] == "review" and job["stage"] == "review", job
        jid = job["job_id"]
        assert bob.get(f"/api/jobs/{jid}/script").status_code == 404
        script = c.get(f"/api/jobs/{jid}/script").json()
        assert script["lines"] and script["passages"] and not script["edited"]
        edit = script["edit"]
        claim = next(i for i, ln in enumerate(edit["lines"]) if ln["kind"] == "content")
        bad = json.loads(json.dumps(edit))
        bad["lines"][claim]["text"] = "The moon is made of cheese and costs 42 dollars."
        resp = c.put(f"/api/jobs/{jid}/script", json=bad)
        assert resp.status_code == 400 and f"line {claim + 1}:" in resp.json()["detail"]
        assert c.post(f"/api/jobs/{jid}/resume").status_code == 400
        edit["lines"][0]["text"] = "Welcome, this intro was written by the owner."
        staged = c.put(f"/api/jobs/{jid}/script", json=edit)
        assert staged.status_code == 200 and staged.json()["edited"] == 1, staged.text
        assert c.get(f"/api/jobs/{jid}/script").json()["edited"] is True
        assert bob.post(f"/api/jobs/{jid}/approve").status_code == 404
        assert c.post(f"/api/jobs/{jid}/approve").status_code == 200
        job = wait_job(c, jid, 600)
        assert job["status"] == "completed", job
        art = job["result"]["artifact_id"]
        segs = c.get(f"/api/provenance/artifact/{art}/genealogy").json()["segments"]
        assert segs[0]["edited_by"] == "owner" and "written by the owner" in segs[0]["text"]
        assert segs[0]["chunks"] and all(g["edited_by"] is None for g in segs[1:])
        # a second reviewed run is cancelled while it waits: nothing is left running
        other = c.post("/api/content/export", json=body).json()["job_id"]
        wait_job(c, other, 600, until=lambda j: j["status"] == "review")
        assert c.delete(f"/api/jobs/{other}").json()["status"] == "cancelled"
        assert c.get(f"/api/jobs/{other}/script").status_code == 409
