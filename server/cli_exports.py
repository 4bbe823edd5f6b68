"""`librarian make report|ebook|flashcards|quiz|newsletter|slides`: written exports.

Each command's options come from its parameters model (`agents.doc_requests`): the same names,
help texts and checks as the REST body. The body runs over the client protocol like `make
podcast` (in-process, or against LIBRARIAN_API_URL) and prints every file's path.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, get_args

import typer
from pydantic.fields import FieldInfo

from agents.doc_requests import DOC_PARAMS
from agents.requests import REQUESTS
from server.cli_common import JsonOpt, call, console, emit, follow, out
from server.cli_make import From, RequestFile, app, build, library_ids, opt

if TYPE_CHECKING:
    from server.client import Client

HELP = {"report": "Make a report (Markdown, HTML, PDF): themes across sources, cited paragraphs.",
        "ebook": "Make an EPUB 3 ebook: chapters, footnote citations, cover, colophon.",
        "flashcards": "Make Anki flashcards (.apkg and CSV) whose answers quote the sources.",
        "quiz": "Make a multiple-choice quiz (JSON, HTML) with a cited answer key.",
        "newsletter": "Make a newsletter: HTML e-mail, plain text and Markdown, items cited.",
        "slides": "Make a slide deck (PPTX, PDF) whose speaker notes cite the sources."}
OutDir = Annotated[Path | None, typer.Option("--out", help="Copy the files into this folder.")]


def _option(kind: str, name: str, field: FieldInfo) -> inspect.Parameter:
    """A CLI option for one model field (help and default shown from the model)."""
    model = DOC_PARAMS[kind]
    flag = "--" + name.replace("_", "-")
    if field.annotation is bool:
        ann: Any = Annotated[bool | None, opt(model, name, f"{flag}/--no-{name}")]
    else:
        base = next((a for a in get_args(field.annotation) if a is not type(None)),
                    field.annotation)
        ann = Annotated[int | None if base is int else str | None, opt(model, name, flag)]
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ann)


def command(kind: str) -> Any:
    """The `make KIND` command, with one option per field of the kind's parameters."""
    kw = inspect.Parameter.KEYWORD_ONLY

    def body(**given: Any) -> None:
        request, out_dir, as_json = given.pop("request"), given.pop("out_dir"), given.pop(
            "as_json")
        given["sources"] = given.pop("sources_")
        req = build(REQUESTS[kind], kind, request, given)
        job = call(lambda lib: make_all(lib, req, out_dir, as_json))
        finish(kind, job, as_json)

    params = [inspect.Parameter("sources_", kw, default=None, annotation=From),
              inspect.Parameter("request", kw, default=None, annotation=RequestFile)]
    params += [_option(kind, n, f) for n, f in DOC_PARAMS[kind].model_fields.items()]
    params += [inspect.Parameter("out_dir", kw, default=None, annotation=OutDir),
               inspect.Parameter("as_json", kw, default=False, annotation=JsonOpt)]
    body.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    body.__doc__ = HELP[kind]
    return body


async def make_all(lib: Client, req: Any, out_dir: Path | None, as_json: bool
                   ) -> dict[str, Any]:
    """Import, submit, wait; then every file of the artifact (copied into `out_dir`)."""
    req = req.model_copy(update={"sources": await library_ids(lib, list(req.sources), as_json)})
    job = await lib.export(req)
    job = await follow(lib, job, job["graph"], as_json)
    if job["status"] == "completed":
        aid = job["result"]["artifact_id"]
        paths = {}
        for role, key in job["result"]["files"].items():
            dest = out_dir / str(key).split("/", 2)[2] if out_dir else None
            paths[role] = str(await lib.download(aid, role, dest))
        job["paths"] = paths
    return job


def finish(kind: str, job: dict[str, Any], as_json: bool) -> None:
    if job["status"] != "completed":
        console.print(f"[red]failed:[/red] {job['error']} (job {job['job_id']})")
        raise typer.Exit(1)
    r = job["result"]
    row = {"artifact_id": r["artifact_id"], "job_id": job["job_id"], "kind": kind,
           "title": r["title"], "paths": job["paths"], "segments": r["segments"],
           "attributed_segments": r["attributed_segments"], "mean_support": r["mean_support"],
           "writer": r["writer"], "licence": r["licence"]}
    if as_json:
        return emit(row)
    out.print(f"[green]{kind} ready[/green]: {r['title']}\n  artifact_id={r['artifact_id']} "
              f"job_id={job['job_id']}\n  {r['segments']} segments, "
              f"{r['attributed_segments']} cited, mean support {r['mean_support']:.2f}, "
              f"writer={r['writer']}")
    for role, path in job["paths"].items():
        if not role.startswith("image-"):
            out.print(f"  {role}: {path}")


for _kind in DOC_PARAMS:
    app.command(_kind)(command(_kind))
