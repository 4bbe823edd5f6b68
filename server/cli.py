"""The `librarian` command line: import, search, make, jobs (typer + rich)."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from server import runner
from storage import db, library, vectors
from storage import jobs as jobs_db
from storage.errors import Forbidden, LibrarianError
from storage.settings import Settings, get_settings
from tools import catalog
from tools.media import timestamp

app = typer.Typer(help="Librarian: import knowledge, generate traced podcasts from it.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
make_app = typer.Typer(help="Generate content from library sources.", no_args_is_help=True)
app.add_typer(make_app, name="make")
console = Console(stderr=True, soft_wrap=True)  # one error = one line, even when piped
out = Console(highlight=False, soft_wrap=True)
T = TypeVar("T")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object per line.")]


def settings() -> Settings:
    try:
        return get_settings()
    except LibrarianError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine; library errors become one red line and exit code 1."""
    async def _wrapped() -> T:
        try:
            return await coro
        finally:
            await db.dispose()
            vectors.close()
            vectors.close()  # local Qdrant: release the folder lock before interpreter exit

    try:
        return asyncio.run(_wrapped())
    except LibrarianError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def emit(obj: dict[str, Any]) -> None:
    out.print(json.dumps(obj, default=str, ensure_ascii=False), markup=False, highlight=False)


class Bars:
    """Rich progress bars fed by job events (one bar per job)."""

    def __init__(self, enabled: bool) -> None:
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.percentage:>3.0f}%"),
                                 TextColumn("[dim]{task.fields[msg]}"), TimeElapsedColumn(),
                                 console=console, disable=not enabled, transient=False)
        self.tasks: dict[str, TaskID] = {}

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


@app.command("import")
def import_(
    inputs: Annotated[list[str], typer.Argument(help="Files or http(s) URLs.")],
    kind: Annotated[str | None, typer.Option(help="Kind hint (pdf, webpage, document).")] = None,
    priority: Annotated[int, typer.Option(min=1, max=10)] = 5,
    playlist_limit: Annotated[int, typer.Option(min=1, max=500,
                                                help="Videos taken from a playlist URL.")] = 10,
    as_json: JsonOpt = False,
) -> None:
    """Import papers, PDFs, web pages, documents, videos and audio into the library."""
    cfg = settings()
    if cfg.api_url:
        return _remote_import(cfg, inputs, kind, priority, as_json)

    async def _go() -> int:
        from agents.media import expand_playlist
        from tools.media import youtube_playlist_id

        failed = 0
        expanded: list[str] = []
        for item in inputs:
            expanded += (await expand_playlist(item, cfg, playlist_limit)
                         if youtube_playlist_id(item) else [item])
        bars = Bars(enabled=not as_json and sys.stderr.isatty())
        with bars.progress:
            for item in expanded:
                job_id = await runner.submit(cfg, "ingest", {"source": item, **(
                    {"kind": kind} if kind else {})}, priority=priority)
                bars.add(job_id, Path(item).name or item)
                job = await runner.run_job(cfg, job_id, bars)
                row = {"input": item, "job_id": job_id, "status": job.status, **job.result}
                if job.status != "completed":
                    failed += 1
                    row["error"] = job.error
                if as_json:
                    emit(row)
                elif job.status == "completed":
                    dup = " (already in the library)" if job.result.get("duplicate") else ""
                    out.print(f"[green]imported[/green] {item}{dup}\n  source_id={row['source_id']}"
                              f" kind={row['kind']} pages={row.get('pages')} "
                              f"chunks={row['chunks']} licence={row.get('licence') or 'unknown'}"
                              f"\n  title: {row['title']}\n  job_id={job_id}")
                else:
                    console.print(f"[red]failed[/red] {item}: {job.error}")
        return failed

    failed = run(_go())
    if failed:
        raise typer.Exit(1)


@app.command()
def sources(
    kind: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List the library's sources."""
    cfg = settings()
    if cfg.api_url:
        return _remote_rows(cfg, "/api/content", {"kind": kind, "limit": limit})

    async def _go() -> list[dict[str, Any]]:
        async with db.session(cfg) as s:
            rows = await library.list_sources(s, kind=kind, limit=limit)
            counts = await library.chunk_counts(s, [r.id for r in rows])
        return [catalog.describe(r, counts.get(r.id, 0)) for r in rows]

    rows = run(_go())
    if as_json:
        for r in rows:
            emit(r)
        return
    table = Table("source_id", "kind", "title", "pages", "chunks", "licence")
    for r in rows:
        table.add_row(r["source_id"], r["kind"], r["title"][:70], str(r["pages"] or ""),
                      str(r["chunks"]), r["licence"] or "unknown")
    out.print(table)


@app.command()
def show(source_id: str, as_json: JsonOpt = False) -> None:
    """Show one source with its sections, references and figures."""
    cfg = settings()
    if cfg.api_url:
        return _remote_rows(cfg, f"/api/content/{source_id}", {})

    async def _go() -> dict[str, Any]:
        async with db.session(cfg) as s:
            src = await library.get_source(s, source_id)
            chunks = await library.source_chunks(s, source_id)
            figures = await library.source_figures(s, source_id)
        info = catalog.describe(src, len(chunks))
        sections: list[str] = []
        for c in chunks:
            path = " > ".join(c.heading_path)
            if path and path not in sections:
                sections.append(path)
        info.update(abstract=src.abstract, sections=sections, references=src.references,
                    figures=[{"label": f.label, "caption": f.caption, "page": f.page,
                              "image": f.object_key} for f in figures],
                    licence_evidence=src.licence_evidence)
        return info

    info = run(_go())
    if as_json:
        emit(info)
        return
    out.print(f"[bold]{info['title']}[/bold]  ({info['kind']}, {info['source_id']})")
    if info["authors"]:
        out.print("by " + ", ".join(info["authors"]))
    licence = info["licence"] or "unknown"
    out.print(f"pages={info['pages']} chunks={info['chunks']} licence={licence}")
    if info["abstract"]:
        out.print(f"\n[bold]Abstract[/bold]\n{info['abstract']}")
    out.print("\n[bold]Sections[/bold]")
    for sec in info["sections"]:
        out.print(f"  {sec}")
    out.print(f"\n[bold]Figures and tables[/bold] ({len(info['figures'])})")
    for f in info["figures"]:
        out.print(f"  p.{f['page']} {f['caption'][:100]}")
    out.print(f"\n[bold]References[/bold] ({len(info['references'])})")


@app.command()
def search(
    query: str,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 5,
    as_json: JsonOpt = False,
) -> None:
    """Search the library by meaning: chunk text, source, page, score."""
    cfg = settings()
    if cfg.api_url:
        return _remote_rows(cfg, "/api/search", {"q": query, "limit": limit})
    hits = run(catalog.search(cfg, query, limit=limit))
    if as_json:
        for h in hits:
            emit(h.as_dict())
        return
    if not hits:
        out.print("no matches")
    for h in hits:
        where = f"p.{h.page}" if h.page else (f"at {timestamp(h.start_s)}"
                                              if h.start_s is not None else "")
        out.print(f"[bold]{h.score:.3f}[/bold] {h.title[:60]} {where} "
                  f"[dim]{' > '.join(h.heading_path)}[/dim]")
        out.print(f"    {h.text[:300]}")
        if h.link:
            out.print(f"    [link={h.link}]{h.link}[/link]")


@app.command()
def delete(
    source_id: str,
    hard: Annotated[bool, typer.Option("--hard", help="Remove everywhere, not just hide.")] = False,
    cascade: Annotated[bool, typer.Option(
        "--cascade", help="With --hard: mark dependent artifacts orphaned instead of refusing.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Delete a source (soft by default; --hard cascades to chunks, vectors, objects, edges)."""
    cfg = settings()
    if cfg.api_url:
        return _remote_rows(cfg, f"/api/content/{source_id}", {"hard_delete": hard},
                            "DELETE")
    res = run(catalog.delete_source(cfg, source_id, hard=hard, cascade=cascade))
    if as_json:
        emit(res)
    else:
        out.print(f"deleted ({res['deleted']}) {source_id}")
        if res.get("dependent_artifacts"):
            out.print(f"[yellow]artifacts built from it:[/yellow] {res['dependent_artifacts']}")


def job_dict(job: Any) -> dict[str, Any]:
    return {"job_id": job.id, "graph": job.graph, "status": job.status, "stage": job.stage,
            "progress": job.progress, "message": job.message, "attempts": job.attempts,
            "priority": job.priority, "error": job.error, "result": job.result,
            "input": job.input, "created_at": job.created_at, "finished_at": job.finished_at}


@app.command()
def jobs(
    status: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """List jobs, newest first."""
    cfg = settings()
    if cfg.api_url:
        return _remote_rows(cfg, "/api/jobs", {"status": status, "limit": limit})

    async def _go() -> list[Any]:
        async with db.session(cfg) as s:
            return await jobs_db.list_jobs(s, status=status, limit=limit)

    rows = run(_go())
    if as_json:
        for j in rows:
            emit(job_dict(j))
        return
    table = Table("job_id", "graph", "status", "stage", "progress", "created")
    for j in rows:
        table.add_row(j.id, j.graph, j.status, j.stage or "", f"{j.progress:.0%}",
                      j.created_at.strftime("%Y-%m-%d %H:%M:%S"))
    out.print(table)


@app.command()
def job(
    job_id: str,
    show_trace: Annotated[bool, typer.Option("--trace", help="Node by node, from checkpoints.")] = (
        False),
    as_json: JsonOpt = False,
) -> None:
    """Show a job: status, stage, progress, error, result (and its trace)."""
    cfg = settings()
    if cfg.api_url:
        return _remote_job(cfg, job_id, show_trace)

    async def _go() -> dict[str, Any]:
        async with db.session(cfg) as s:
            info = job_dict(await jobs_db.get_job(s, job_id))
        if show_trace:
            info["trace"] = await runner.trace(cfg, job_id)
        return info

    info = run(_go())
    if as_json:
        emit(info)
        return
    out.print(f"[bold]{info['job_id']}[/bold] {info['graph']}: {info['status']}"
              f" ({info['progress']:.0%}{', ' + info['stage'] if info['stage'] else ''})")
    if info["error"]:
        out.print(f"[red]error:[/red] {info['error']}")
    if info["result"]:
        out.print(json.dumps(info["result"], indent=2, default=str))
    for step in info.get("trace", []):
        out.print(f"  {step['started_at']}  {step['node']:<12} wrote {step['wrote']}"
                  + (f" [red]{step['error']}[/red]" if step["error"] else ""))


def main() -> None:
    app()


if __name__ == "__main__":
    main()


@make_app.command("podcast")
def make_podcast(
    sources_: Annotated[list[str], typer.Option("--from", help="Source ids, files or URLs.")],
    minutes: Annotated[float | None, typer.Option(help="0.5 to 60 (default 5).")] = None,
    hosts: Annotated[int | None, typer.Option(help="1 to 4 (default 1 for a lecture, else 2).")
                     ] = None,
    style: Annotated[str | None, typer.Option(
        help="conversational | interview | lecture")] = None,
    voices: Annotated[str | None, typer.Option(help="Comma-separated voice ids.")] = None,
    topic: Annotated[str | None, typer.Option(help="Focus the episode on this.")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    writer: Annotated[str | None, typer.Option(help="extractive | llm")] = None,
    wav: Annotated[bool, typer.Option("--wav", help="Also write a WAV.")] = False,
    music: Annotated[bool, typer.Option(help="Intro/outro jingle.")] = True,
    max_cost: Annotated[float | None, typer.Option(help="Refuse above this cost (USD).")] = None,
    commercial: Annotated[bool, typer.Option(
        "--commercial", help="Refuse sources whose licence forbids commercial use.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Copy the MP3 here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a podcast from sources: every line cites the paragraphs it came from."""
    from agents.requests import request_of
    from graphs.podcast import preflight

    cfg = settings()
    params = request_of("podcast", {
        "sources": sources_, "minutes": minutes, "hosts": hosts, "style": style,
        "voices": voices.split(",") if voices else None, "topic": topic, "title": title,
        "writer": writer, "wav": wav, "music": music, "max_cost": max_cost,
        "commercial": commercial}).model_dump()

    async def _go() -> tuple[Any, dict[str, Any]]:
        if commercial:
            from server.cli_provenance import precheck_commercial

            await precheck_commercial(cfg, sources_)
        pre = await preflight(cfg, params)  # type: ignore[arg-type]
        est = pre["estimate"]
        if not as_json:
            console.print(f"[dim]plan: {len(pre['hosts'])} host(s) "
                          f"({', '.join(est['voices'])}), ~{est['chars']} characters to speak, "
                          f"estimated cost ${est['tts_cost_usd']:.2f}"
                          + (f", ~{est['llm_tokens']} LLM tokens" if "llm_tokens" in est else "")
                          + "[/dim]")
        if max_cost is not None and est["tts_cost_usd"] > max_cost:
            raise Forbidden(f"estimated cost ${est['tts_cost_usd']:.2f} exceeds --max-cost "
                            f"${max_cost:.2f}")
        job_id = await runner.submit(cfg, "podcast", params)
        bars = Bars(enabled=not as_json and sys.stderr.isatty())
        bars.add(job_id, "podcast")
        with bars.progress:
            job = await runner.run_job(cfg, job_id, bars)
        path = None
        if job.status == "completed":
            files = job.result["files"]
            path = await export_file(cfg, files["audio"], out_file)
            script = await export_file(
                cfg, files["script_md"], out_file.with_suffix(".md") if out_file else None)
            return job, {"path": str(path), "script": str(script)}
        return job, {"path": None, "script": None}

    job, extra = run(_go())
    if job.status != "completed":
        console.print(f"[red]failed:[/red] {job.error} (job {job.id})")
        raise typer.Exit(1)
    r = job.result
    row = {"artifact_id": r["artifact_id"], "job_id": job.id, "path": extra["path"],
           "script": extra["script"],
           "duration_s": r["duration_s"], "requested_s": r["requested_s"], "lines": r["lines"],
           "attributed_lines": r["attributed_lines"], "mean_support": r["mean_support"],
           "writer": r["writer"], "files": r["files"], "notes": r["notes"]}
    if as_json:
        emit(row)
        return
    out.print(f"[green]podcast ready[/green]: {row['path']}\n  artifact_id={row['artifact_id']} "
              f"job_id={job.id}\n  duration {row['duration_s']:.1f}s (asked "
              f"{row['requested_s']:.0f}s), {row['lines']} lines, {row['attributed_lines']} "
              f"with citations, mean support {row['mean_support']:.2f}, writer={row['writer']}"
              f"\n  script with citations: {extra['script']}")
    for note in row["notes"]:
        out.print(f"  [yellow]note:[/yellow] {note}")


async def export_file(cfg: Settings, key: str, dest: Path | None) -> Path:
    """Where a user can open an artifact file: the local object path, or a copy at `dest`."""
    from storage.objects import LocalObjects, objects

    store = objects(cfg)
    if dest is None:
        if isinstance(store, LocalObjects):
            return store.path(key)
        dest = Path.cwd() / Path(key).name
    dest.parent.mkdir(parents=True, exist_ok=True)
    return await store.get_file(key, dest)


# --- server, workers, API keys, job control (issue 4) ---------------------------------------

keys_app = typer.Typer(help="API keys for the REST server.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535)] = 8000,
) -> None:
    """Run the REST API (jobs run in-process, or on arq workers when LIBRARIAN_REDIS_URL is set)."""
    import uvicorn

    from server.app import create_app

    uvicorn.run(create_app(settings()), host=host, port=port, log_level="info")


@app.command()
def worker(
    burst: Annotated[bool, typer.Option(help="Exit when the queue is empty.")] = False,
) -> None:
    """Run an arq worker for queued jobs (needs LIBRARIAN_REDIS_URL)."""
    from server import worker as worker_mod

    worker_mod.main(settings(), burst=burst)


@keys_app.command("create")
def keys_create(
    name: str,
    owner: Annotated[str | None, typer.Option(help="Owner of the key's data (default: NAME).")]
    = None,
    admin: Annotated[bool, typer.Option(help="May switch plugins and manage keys over REST.")]
    = False,
) -> None:
    """Create a key; it is printed once and only its hash is stored (the first key is an admin)."""
    from server import auth

    row, key = run(auth.create_key(settings(), name, owner, admin=admin))
    scope = " (admin)" if row.admin else ""
    console.print(f"key {row.id} for owner {row.owner!r}{scope} (shown once, keep it):")
    out.print(key)


@keys_app.command("list")
def keys_list(as_json: JsonOpt = False) -> None:
    """List keys (never the keys themselves)."""
    from server import auth

    rows = run(auth.list_keys(settings()))
    if as_json:
        for r in rows:
            emit({"id": r.id, "name": r.name, "owner": r.owner, "admin": r.admin,
                  "created_at": r.created_at, "revoked_at": r.revoked_at})
        return
    table = Table("id", "name", "owner", "admin", "created", "revoked")
    for r in rows:
        table.add_row(r.id, r.name, r.owner, "yes" if r.admin else "", str(r.created_at)[:19],
                      str(r.revoked_at or "")[:19])
    out.print(table)


@keys_app.command("revoke")
def keys_revoke(key: Annotated[str, typer.Argument(help="Key id or name.")]) -> None:
    """Revoke a key (by id, or every live key with that name)."""
    from server import auth

    rows = run(auth.revoke_key(settings(), key))
    out.print(f"revoked {len(rows)} key(s)")


def _job_control(action: str, job_id: str, as_json: bool) -> None:
    from server import executor, remote

    cfg = settings()
    if remote.is_remote(cfg):
        path = f"/api/jobs/{job_id}" + ("" if action == "cancel" else f"/{action}")
        info = run(asyncio.to_thread(remote.call, cfg, "DELETE" if action == "cancel" else "POST",
                                     path))
    else:
        async def _go() -> dict[str, Any]:
            if action == "cancel":
                job = await runner.request_cancel(cfg, job_id)
            elif cfg.redis_url:  # a worker runs it
                job = await (executor.retry(cfg, job_id, None) if action == "retry"
                             else executor.resume(cfg, job_id, None))
            else:  # no server: run it here, from its last checkpoint
                if action == "retry":
                    await runner.prepare_retry(cfg, job_id)
                else:
                    async with db.session(cfg) as s:
                        job = await jobs_db.get_job(s, job_id)
                    if job.status in ("failed", "cancelled"):
                        await runner.prepare_retry(cfg, job_id, manual=False)
                bars = Bars(enabled=not as_json and sys.stderr.isatty())
                bars.add(job_id, action)
                with bars.progress:
                    job = await runner.run_job(cfg, job_id, bars)
            return job_dict(job)

        info = run(_go())
    if as_json:
        emit(info)
    else:
        out.print(f"{action}: job {job_id} is {info['status']}"
                  + (f" ({info['error']})" if info.get("error") else ""))


@app.command()
def retry(job_id: str, as_json: JsonOpt = False) -> None:
    """Retry a failed or cancelled job from its last checkpoint."""
    _job_control("retry", job_id, as_json)


@app.command()
def resume(job_id: str, as_json: JsonOpt = False) -> None:
    """Resume an interrupted, failed or cancelled job from its last checkpoint."""
    _job_control("resume", job_id, as_json)


@app.command()
def cancel(job_id: str, as_json: JsonOpt = False) -> None:
    """Cancel a job (at once if waiting, at the next node boundary if running)."""
    _job_control("cancel", job_id, as_json)


def _remote_rows(cfg: Settings, path: str, params: dict[str, Any], method: str = "GET") -> None:
    """LIBRARIAN_API_URL is set: ask the server; print its JSON, one object per line."""
    from server import remote

    res = run(asyncio.to_thread(remote.call, cfg, method, path,
                                params={k: v for k, v in params.items() if v is not None}))
    for row in res if isinstance(res, list) else [res]:
        emit(row)


def _remote_job(cfg: Settings, job_id: str, show_trace: bool) -> None:
    from server import remote

    info = run(asyncio.to_thread(remote.call, cfg, "GET", f"/api/jobs/{job_id}"))
    if show_trace:
        info["trace"] = run(asyncio.to_thread(remote.call, cfg, "GET",
                                              f"/api/jobs/{job_id}/trace"))
    emit(info)


def _remote_import(cfg: Settings, inputs: list[str], kind: str | None, priority: int,
                   as_json: bool) -> None:
    """Upload files / send URLs to the server and wait for each job."""
    from server import remote

    async def _go() -> int:
        failed = 0
        for item in inputs:
            job = await asyncio.to_thread(remote.import_item, cfg, item, kind, priority)
            job = await remote.wait(cfg, job["job_id"])
            row = {"input": item, "job_id": job["job_id"], "status": job["status"],
                   **job["result"]}
            if job["status"] != "completed":
                failed += 1
                row["error"] = job["error"]
            if as_json or job["status"] == "completed":
                emit(row)
            else:
                console.print(f"[red]failed[/red] {item}: {job['error']}")
        return failed

    if run(_go()):
        raise typer.Exit(1)


# Command groups kept in their own modules register themselves on `app` / `make_app`.
from server import cli_chat, cli_provenance, cli_video  # noqa: E402,F401
from server.cli_eval import eval_command  # noqa: E402

app.command("eval")(eval_command)
