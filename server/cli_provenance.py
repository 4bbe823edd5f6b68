"""Provenance commands: provenance (genealogy tree), licences, attribution, impact,
generated-content, citations, recipe, artifacts, regenerate; and the Neo4j mirror sync."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from server.cli_common import JsonOpt, call, console, emit, emit_rows, fail, follow, out, table

if TYPE_CHECKING:
    from rich.tree import Tree

    from server.client import Client, ProvenanceKind

app = typer.Typer(rich_markup_mode=None)
TargetId = Annotated[str, typer.Argument(help="An artifact id (or a source id with --source).")]
SourceFlag = Annotated[bool, typer.Option("--source", help="TARGET_ID is a source.")]


def kind_of(source: bool) -> ProvenanceKind:
    return "source" if source else "artifact"


def _tree(gen: dict[str, Any], lic: dict[str, Any]) -> Tree:
    from rich.tree import Tree

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
    target: Annotated[str, typer.Argument(help="An artifact id (a source id with --source), "
                                               "or `sync` to rebuild Neo4j.")],
    tree: Annotated[bool, typer.Option("--tree", help="Rich tree (the default).")] = False,
    source: SourceFlag = False,
    as_json: JsonOpt = False,
) -> None:
    """The genealogy of an artifact: segments -> chunks -> sources, models, voices, licences
    (of a source: origin, import job, licence evidence, what was made from it)."""
    if target == "sync":
        _sync(as_json)
        return
    if source:
        gen = call(lambda lib: lib.provenance("source", target, "genealogy"))
        return emit(gen) if as_json else _print_source(gen)

    async def go(lib: Client) -> tuple[dict[str, Any], dict[str, Any]]:
        return (await lib.provenance("artifact", target, "genealogy"),
                await lib.provenance("artifact", target, "licenses"))

    gen, lic = call(go)
    if as_json and not tree:
        return emit({**gen, "licences": lic})
    out.print(_tree(gen, lic))


def _print_source(gen: dict[str, Any]) -> None:
    src, origin = gen["source"], gen["origin"]
    out.print(f"[bold]{src.get('title')}[/bold] [dim]({src.get('kind')} {src['source_id']}, "
              f"owner {gen['owner']}, job {gen['run']['job_id']})[/dim]")
    out.print(f"  from {origin['url'] or origin['filename']} (sha256 {origin['content_hash']})")
    out.print(f"  licence {gen['licence']['licence']}: {gen['licence']['evidence'] or '-'}")
    out.print(f"  cites {len(gen['cites'])} library source(s); "
              f"{len(gen['generated_content'])} artifact(s) made from it")


def _sync(as_json: bool) -> None:
    import asyncio

    from server.cli_common import settings
    from storage.errors import LibrarianError
    from storage.neo4j_mirror import sync

    try:
        counts = asyncio.run(sync(settings()))
    except LibrarianError as exc:
        fail(str(exc))
    if as_json:
        return emit(counts)
    out.print(f"neo4j mirror rebuilt: {counts['edges']} edges, {counts['nodes']} nodes")


def print_licences(lic: dict[str, Any]) -> None:
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


@app.command("licences")
def licences_cmd(target_id: TargetId, source: SourceFlag = False,
                 as_json: JsonOpt = False) -> None:
    """What an artifact (or a source) may be used for, given the licences involved."""
    lic = call(lambda lib: lib.provenance(kind_of(source), target_id, "licenses"))
    if as_json:
        return emit(lic)
    print_licences(lic)


@app.command("attribution")
def attribution_cmd(target_id: TargetId, source: SourceFlag = False,
                    as_json: JsonOpt = False) -> None:
    """Credits / show notes naming every source (APA-like); for a source, its reference."""
    res = call(lambda lib: lib.provenance(kind_of(source), target_id, "attribution"))
    if as_json:
        return emit(res)
    out.print(res["text"], markup=False)


@app.command("impact")
def impact_cmd(target_id: TargetId, source: SourceFlag = False,
               as_json: JsonOpt = False) -> None:
    """Derivative works of an artifact or a source (versions, artifacts made from it) and what
    cites it."""
    res = call(lambda lib: lib.provenance(kind_of(source), target_id, "impact"))
    if as_json:
        return emit(res)
    works = res["derivative_works"]
    out.print(f"{target_id}: {len(works)} derivative work(s), cited by {len(res['citing'])}")
    for w in works:
        out.print(f"  {w['artifact_id']} {w['kind']} {w['title']!r} ({w['via']} {w['from']})")
    for k, v in (res.get("metrics") or {}).items():
        out.print(f"  {k}: {v}")


@app.command("generated-content")
def generated_content_cmd(source_id: str, as_json: JsonOpt = False) -> None:
    """Every artifact built from a source, directly or through versions."""
    rows = call(lambda lib: lib.provenance("source", source_id, "generated-content"))
    if as_json:
        return emit_rows(rows)
    if not rows:
        out.print(f"nothing generated from {source_id} yet")
    table(["artifact_id", "kind", "title", "status", "via"],
          [[a["artifact_id"], a["kind"], a["title"][:60], a["status"], a["via"]] for a in rows])


@app.command("citations")
def citations_cmd(
    source_id: str,
    depth: Annotated[int, typer.Option(min=1, max=5)] = 1,
    as_json: JsonOpt = False,
) -> None:
    """The citation network around a source (CITES edges among library sources)."""
    net = call(lambda lib: lib.provenance("source", source_id, "citations", depth=depth))
    if as_json:
        return emit(net)
    titles = {n["source_id"]: n["title"] or n["source_id"] for n in net["nodes"]}
    for e in net["edges"]:
        out.print(f"{titles.get(e['from'], e['from'])[:50]} -CITES-> "
                  f"{titles.get(e['to'], e['to'])[:50]} [dim]({e['matched_by']} "
                  f"{e['score']})[/dim]")
    if not net["edges"]:
        out.print("no citations to or from library sources")


def request_file(recipe: dict[str, Any]) -> dict[str, Any]:
    """An artifact's recipe as a request file for `librarian make FORMAT --request`."""
    params = {k: v for k, v in (recipe.get("parameters") or {}).items()
              if k not in {"sources", "owner", "version_of", "reason"}}
    return {"format": recipe.get("graph"), "sources": list(recipe.get("sources") or []),
            **params}


@app.command("recipe")
def recipe_cmd(
    artifact_id: str,
    out_file: Annotated[Path | None, typer.Option(
        "--out", help="Write the request here (.yaml or .json).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """How an artifact was made, as a request file: `librarian make podcast --request FILE`."""
    req = request_file(call(lambda lib: lib.provenance("artifact", artifact_id, "recipe")))
    if out_file is not None:
        import json

        import yaml

        out_file.write_text(json.dumps(req, indent=2) if out_file.suffix == ".json"
                            else yaml.safe_dump(req, sort_keys=False), encoding="utf-8")
        console.print(f"request written to {out_file}")
    if as_json:
        return emit(req)
    if out_file is None:
        import yaml

        out.print(yaml.safe_dump(req, sort_keys=False), markup=False, end="")


@app.command("artifacts")
def artifacts_cmd(
    kind: Annotated[str | None, typer.Option(help="podcast, video, ...")] = None,
    limit: Annotated[int, typer.Option(min=1, max=500)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Generated artifacts, newest first."""
    rows = call(lambda lib: lib.artifacts(kind=kind, limit=limit))
    if as_json:
        return emit_rows(rows)
    table(["artifact_id", "kind", "title", "status", "duration", "created"],
          [[a["artifact_id"], a["kind"], a["title"][:60], a["status"],
            f"{a['duration_s']:.0f}s" if a["duration_s"] else "", str(a["created_at"])[:19]]
           for a in rows])


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
    overrides = parse_params(param or [])

    async def go(lib: Client) -> dict[str, Any]:
        job = await follow(lib, await lib.regenerate(artifact_id, overrides, reason),
                           "regenerate", as_json)
        if job["status"] == "completed":
            old = await lib.provenance("artifact", artifact_id, "genealogy")
            new = await lib.provenance("artifact", job["result"]["artifact_id"],
                                       "genealogy")
            job["identical_script"] = script_of(old) == script_of(new)
        return job

    job = call(go)
    if job["status"] != "completed":
        console.print(f"[red]failed:[/red] {job['error']} (job {job['job_id']})")
        raise typer.Exit(1)
    row = {"artifact_id": job["result"]["artifact_id"], "version_of": artifact_id,
           "job_id": job["job_id"], "identical_script": job["identical_script"],
           "files": job["result"].get("files")}
    if as_json:
        return emit(row)
    out.print(f"[green]regenerated[/green]: artifact_id={row['artifact_id']} (version of "
              f"{artifact_id}), job_id={row['job_id']}, script "
              f"{'identical' if row['identical_script'] else 'changed'}")


def script_of(genealogy: dict[str, Any]) -> list[tuple[str, list[str]]]:
    return [(g["text"], [c["chunk_id"] for c in g["chunks"]]) for g in genealogy["segments"]]


def parse_params(items: list[str]) -> dict[str, Any]:
    """`k=v` pairs into a dict (values parsed as JSON when they parse, else strings)."""
    from services.lineage import parse_value

    res: dict[str, Any] = {}
    for p in items:
        if "=" not in p:
            fail(f"--param {p!r} is not k=v", 2)
        k, v = p.split("=", 1)
        res[k.strip()] = parse_value(v)
    return res
