"""Library commands: import, sources, show, search, edit, delete, reprocess."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from server.cli_common import (
    Bars,
    JsonOpt,
    call,
    console,
    emit,
    emit_rows,
    fail,
    follow,
    out,
    settings,
    table,
)

if TYPE_CHECKING:
    from server.client import Client

app = typer.Typer(rich_markup_mode=None)


async def expand(items: list[str], playlist_limit: int) -> list[str]:
    """Playlist URLs become their videos' URLs; everything else stays as given."""
    expanded: list[str] = []
    for item in items:
        if "://" in item and "list=" in item:
            from agents.media import expand_playlist
            from tools.media import youtube_playlist_id

            if youtube_playlist_id(item):
                expanded += await expand_playlist(item, settings(), playlist_limit)
                continue
        expanded.append(item)
    return expanded


def _print_import(row: dict[str, Any]) -> None:
    if row["status"] != "completed":
        console.print(f"[red]failed[/red] {row['input']}: {row['error']}")
        return
    dup = " (already in the library)" if row.get("duplicate") else ""
    out.print(f"[green]imported[/green] {row['input']}{dup}\n  source_id={row['source_id']}"
              f" kind={row['kind']} pages={row.get('pages')} chunks={row['chunks']} "
              f"licence={row.get('licence') or 'unknown'}\n  title: {row['title']}\n"
              f"  job_id={row['job_id']}")


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
    async def go(lib: Client) -> int:
        from storage.errors import BadInput

        failed = 0
        bars = Bars.unless(as_json)
        with bars.progress:
            for item in await expand(inputs, playlist_limit):
                try:
                    job = await lib.import_item(item, kind=kind, priority=priority)
                except BadInput as exc:  # this input only: the others still go
                    row = {"input": item, "job_id": None, "status": "failed", "error": str(exc)}
                else:
                    bars.add(job["job_id"], Path(item).name or item)
                    job = await lib.wait(job["job_id"], bars)
                    row = {"input": item, "job_id": job["job_id"], "status": job["status"],
                           **job["result"]}
                    if job["status"] != "completed":
                        row["error"] = job["error"]
                failed += row["status"] != "completed"
                emit(row) if as_json else _print_import(row)
        return failed

    if call(go):
        raise typer.Exit(1)


@app.command()
def sources(
    kind: Annotated[str | None, typer.Option()] = None,
    limit: Annotated[int, typer.Option(min=1)] = 100,
    as_json: JsonOpt = False,
) -> None:
    """List the library's sources."""
    rows = call(lambda lib: lib.sources(kind=kind, limit=limit))
    if as_json:
        return emit_rows(rows)
    table(["source_id", "kind", "title", "pages", "chunks", "licence"],
          [[r["source_id"], r["kind"], r["title"][:70], r["pages"], r["chunks"],
            r["licence"] or "unknown"] for r in rows])


@app.command()
def show(source_id: str, as_json: JsonOpt = False) -> None:
    """Show one source with its sections, figures and licence."""
    info = call(lambda lib: lib.source(source_id))
    if as_json:
        return emit(info)
    out.print(f"[bold]{info['title']}[/bold]  ({info['kind']}, {info['source_id']})")
    if info["authors"]:
        out.print("by " + ", ".join(map(str, info["authors"])))
    out.print(f"pages={info['pages']} chunks={info['chunks']} "
              f"licence={info['licence'] or 'unknown'}")
    if info["abstract"]:
        out.print(f"\n[bold]Abstract[/bold]\n{info['abstract']}")
    out.print("\n[bold]Sections[/bold]")
    for sec in info["sections"]:
        out.print(f"  {sec}")
    out.print(f"\n[bold]Figures and tables[/bold] ({len(info['figures'])})")
    for f in info["figures"]:
        out.print(f"  p.{f['page']} {(f['caption'] or '')[:100]}")
    out.print(f"\n[bold]References[/bold] ({info['references']})")


@app.command()
def search(
    query: str,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 5,
    mode: Annotated[str, typer.Option(
        help="hybrid (meaning + exact terms), dense (meaning) or sparse (exact terms)")
    ] = "hybrid",
    source: Annotated[list[str] | None, typer.Option(help="Only this source id (repeatable).")
                      ] = None,
    kind: Annotated[list[str] | None, typer.Option(help="Only this kind (repeatable).")] = None,
    language: Annotated[list[str] | None, typer.Option(
        help="Only this language, e.g. en (repeatable).")] = None,
    licence: Annotated[list[str] | None, typer.Option(
        help="Only this licence, e.g. CC-BY-4.0 (repeatable).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Search the library by meaning and exact terms: chunk text, source, page, score."""
    from pydantic import ValidationError

    from agents.requests import SearchRequest, first_error

    try:
        req = SearchRequest.model_validate({
            "q": query, "limit": limit, "mode": mode, "source": source or [],
            "kind": kind or [], "language": language or [], "licence": licence or []})
    except ValidationError as exc:
        fail(first_error(exc), 2)
    hits = call(lambda lib: lib.search(req))
    if as_json:
        return emit_rows(hits)
    out.print(f"[dim]{req.mode} search[/dim]")
    if not hits:
        out.print("no matches")
    for h in hits:
        from tools.media import timestamp

        where = f"p.{h['page']}" if h["page"] else (
            f"at {timestamp(h['start_s'])}" if h["start_s"] is not None else "")
        out.print(f"[bold]{h['score']:.3f}[/bold] {h['title'][:60]} {where} "
                  f"[dim]{' > '.join(h['heading_path'])}[/dim]")
        out.print(f"    {h['text'][:300]}")
        if h["link"]:
            out.print(f"    [link={h['link']}]{h['link']}[/link]")


@app.command()
def reindex(
    reembed: Annotated[bool, typer.Option(
        "--reembed", help="Embed every chunk again instead of keeping stored vectors.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Rebuild the search index from the library (migrates an index made before hybrid search)."""
    import asyncio

    from services import catalog
    from storage import db
    from storage.errors import LibrarianError

    cfg = settings()
    if cfg.api_url:
        fail("reindex runs where the library is (unset LIBRARIAN_API_URL on the server)", 2)

    async def go() -> dict[str, Any]:
        try:
            return await catalog.reindex(cfg, reembed=reembed)
        finally:
            await db.dispose()

    try:
        done = asyncio.run(go())
    except LibrarianError as exc:
        fail(str(exc))
    if as_json:
        return emit(done)
    out.print(f"reindexed {done['chunks']} chunks ({done['kept']} vectors kept, "
              f"{done['embedded']} embedded) into {done['collection']}")


@app.command()
def edit(
    source_id: str,
    title: Annotated[str | None, typer.Option()] = None,
    authors: Annotated[str | None, typer.Option(help="Semicolon-separated names.")] = None,
    published: Annotated[str | None, typer.Option(help="Date, e.g. 2021-05-04.")] = None,
    licence: Annotated[str | None, typer.Option(help="SPDX id, e.g. CC-BY-4.0.")] = None,
    language: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Correct a source's metadata (kept when the source is reprocessed)."""
    patch: dict[str, Any] = {k: v for k, v in {
        "title": title, "published": published, "licence": licence, "language": language,
        "authors": [a.strip() for a in authors.split(";") if a.strip()] if authors else None,
    }.items() if v is not None}
    row = call(lambda lib: lib.update_source(source_id, patch))
    if as_json:
        return emit(row)
    out.print(f"updated {source_id}: {', '.join(sorted(patch)) or 'nothing'}")


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
    res = call(lambda lib: lib.delete_source(source_id, hard=hard, cascade=cascade))
    if as_json:
        return emit(res)
    out.print(f"deleted ({res['deleted']}) {source_id}")
    if res.get("dependent_artifacts"):
        out.print(f"[yellow]artifacts built from it:[/yellow] {res['dependent_artifacts']}")


@app.command()
def reprocess(source_id: str, as_json: JsonOpt = False) -> None:
    """Extract a source's stored original again (metadata you edited is kept)."""
    async def go(lib: Client) -> dict[str, Any]:
        return await follow(lib, await lib.reprocess(source_id), "reprocess", as_json)

    job = call(go)
    if as_json:
        emit(job)
    else:
        out.print(f"reprocess: job {job['job_id']} is {job['status']}"
                  + (f" ({job['error']})" if job["error"] else ""))
    if job["status"] != "completed":
        raise typer.Exit(1)
