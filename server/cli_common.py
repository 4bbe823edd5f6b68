"""What every `librarian` command shares: settings, the client, output, progress bars.

Kept light on purpose (typer and rich's console only): `librarian --help` and the read commands
must start in well under a second, so the storage layer, LangGraph and the vector store are
imported by the client methods that use them.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from server.client import Client
    from storage.settings import Settings

console = Console(stderr=True, soft_wrap=True)  # one error = one line, even when piped
out = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")]


def settings() -> Settings:
    from storage.errors import LibrarianError
    from storage.settings import get_settings

    try:
        return get_settings()
    except LibrarianError as exc:
        fail(str(exc), 2)


def fail(message: str, code: int = 1) -> NoReturn:
    """One red line on stderr and a non-zero exit."""
    console.print(f"[red]error:[/red] {message}", markup=True, highlight=False)
    raise typer.Exit(code)


def call(fn: Callable[[Client], Awaitable[T]]) -> T:
    """Run `fn` with the client (in-process, or the REST server when LIBRARIAN_API_URL is
    set); library errors become one red line and exit code 1, Ctrl-C exit code 130."""
    from server.client import connect
    from storage.errors import LibrarianError

    cfg = settings()

    async def go() -> T:
        async with connect(cfg) as client:
            try:
                return await fn(client)
            except asyncio.CancelledError:  # Ctrl-C: let the cancelled work clean up first
                await settle()
                raise

    try:
        return asyncio.run(go())
    except LibrarianError as exc:
        fail(str(exc))
    except KeyboardInterrupt:  # the running job was cancelled on the way out
        fail("interrupted", 130)


SETTLE_S = 5.0  # after Ctrl-C, how long cancelled work may take to clean up


async def settle() -> None:
    """Wait (a little) for the other tasks to end: after Ctrl-C, a cancelled job's nodes are
    still rolling back their sessions, and asyncio.run would cancel them mid-rollback."""
    me = asyncio.current_task()
    rest = [t for t in asyncio.all_tasks() if t is not me and not t.done()]
    if rest:
        await asyncio.wait(rest, timeout=SETTLE_S)


def _default(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else str(value)


def emit(obj: Any) -> None:
    out.print(json.dumps(obj, default=_default, ensure_ascii=False), markup=False,
              highlight=False)


def emit_rows(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        emit(row)


class Bars:
    """Rich progress bars fed by job events (one bar per job); off when piped or --json."""

    def __init__(self, enabled: bool) -> None:
        from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f}%"),
                                 TextColumn("[dim]{task.fields[msg]}"), TimeElapsedColumn(),
                                 console=console, disable=not enabled, transient=False)
        self.tasks: dict[str, TaskID] = {}

    @classmethod
    def unless(cls, as_json: bool) -> Bars:
        return cls(enabled=not as_json and sys.stderr.isatty())

    def add(self, job_id: str, label: str) -> None:
        self.tasks[job_id] = self.progress.add_task(label[:40], total=1.0, msg="queued")

    def __call__(self, event: dict[str, Any]) -> None:
        task = self.tasks.get(event["job_id"])
        if task is None:
            return
        if event["type"] == "progress":
            self.progress.update(task, completed=event["progress"],
                                 msg=f"{event['stage']}: {event['message']}"[:60])
        elif event["type"] == "status":
            done = event["status"] == "completed"
            self.progress.update(task, completed=1.0 if done else None, msg=event["status"])


async def follow(client: Client, job: dict[str, Any], label: str, as_json: bool
                 ) -> dict[str, Any]:
    """Wait for a job with a progress bar; returns the final job."""
    bars = Bars.unless(as_json)
    bars.add(job["job_id"], label)
    with bars.progress:
        return await client.wait(job["job_id"], bars)


def table(columns: list[str], rows: list[list[Any]]) -> None:
    from rich.table import Table

    t = Table(*columns)
    for r in rows:
        t.add_row(*["" if v is None else str(v) for v in r])
    out.print(t)
