"""`librarian ask` and `librarian chat`: the conversational front door (graphs/chat.py).

Jobs the conversation starts (imports, podcasts) run here, in-process, through
`server.runner`, with progress bars; Ctrl-C during a job in `librarian chat` cancels the job.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from pathlib import Path
from typing import Annotated, Any

import typer

from graphs import chat
from server import runner
from server.cli import Bars, JsonOpt, app, console, emit, out, run, settings
from storage import jobs as jobs_db
from storage.settings import Settings

ThreadOpt = Annotated[str | None, typer.Option("--thread", help="Continue this conversation.")]


def local_jobs(cfg: Settings) -> chat.RunJob:
    """Jobs run in this process (recorded in the jobs table like every other job)."""
    async def run_job(graph: str, inp: dict[str, Any], owner: str, listener: chat.Listener
                      ) -> dict[str, Any]:
        job_id = await runner.submit(cfg, graph, inp, owner=owner)
        job = await runner.run_job(cfg, job_id, listener)
        return {"job_id": job.id, "status": job.status, "error": job.error,
                "result": job.result or {}}

    return run_job


class Turn:
    """One turn: streams events into progress bars; remembers the running job for Ctrl-C."""

    def __init__(self, cfg: Settings, bars: Bars) -> None:
        self.cfg, self.bars = cfg, bars
        self.job_id: str | None = None

    def on_event(self, event: dict[str, Any]) -> None:
        job_id = event.get("job_id")
        if job_id:
            if job_id not in self.bars.tasks:
                self.bars.add(job_id, f"{event.get('graph', 'job')}: {event.get('label', '')}")
            self.job_id = None if event.get("status") in jobs_db.TERMINAL else job_id
            self.bars(event)
        elif event.get("type") == "message" and event.get("interim"):
            console.print(f"[dim]{event['text']}[/dim]")

    async def go(self, thread: str, text: str, files: list[str]) -> dict[str, Any]:
        reply: dict[str, Any] = {}
        with self.bars.progress:
            async for event in chat.converse(self.cfg, thread, text, files,
                                             run_job=local_jobs(self.cfg)):
                if event["type"] == "reply":
                    reply = event
                else:
                    self.on_event(event)
        return reply

    def cancel(self) -> None:
        """Ctrl-C: cancel the running job (it stops at its next node boundary)."""
        if self.job_id:
            console.print(f"[yellow]cancelling job {self.job_id}\u2026[/yellow]")
            asyncio.get_running_loop().create_task(runner.request_cancel(self.cfg, self.job_id))


def files_of(paths: list[Path]) -> list[str]:
    for p in paths:
        if not p.is_file():
            console.print(f"[red]error:[/red] no such file: {p}")
            raise typer.Exit(2)
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
    """Ask in words: "make a 5-minute podcast from these papers" A.pdf B.pdf, or a question."""
    cfg = settings()
    thread = thread or str(uuid.uuid4())
    attached = files_of(files or [])
    turn = Turn(cfg, Bars(enabled=not as_json and sys.stderr.isatty()))
    reply = run(turn.go(thread, text, attached))
    if as_json:
        emit({**reply, "thread_id": thread})
    else:
        show(reply)
        console.print(f"[dim]continue with: librarian ask --thread {thread} \"...\"[/dim]")
    if reply.get("status") == "failed":
        raise typer.Exit(1)


@app.command("chat")
def chat_cmd(thread: ThreadOpt = None) -> None:
    """Talk to your library. Attach files with `+path`; Ctrl-C cancels a running job;
    Ctrl-D or "exit" leaves."""
    cfg = settings()
    thread = thread or str(uuid.uuid4())
    console.print(f"[dim]conversation {thread} (resume with librarian chat --thread {thread})"
                  "[/dim]")
    while True:
        try:
            line = console.input("[bold cyan]you>[/bold cyan] ").strip()
        except (EOFError, KeyboardInterrupt):
            console.print()
            return
        if line.lower() in {"exit", "quit", ":q"}:
            return
        words = line.split()
        files = [w[1:] for w in words if w.startswith("+") and len(w) > 1]
        text = " ".join(w for w in words if not (w.startswith("+") and len(w) > 1))
        if not text and not files:
            continue
        attached = files_of([Path(f).expanduser() for f in files])
        turn = Turn(cfg, Bars(enabled=sys.stderr.isatty()))

        async def go(turn: Turn = turn, text: str = text, attached: list[str] = attached
                     ) -> dict[str, Any]:
            loop = asyncio.get_running_loop()
            loop.add_signal_handler(signal.SIGINT, turn.cancel)
            try:
                return await turn.go(thread, text or "import these", attached)
            finally:
                loop.remove_signal_handler(signal.SIGINT)

        try:
            show(run(go()))
        except typer.Exit:
            continue
