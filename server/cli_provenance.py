"""CLI commands for provenance: genealogy tree, licences, attribution, citations, regenerate,
and the Neo4j mirror sync. Registered on `server.cli.app` (imported at the end of cli.py)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.tree import Tree

from server import runner
from server.cli import Bars, JsonOpt, app, console, emit, out, run, settings
from storage import artifacts as artifacts_db
from storage import db, library
from storage.errors import BadInput
from storage.settings import Settings
from tools import provenance as prov


async def precheck_commercial(cfg: Settings, items: list[str], owner: str = "local") -> None:
    """Refuse a commercial export before submitting, for sources already in the library
    (library ids, or files whose content is already imported); the graph checks the rest."""
    ids: list[str] = []
    async with db.session(cfg) as s:
        for item in items:
            path = Path(item).expanduser()
            if "://" not in item and path.is_file():
                row = await library.find_by_hash(s, owner, hashlib.sha256(
                    path.read_bytes()).hexdigest())
                if row is not None and row.deleted_at is None:
                    ids.append(row.id)
            elif "://" not in item:
                ids.append(item)
    if ids:
        await prov.check_commercial_use(cfg, ids, owner=owner)


def _tree(gen: dict[str, Any], lic: dict[str, Any]) -> Tree:
    art = gen["artifact"]
    root = Tree(f"[bold]{art['title']}[/bold] [dim]({art['kind']} {art['artifact_id']}, "
                f"{art['status']}, owner {gen['owner']}, job {gen['run']['job_id']})[/dim]")
    titles = {s["source_id"]: s.get("title") or s["source_id"] for s in gen["sources"]}
    srcs = root.add("[bold]sources[/bold]")
    for s in gen["sources"]:
        who = ", ".join(s.get("authors", [])[:3]) + (" et al." if len(s.get("authors", [])) > 3
                                                     else "")
        srcs.add(f"{s.get('title') or s['source_id']} [dim]{who} {s.get('year') or ''} "
                 f"licence={s['licence']}{' MISSING' if s.get('missing') else ''}[/dim]")
    segs = root.add(f"[bold]segments[/bold] ({len(gen['segments'])})")
    for g in gen["segments"]:
        node = segs.add(f"[{g['seq']}] {g['speaker'] or ''}: {g['text'][:100]} "
                        f"[dim]support={g['support']}[/dim]")
        for c in g["chunks"]:
            if c.get("missing"):
                node.add(f"[red]chunk {c['chunk_id']} missing[/red]")
                continue
            where = f"p.{c['page']}" if c.get("page") else f"chars {c['char_start']}"
            leaf = node.add(f"chunk {c['chunk_id'][:8]} {where} "
                            f"[dim]{' > '.join(c['heading_path'])[:60]}[/dim]")
            if c["quote"]:
                leaf.add(f"\u201c{c['quote'][:140]}\u201d")
            leaf.add(f"[dim]source: {titles.get(c['source_id'], c['source_id'])[:70]}[/dim]")
    root.add("[bold]models[/bold]: " + ", ".join(m["model"] for m in gen["models"]))
    root.add("[bold]voices[/bold]: " + ", ".join(f"{v['voice']} ({v.get('host', '')})"
                                                 for v in gen["voices"]))
    root.add(f"[bold]licences[/bold]: {', '.join(lic['licences'])}; commercial use "
             f"{lic['commercial_use']}, attribution {lic['attribution']}, share-alike "
             f"{lic['share_alike']}, derivatives {lic['derivatives']}")
    v = gen["versions"]
    if v["previous"] or v["newer"]:
        root.add(f"[bold]versions[/bold]: version of {v['version_of'] or '-'}; newer: "
                 f"{', '.join(v['newer']) or '-'}")
    return root


@app.command("provenance")
def provenance_cmd(
    target: Annotated[str, typer.Argument(help="An artifact id, or `sync` to rebuild Neo4j.")],
    tree: Annotated[bool, typer.Option("--tree", help="Rich tree (the default).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The genealogy of an artifact: segments -> chunks -> sources, models, voices, licences."""
    cfg = settings()
    if target == "sync":
        from storage.neo4j_mirror import sync

        counts = run(sync(cfg))
        emit(counts) if as_json else out.print(
            f"neo4j mirror rebuilt: {counts['edges']} edges, {counts['nodes']} nodes")
        return

    async def _go() -> tuple[dict[str, Any], dict[str, Any]]:
        return (await prov.genealogy(cfg, target), await prov.licences(cfg, target))

    gen, lic = run(_go())
    if as_json and not tree:
        emit({**gen, "licences": lic})
        return
    out.print(_tree(gen, lic))


@app.command("licences")
def licences_cmd(artifact_id: str, as_json: JsonOpt = False) -> None:
    """What an artifact may be used for, given its sources' licences."""
    cfg = settings()
    lic = run(prov.licences(cfg, artifact_id))
    if as_json:
        emit(lic)
        return
    out.print(f"licences: {', '.join(lic['licences'])}\n  commercial use: "
              f"{lic['commercial_use']}\n  attribution: {lic['attribution']}\n  share-alike: "
              f"{lic['share_alike']}\n  derivatives: {lic['derivatives']}")
    for s in lic["sources"]:
        out.print(f"  - {s['licence']:<14} {s['title'] or s['source_id'] + ' (removed)'}")
    for label, key in (("blocks commercial use", "blocking_commercial"),
                       ("forbids derivatives", "blocking_derivatives"),
                       ("licence unknown", "unknown")):
        for s in lic[key]:
            out.print(f"  [yellow]{label}:[/yellow] {s['title']} ({s['source_id']})")
    for note in lic["notes"]:
        out.print(f"  note: {note}")


@app.command("attribution")
def attribution_cmd(artifact_id: str, as_json: JsonOpt = False) -> None:
    """Credits / show notes naming every source (APA-like)."""
    cfg = settings()
    res = run(prov.attribution(cfg, artifact_id))
    if as_json:
        emit(res)
    else:
        out.print(res["text"], markup=False)


@app.command("citations")
def citations_cmd(
    source_id: str,
    depth: Annotated[int, typer.Option(min=1, max=5)] = 1,
    as_json: JsonOpt = False,
) -> None:
    """The citation network around a source (CITES edges among library sources)."""
    cfg = settings()
    net = run(prov.citation_network(cfg, source_id, depth))
    if as_json:
        emit(net)
        return
    titles = {n["source_id"]: n["title"] or n["source_id"] for n in net["nodes"]}
    for e in net["edges"]:
        out.print(f"{titles.get(e['from'], e['from'])[:50]} -CITES-> "
                  f"{titles.get(e['to'], e['to'])[:50]} [dim]({e['matched_by']} "
                  f"{e['score']})[/dim]")
    if not net["edges"]:
        out.print("no citations to or from library sources")


@app.command("regenerate")
def regenerate_cmd(
    artifact_id: str,
    param: Annotated[list[str] | None, typer.Option(
        "--param", help="Override a recipe parameter: k=v (v parsed as JSON if it can be).")
    ] = None,
    reason: Annotated[str | None, typer.Option(help="Why (kept with the job).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make an artifact again from its recipe; the new one is VERSION_OF the original."""
    cfg = settings()

    async def _go() -> tuple[Any, bool | None]:
        job_id = await prov.regenerate(cfg, artifact_id, parse_params(param or []), reason)
        bars = Bars(enabled=not as_json and sys.stderr.isatty())
        bars.add(job_id, "regenerate")
        with bars.progress:
            job = await runner.run_job(cfg, job_id, bars)
        same = None
        if job.status == "completed":
            async with db.session(cfg) as s:
                old = await artifacts_db.segments(s, artifact_id)
                new = await artifacts_db.segments(s, job.result["artifact_id"])
            same = ([(g.text, g.meta.get("citations")) for g in old]
                    == [(g.text, g.meta.get("citations")) for g in new])
        return job, same

    job, same = run(_go())
    if job.status != "completed":
        console.print(f"[red]failed:[/red] {job.error} (job {job.id})")
        raise typer.Exit(1)
    row = {"artifact_id": job.result["artifact_id"], "version_of": artifact_id,
           "job_id": job.id, "identical_script": same, "files": job.result.get("files")}
    if as_json:
        emit(row)
    else:
        out.print(f"[green]regenerated[/green]: artifact_id={row['artifact_id']} (version of "
                  f"{artifact_id}), job_id={job.id}, script "
                  f"{'identical' if same else 'changed'}")


def parse_params(items: list[str]) -> dict[str, Any]:
    """`k=v` pairs into a dict (values parsed as JSON when they parse)."""
    res: dict[str, Any] = {}
    for p in items:
        if "=" not in p:
            raise BadInput(f"--param {p!r} is not k=v")
        k, v = p.split("=", 1)
        res[k.strip()] = prov.parse_value(v)
    return res
