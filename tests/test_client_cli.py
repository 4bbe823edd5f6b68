"""The Python API as the README shows it, and the CLI's local mode on what it made.

The README's example runs once, unchanged, in a subprocess on a fresh LIBRARIAN_HOME (it imports
a paper and makes a short podcast); the CLI commands then read and change that library.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from agents.requests import PodcastRequest
from tests.conftest import REPO
from tests.test_cli import Cli, lines

EXAMPLE = re.compile(r"<!-- python-api-example[^>]*-->\n```python\n(.*?)```", re.S)
NO_JSON = {"serve", "worker"}  # a server and a worker: they log, they print no results


def readme_example() -> str:
    match = EXAMPLE.search((REPO / "README.md").read_text(encoding="utf-8"))
    assert match, "README.md lost its Python API example"
    return match.group(1)


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The README example's output, and a CLI on the same home."""
    home = tmp_path_factory.mktemp("example") / "home"
    cli = Cli(home)
    cli.env["LIBRARIAN_VOICE_ENGINE"] = "piper"  # the fast offline voices, as every test
    proc = subprocess.run([sys.executable, "-c", readme_example()], env=cli.env, cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    first, *credits = proc.stdout.splitlines()
    artifact_id, path = first.split(" ", 1)
    return {"cli": cli, "artifact_id": artifact_id, "path": Path(path), "credits": credits}


def test_readme_example_makes_a_traced_podcast(made: dict[str, Any]) -> None:
    assert made["path"].is_file() and made["path"].suffix == ".mp3"
    assert made["path"].stat().st_size > 10_000
    assert any("PaperMage" in line for line in made["credits"])


def test_both_entry_points_list_every_command(tmp_path: Path) -> None:
    from typer.main import get_group

    from server.cli import app

    group = get_group(app)
    names = set(group.commands)
    cli = Cli(tmp_path / "home")
    via_module = subprocess.run([sys.executable, "-m", "server.cli", "--help"],
                                env=cli.env, cwd=REPO, capture_output=True, text=True)
    via_script = cli("--help")
    listed = [{m.group(1) for m in re.finditer(r"^  ([a-z][a-z-]+) ", p.stdout, re.M)}
              for p in (via_module, via_script)]
    assert listed[0] == listed[1] == names
    assert {"import", "sources", "provenance", "impact", "generated-content", "make", "keys",
            "plugins", "ask", "eval"} <= names
    leaves = [(n, c) for n, c in group.commands.items() if not hasattr(c, "commands")]
    for sub in ("keys", "plugins"):
        leaves += list(group.commands[sub].commands.items())  # type: ignore[attr-defined]
    missing = [n for n, c in leaves if n not in NO_JSON
               and not any("--json" in p.opts for p in c.params)]
    assert missing == []


def test_provenance_commands_on_artifact_and_source(made: dict[str, Any]) -> None:
    cli, art = made["cli"], made["artifact_id"]
    (src,) = lines(cli("sources", "--json"))
    sid = src["source_id"]
    gen, lic, att, imp, made_from, sgen, slic, satt, simp, arts = cli.many(
        ("provenance", art, "--json"), ("licences", art, "--json"),
        ("attribution", art, "--json"), ("impact", art, "--json"),
        ("generated-content", sid, "--json"), ("provenance", sid, "--source", "--json"),
        ("licences", sid, "--source", "--json"), ("attribution", sid, "--source", "--json"),
        ("impact", sid, "--source", "--json"), ("artifacts", "--json"))
    for proc in (gen, lic, att, imp, made_from, sgen, slic, satt, simp, arts):
        assert proc.returncode == 0, proc.stderr
    genealogy = lines(gen)[0]
    assert genealogy["artifact"]["artifact_id"] == art
    assert [s["source_id"] for s in genealogy["sources"]] == [sid]
    assert all(seg["chunks"] for seg in genealogy["segments"])
    assert lines(lic)[0]["artifact_id"] == art and "licences" in lines(lic)[0]
    assert "PaperMage" in lines(att)[0]["text"]
    assert lines(imp)[0] == {"artifact_id": art, "derivative_works": [], "citing": [],
                             "published": []}  # never published: no metrics, never 0
    assert [a["artifact_id"] for a in lines(made_from)] == [art]
    source_gen = lines(sgen)[0]
    assert source_gen["source"]["source_id"] == sid and source_gen["run"]["job_id"]
    assert source_gen["origin"]["filename"] == "papermage_lo2023_emnlp_demo.pdf"
    assert lines(slic)[0]["source_id"] == sid
    assert "PaperMage" in lines(satt)[0]["reference"]
    assert [w["artifact_id"] for w in lines(simp)[0]["derivative_works"]] == [art]
    assert [a["artifact_id"] for a in lines(arts)] == [art]
    missing = cli("impact", "no-such-artifact")
    assert missing.returncode == 1 and missing.stderr.strip() == (
        "error: no artifact no-such-artifact")


def test_recipe_is_a_request_file(made: dict[str, Any], tmp_path: Path) -> None:
    cli = made["cli"]
    out = tmp_path / "episode.yaml"
    proc = cli("recipe", made["artifact_id"], "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    data = yaml.safe_load(out.read_text())
    assert data.pop("format") == "podcast"
    req = PodcastRequest.model_validate(data)  # the model `make podcast --request` uses
    assert req.minutes == 0.5 and req.hosts == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(out.read_text() + "loudness: 11\n")
    refused = cli("make", "podcast", "--request", str(bad), "--json")
    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: loudness: Extra inputs are not permitted"
    bad.write_text(json.dumps({**data, "sources": data["sources"], "minutes": 90}))
    too_long = cli("make", "podcast", "--request", str(bad))
    assert too_long.returncode == 2 and "minutes" in too_long.stderr


def test_disabled_exporter_keys_json_and_edits_kept_on_reprocess(made: dict[str, Any]) -> None:
    cli = made["cli"]
    (src,) = lines(cli("sources", "--json"))
    sid = src["source_id"]
    assert cli("plugins", "disable", "podcast", "--json").returncode == 0
    try:
        refused = cli("make", "podcast", "--from", sid, "--json")
        assert refused.returncode == 1
        assert refused.stderr.strip() == "error: the 'podcast' exporter is disabled"
    finally:
        assert cli("plugins", "enable", "podcast").returncode == 0
    key = lines(cli("keys", "create", "ci", "--json"))[0]
    assert key["name"] == "ci" and key["key"] and key["admin"] is True
    assert cli("keys", "list", "--json").stdout.count(key["id"]) == 1
    edited = cli("edit", sid, "--licence", "CC-BY-4.0", "--published", "2031-01-02", "--json")
    assert edited.returncode == 0, edited.stderr
    assert lines(edited)[0]["licence"] == "CC-BY-4.0"
    again = cli("reprocess", sid, "--json")
    assert again.returncode == 0, again.stderr
    shown = lines(cli("show", sid, "--json"))[0]
    assert (shown["licence"], shown["published"]) == ("CC-BY-4.0", "2031-01-02")
    assert shown["licence_evidence"] == "set by the owner"


def test_hard_delete_refuses_then_cascades(made: dict[str, Any]) -> None:
    cli, art = made["cli"], made["artifact_id"]
    (src,) = lines(cli("sources", "--json"))
    refused = cli("delete", src["source_id"], "--hard")
    assert refused.returncode == 1 and art in refused.stderr
    gone = cli("delete", src["source_id"], "--hard", "--cascade", "--json")
    assert gone.returncode == 0, gone.stderr
    assert lines(gone)[0]["orphaned"] == [art]
    (orphan,) = lines(cli("artifacts", "--json"))
    assert orphan["status"] == "orphaned"


def test_empty_home_reads_without_creating_a_database(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    srcs, jobs, show = cli.many(("sources", "--json"), ("jobs", "--json"), ("show", "x"))
    assert (srcs.returncode, srcs.stdout, jobs.returncode, jobs.stdout) == (0, "", 0, "")
    assert show.returncode == 1 and show.stderr.strip() == "error: no source x"
    assert not (tmp_path / "home" / "library.sqlite").exists()
    assert "LIBRARIAN_API_URL" not in os.environ
