"""Job commands: jobs, job, retry, resume, cancel."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

import typer

from server.cli_common import JsonOpt, call, emit, emit_rows, follow, out, table
from server.client import TERMINAL

if TYPE_CHECKING:
    from server.client import Client, JobAction

app = typer.Typer(rich_markup_mode=None)


@app.command()
def jobs(
    status: Annotated[str | None, typer.Option(
        help="pending, queued, running, retrying, completed, failed or cancelled.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List jobs, newest first."""
    rows = call(lambda lib: lib.jobs(status=status, limit=limit))
    if as_json:
        return emit_rows(rows)
    table(["job_id", "graph", "status", "stage", "progress", "created"],
          [[j["job_id"], j["graph"], j["status"], j["stage"], f"{j['progress']:.0%}",
            str(j["created_at"])[:19].replace("T", " ")] for j in rows])


@app.command()
def job(
    job_id: str,
    show_trace: Annotated[bool, typer.Option("--trace", help="Node by node, from checkpoints.")] = (
        False),
    as_json: JsonOpt = False,
) -> None:
    """Show a job: status, stage, progress, error, result (and its trace)."""
    async def go(lib: Client) -> dict[str, Any]:
        info = await lib.job(job_id)
        if show_trace:
            info["trace"] = await lib.trace(job_id)
        return info

    info = call(go)
    if as_json:
        return emit(info)
    out.print(f"[bold]{info['job_id']}[/bold] {info['graph']}: {info['status']}"
              f" ({info['progress']:.0%}{', ' + info['stage'] if info['stage'] else ''})")
    if info["error"]:
        out.print(f"[red]error:[/red] {info['error']}")
    if info["result"]:
        out.print(json.dumps(info["result"], indent=2, default=str))
    for step in info.get("trace", []):
        out.print(f"  {step['started_at']}  {step['node']:<12} wrote {step['wrote']}"
                  + (f" [red]{step['error']}[/red]" if step["error"] else ""))


def _control(action: JobAction, job_id: str, as_json: bool) -> None:
    async def go(lib: Client) -> dict[str, Any]:
        info = await lib.job_action(job_id, action)
        if action != "cancel" and info["status"] not in TERMINAL:  # see it through
            info = await follow(lib, info, action, as_json)
        return info

    info = call(go)
    if as_json:
        emit(info)
    else:
        out.print(f"{action}: job {job_id} is {info['status']}"
                  + (f" ({info['error']})" if info.get("error") else ""))


@app.command()
def retry(job_id: str, as_json: JsonOpt = False) -> None:
    """Retry a failed or cancelled job from its last checkpoint."""
    _control("retry", job_id, as_json)


@app.command()
def resume(job_id: str, as_json: JsonOpt = False) -> None:
    """Resume an interrupted, failed or cancelled job from its last checkpoint."""
    _control("resume", job_id, as_json)


@app.command()
def cancel(job_id: str, as_json: JsonOpt = False) -> None:
    """Cancel a job (at once if waiting; a running job stops within seconds)."""
    _control("cancel", job_id, as_json)
