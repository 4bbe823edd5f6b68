"""`librarian eval`: run the eval suites, write the report, exit non-zero on a regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from evals.suites import SUITES

app = typer.Typer(rich_markup_mode=None)


@app.command("eval")
def eval_command(
    suite: Annotated[str, typer.Option(
        help=f"fast, full, or one suite: {', '.join(SUITES)}.")] = "fast",
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    out: Annotated[Path, typer.Option(help="Folder for <timestamp>.json and .md.")] =
        Path("eval-results"),
    baseline: Annotated[Path | None, typer.Option(
        help="Folder of the committed baseline [default: evals/baseline].")] = None,
) -> None:
    """Score what the system generates; exit 1 on a drop below thresholds or the baseline."""
    from evals.run import BASELINE, evaluate

    try:
        report, problems, path = evaluate(suite, out, baseline or BASELINE)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(report, default=str))
    else:
        typer.echo(path.with_suffix(".md").read_text(encoding="utf-8"))
        typer.echo(f"report: {path} and {path.with_suffix('.md')}", err=True)
    if problems:
        raise typer.Exit(1)
