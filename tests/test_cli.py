"""The `librarian` command line as users run it: a subprocess on a temp LIBRARIAN_HOME."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, TESTDATA

LIBRARIAN = REPO / ".venv" / "bin" / "librarian"
DOCX = TESTDATA / "docx" / "docling_word_sample.docx"
IMPORT_FIELDS = {"source_id", "kind", "title", "pages", "chunks", "licence", "job_id", "status"}


class Cli:
    def __init__(self, home: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
        self.env.update(LIBRARIAN_HOME=str(home), COLUMNS="200")

    def __call__(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(LIBRARIAN), *args], env=self.env, capture_output=True,
                              text=True, timeout=300, cwd=REPO)

    def many(self, *calls: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
        """Independent read-only commands, run side by side (start-up dominates their time)."""
        with ThreadPoolExecutor(len(calls)) as pool:
            return list(pool.map(lambda a: self(*a), calls))


def lines(proc: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Cli:
    if not LIBRARIAN.exists():
        pytest.skip(f"{LIBRARIAN} is not installed (run make install)")
    return Cli(tmp_path_factory.mktemp("cli") / "home")


def test_cli_round_trip(cli: Cli, tmp_path: Path) -> None:
    empty = tmp_path / "empty.pdf"
    empty.write_bytes(b"")
    # import: one JSON line per input; a bad input fails the command but not the others
    proc = cli("import", "--json", str(DOCX), str(tmp_path / "missing.pdf"), str(empty))
    assert proc.returncode == 1, proc.stderr
    good, missing, bad = lines(proc)
    assert set(good) >= IMPORT_FIELDS
    assert good["status"] == "completed" and good["kind"] == "document"
    assert good["title"] == "Swimming in the lake" and good["chunks"] > 3
    assert good["pages"] is None and good["licence"] is None
    assert missing["status"] == bad["status"] == "failed"
    assert "no such file" in missing["error"] and "empty" in bad["error"]
    sid, job_id = good["source_id"], good["job_id"]

    srcs, show, search, jobs, job = cli.many(
        ("sources", "--json"), ("show", sid, "--json"),
        ("search", "swimming in the lake", "--limit", "3", "--json"), ("jobs", "--json"),
        ("job", job_id, "--trace", "--json"))
    for proc in (srcs, show, search, jobs, job):
        assert proc.returncode == 0, proc.stderr
    listed = lines(srcs)
    assert [r["source_id"] for r in listed] == [sid]  # failed imports left nothing
    assert {"kind", "title", "pages", "chunks", "licence"} <= set(listed[0])
    info = lines(show)[0]
    assert info["source_id"] == sid and info["title"] == good["title"]
    assert info["chunks"] == good["chunks"] and info["sections"]
    hits = lines(search)
    assert 1 <= len(hits) <= 3
    assert hits[0]["source_id"] == sid and {"text", "page", "score"} <= set(hits[0])
    assert hits[0]["score"] >= hits[-1]["score"]
    job_rows = lines(jobs)  # a missing file is refused before any job is recorded
    assert missing["job_id"] is None
    assert sorted(j["status"] for j in job_rows) == ["completed", "failed"]
    detail = lines(job)[0]
    assert detail["job_id"] == job_id and detail["status"] == "completed"
    assert detail["result"]["source_id"] == sid
    assert [s["node"] for s in detail["trace"] if s["node"] != "__start__"] == [
        "fetch", "detect", "extract", "chunk", "embed", "store", "provenance", "finish"]
    gone = cli("delete", sid, "--hard", "--json")
    assert gone.returncode == 0, gone.stderr
    assert lines(gone)[0]["deleted"] == "hard"
    # after a hard delete the source is gone: non-zero exit and the reason on one line
    show_gone = cli("show", sid)
    assert show_gone.returncode == 1
    assert show_gone.stderr.strip() == f"error: no source {sid}"
