"""`librarian review JOB`: read, edit ($EDITOR or a file) and approve a script before audio.

The script is edited as text, one line per tag: `[seq] Speaker (kind): text`. A tag keeps the
citations of the line it names; deleting a line drops it; `[+] Speaker (kind): text` adds a
line that cites nothing (framing only). Lines that do not start with a tag continue the line
above. A `.json`/`.yaml` file holds the REST body instead (`{"lines": [...]}`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

from server.cli_common import JsonOpt, call, emit, fail, follow, out

if TYPE_CHECKING:
    from agents.script import ScriptEdit
    from server.client import Client

app = typer.Typer(rich_markup_mode=None)
TAG = re.compile(r"^\[(\d+|\+)\]\s+(.+?)\s+\((\w+)\):\s*(.*)$")
ROLE = {"podcast": "audio", "video": "video"}
HEADER = """\
# Review of job {job}: one line per tag, `[seq] Speaker (kind): text`.
# Edit the text; delete a line to drop it; copy a tag to split a line (same citations);
# `[+] Speaker (transition): text` adds a framing line that cites nothing.
# A changed content or summary line must still be supported by the passages it cites.
# Hosts: {hosts}. Lines starting with # are ignored.
"""


def render(script: dict[str, Any]) -> str:
    """The script as editable text."""
    lines = [HEADER.format(job=script["job_id"], hosts=", ".join(script["hosts"]))]
    for ln in script["edit"]["lines"]:
        tag = "+" if ln.get("seq") is None else ln["seq"]
        lines.append(f"[{tag}] {ln['speaker']} ({ln.get('kind') or 'content'}): {ln['text']}")
    return "\n".join(lines) + "\n"


def parse(text: str) -> ScriptEdit:
    """Edited text back into a `ScriptEdit` (exit 2 naming a malformed line)."""
    from pydantic import ValidationError

    from agents.requests import first_error
    from agents.script import LineEdit, ScriptEdit

    edits: list[dict[str, Any]] = []
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        m = TAG.match(line)
        if m is None:
            if not edits:
                fail(f"line {n}: expected `[seq] Speaker (kind): text`, got {line[:60]!r}", 2)
            edits[-1]["text"] += " " + line
            continue
        seq, speaker, kind, said = m.groups()
        edits.append({"seq": None if seq == "+" else int(seq), "speaker": speaker,
                      "kind": kind, "text": said})
    try:
        return ScriptEdit(lines=[LineEdit.model_validate(e) for e in edits])
    except ValidationError as exc:
        fail(f"the edited script: {first_error(exc)}", 2)
        raise


def read_edit(path: Path) -> ScriptEdit:
    """A file of edits: JSON/YAML (the REST body) or the text form."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() not in {".json", ".yaml", ".yml"}:
        return parse(text)
    import yaml
    from pydantic import ValidationError

    from agents.requests import first_error
    from agents.script import ScriptEdit

    try:
        return ScriptEdit.model_validate(yaml.safe_load(text))
    except (yaml.YAMLError, ValidationError) as exc:
        msg = first_error(exc) if isinstance(exc, ValidationError) else str(exc).splitlines()[0]
        fail(f"{path}: {msg}", 2)
        raise


@app.command("review")
def review(
    job_id: str,
    file: Annotated[Path | None, typer.Option(
        "--file", help="Edits: the text form or a JSON/YAML body.", exists=True,
        dir_okay=False)] = None,
    edit: Annotated[bool, typer.Option("--edit", help="Edit the script in $EDITOR.")] = False,
    approve: Annotated[bool, typer.Option(
        "--approve", help="Then narrate it and finish the job.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Read, edit and approve the script of a job made with --review, before any audio."""
    async def go(lib: Client) -> dict[str, Any]:
        script = await lib.script(job_id)
        staged = None
        if file is not None:
            staged = read_edit(file)
        elif edit:
            text = click.edit(render(script), extension=".txt")
            staged = parse(text) if text and text.strip() else None
        done: dict[str, Any] = {"script": script}
        if staged is not None:
            done["edited"] = await lib.edit_script(job_id, staged)
        if approve:
            job = await lib.job_action(job_id, "approve")
            job = await follow(lib, job, job["graph"], as_json)
            if job["status"] == "completed":
                job["path"] = str(await lib.download(job["result"]["artifact_id"],
                                                     ROLE.get(job["graph"], "main"), None))
            done["job"] = job
        return done

    done = call(go)
    if as_json:
        return emit(done)
    _print(done, edit or file is not None)


def _print(done: dict[str, Any], edited: bool) -> None:
    job = done.get("job")
    if "edited" in done:
        out.print(f"staged: {done['edited']['edited']} line(s) edited, "
                  f"{len(done['edited']['lines'])} to narrate")
    elif not edited and job is None:
        out.print(render(done["script"]), end="", markup=False, highlight=False)
    if job is None:
        out.print(f"approve with: librarian review {done['script']['job_id']} --approve")
    elif job["status"] == "completed":
        out.print(f"[green]{job['graph']} ready[/green]: {job['path']}\n  artifact_id="
                  f"{job['result']['artifact_id']} job_id={job['job_id']}")
    else:
        fail(f"job {job['job_id']} {job['status']}: {job.get('error')}", 1)
