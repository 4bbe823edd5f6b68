"""`librarian ask` and `librarian chat`: the conversational front door (graphs/chat.py).

Both go through the client: in-process (jobs the conversation starts run here, with progress
bars) or, with LIBRARIAN_API_URL, the server's `POST /api/chat` stream (attached files are
uploaded first). Ctrl-C during a job in `librarian chat` cancels the job.
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from server.cli_common import Bars, JsonOpt, call, console, emit, fail, out

if TYPE_CHECKING:
    from server.client import Client

app = typer.Typer(rich_markup_mode=None)
ThreadOpt = Annotated[str | None, typer.Option("--thread", help="Continue this conversation.")]
TERMINAL = {"completed", "failed", "cancelled"}


class Turn:
    """One turn: streams events into progress bars; remembers the running job for Ctrl-C."""

    def __init__(self, lib: Client, bars: Bars) -> None:
        self.lib, self.bars = lib, bars
        self.job_id: str | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        job_id = event.get("job_id")
        if job_id:
            if job_id not in self.bars.tasks:
                self.bars.add(job_id, f"{event.get('graph', 'job')}: {event.get('label', '')}")
            self.job_id = None if event.get("status") in TERMINAL else job_id
            self.bars(event)
        elif event.get("type") == "message" and event.get("interim"):
            console.print(f"[dim]{event['text']}[/dim]")

    async def go(self, thread: str, text: str, files: list[str]) -> dict[str, Any]:
        reply: dict[str, Any] = {}
        with self.bars.progress:
            async for event in self.lib.chat(text, files, thread):
                if event["type"] == "reply":
                    reply = event
                else:
                    self.on_event(event)
        return reply

    def cancel(self) -> None:
        """Ctrl-C: cancel the running job (it stops within seconds)."""
        if self.job_id:
            console.print(f"[yellow]cancelling job {self.job_id}\u2026[/yellow]")
            asyncio.get_running_loop().create_task(self.lib.job_action(self.job_id, "cancel"))


def files_of(paths: list[Path]) -> list[str]:
    for p in paths:
        if not p.is_file():
            fail(f"no such file: {p}", 2)
    return [str(p.resolve()) for p in paths]


def show(reply: dict[str, Any]) -> None:
    text = str(reply.get("text", ""))
    style = "yellow" if reply.get("question") else ("green" if reply.get("artifact") else "blue")
    out.print(f"[bold {style}]librarian>[/bold {style}] ", end="")
    out.print(text, markup=False, highlight=False)


@app.command()
def ask(
    text: Annotated[str, typer.Argument(help="What you want, in a sentence.")],
    files: Annotated[list[Path] | None, typer.Argument(help="Files to attach.")] = None,
    thread: ThreadOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ask in words: "make a 5-minute podcast from these papers" A.pdf B.pdf, "make a short
    video about X", or a question."""
    thread = thread or str(uuid.uuid4())
    attached = files_of(files or [])
    reply = call(lambda lib: Turn(lib, Bars.unless(as_json)).go(thread, text, attached))
    if as_json:
        emit({**reply, "thread_id": thread})
    else:
        show(reply)
        console.print(f"[dim]continue with: librarian ask --thread {thread} \"...\"[/dim]")
    if reply.get("status") == "failed":
        raise typer.Exit(1)


def _read_line() -> tuple[str, list[str]] | None:
    """The next message and its `+path` attachments; None to leave."""
    try:
        line = console.input("[bold cyan]you>[/bold cyan] ").strip()
    except (EOFError, KeyboardInterrupt):
        console.print()
        return None
    if line.lower() in {"exit", "quit", ":q"}:
        return None
    words = line.split()
    files = [w[1:] for w in words if w.startswith("+") and len(w) > 1]
    text = " ".join(w for w in words if not (w.startswith("+") and len(w) > 1))
    return text, files


@app.command("chat")
def chat_cmd(thread: ThreadOpt = None, as_json: JsonOpt = False) -> None:
    """Talk to your library. Attach files with `+path`; Ctrl-C cancels a running job;
    Ctrl-D or "exit" leaves (--json: each reply as one JSON line)."""
    thread = thread or str(uuid.uuid4())
    console.print(f"[dim]conversation {thread} (resume with librarian chat --thread {thread})"
                  "[/dim]")
    while (got := _read_line()) is not None:
        text, files = got
        if not text and not files:
            continue
        try:
            attached = files_of([Path(f).expanduser() for f in files])
        except typer.Exit:
            continue

        async def go(lib: Client, text: str = text, attached: list[str] = attached
                     ) -> dict[str, Any]:
            turn = Turn(lib, Bars.unless(as_json))
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGINT, turn.cancel)
            try:
                return await turn.go(thread, text or "import these", attached)
            finally:
                loop.remove_signal_handler(signal.SIGINT)

        try:
            reply = call(go)
        except typer.Exit:
            continue
        emit({**reply, "thread_id": thread}) if as_json else show(reply)
