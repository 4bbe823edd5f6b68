"""`librarian make podcast|video`: options (or a YAML/JSON request file) build the export's
typed request (`agents.requests`), which holds every default and range; options left out keep
the file's value or the model's default. Files and URLs given with --from are imported first.

Loaded only when a `make` command runs (`server.cli` registers this group lazily, with the
written exports of `server.cli_exports`, which add their commands to this `app`), so the
request models' imports do not slow down the other commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import BaseModel, ValidationError

from agents.requests import (
    PodcastParams,
    PodcastRequest,
    RunFields,
    VideoParams,
    VideoRequest,
    first_error,
)
from server.cli_common import JsonOpt, call, console, emit, fail, follow, out

if TYPE_CHECKING:
    from server.client import Client

app = typer.Typer(rich_markup_mode=None)


def opt(model: type[BaseModel], name: str, *decls: str) -> Any:
    """A typer option whose help and shown default come from the model's field."""
    field = model.model_fields[name]
    default = field.get_default(call_default_factory=True)
    shown = f" [default: {default}]" if default is not None else ""
    return typer.Option(*decls, help=(field.description or "") + shown, show_default=False)


From = Annotated[list[str] | None, typer.Option(
    "--from", help="Source ids, files or URLs (files and URLs are imported first).")]
RequestFile = Annotated[Path | None, typer.Option(
    "--request", help="A YAML or JSON request (e.g. an artifact's `librarian recipe`); "
                      "options given here override it.", exists=True, dir_okay=False)]
OutFile = Annotated[Path | None, typer.Option("--out", help="Copy the main file here.")]


def read_request(path: Path | None) -> dict[str, Any]:
    """A request file's fields (YAML is a superset of JSON: one parser reads both)."""
    if path is None:
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        fail(f"{path}: not YAML or JSON ({str(exc).splitlines()[0]})", 2)
    if not isinstance(data, dict):
        fail(f"{path}: a request is a mapping of fields, got {type(data).__name__}", 2)
    return dict(data)


def build(model: type[RunFields], fmt: str, path: Path | None, given: dict[str, Any]
          ) -> RunFields:
    """File fields, then the options given, validated by the request model (exit 2 if bad)."""
    data = read_request(path)
    if data.pop("format", fmt) != fmt:
        fail(f"{path} is a request for another format, not {fmt}", 2)
    data.update({k: v for k, v in given.items() if v is not None})
    if not data.get("sources"):
        fail("give the sources: --from ID_FILE_OR_URL (or `sources:` in the request file)", 2)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fail(first_error(exc), 2)
        raise


async def library_ids(lib: Client, items: list[str], as_json: bool) -> list[str]:
    """Library ids for --from items: files and URLs are imported (or found) first."""
    from storage.errors import BadInput

    ids = []
    for item in items:
        if "://" in item or Path(item).expanduser().is_file():
            job = await follow(lib, await lib.import_item(item), Path(item).name or item,
                               as_json)
            if job["status"] != "completed":
                raise BadInput(f"could not import {item}: {job['error']}")
            ids.append(job["result"]["source_id"])
        else:
            ids.append(item)
    return ids


async def make(lib: Client, req: RunFields, role: str, out_file: Path | None,
               as_json: bool, logo: Path | None = None) -> dict[str, Any]:
    """Import, submit, wait, fetch the main file: the one body of every `make` command.
    A `logo` file is uploaded as the owner's image first and the request names its id."""
    if logo is not None:
        req = req.model_copy(update={"logo": await lib.upload_image(logo)})
    req = req.model_copy(update={"sources": await library_ids(lib, list(req.sources), as_json)})
    job = await lib.export(req)
    job = await follow(lib, job, job["graph"], as_json)
    if job["status"] == "completed":
        job["path"] = str(await lib.download(job["result"]["artifact_id"], role, out_file))
    return job


Languages = Annotated[str | None, typer.Option(
    "--languages", help="Make one artifact per language, e.g. es,fr: the first as asked, each "
    "other a VERSION_OF it.")]


def language_list(languages: str | None) -> list[str]:
    return [code.strip() for code in (languages or "").split(",") if code.strip()]


def out_for(out_file: Path | None, lang: str, many: bool) -> Path | None:
    """--out as given, or with the language before the suffix when several are made."""
    if out_file is None or not many:
        return out_file
    return out_file.with_name(f"{out_file.stem}.{lang}{out_file.suffix}")


async def make_each(lib: Client, req: RunFields, languages: list[str], role: str,
                    out_file: Path | None, as_json: bool, logo: Path | None = None
                    ) -> list[dict[str, Any]]:
    """One artifact per language: the first made as asked (`make`), each other regenerated
    from its recipe in that language, so it is a VERSION_OF the first. Stops at the first that
    does not complete."""
    if not languages:
        return [await make(lib, req, role, out_file, as_json, logo)]
    many = len(languages) > 1
    first = req.model_copy(update={"language": languages[0]})
    jobs = [await make(lib, first, role, out_for(out_file, languages[0], many), as_json, logo)]
    for lang in languages[1:]:
        if jobs[-1]["status"] != "completed":
            break
        aid = jobs[0]["result"]["artifact_id"]
        job = await follow(lib, await lib.regenerate(aid, {"language": lang},
                                                     f"the {lang} version (--languages)"),
                           f"{lang} version", as_json)
        if job["status"] == "completed":
            job["path"] = str(await lib.download(job["result"]["artifact_id"], role,
                                                 out_for(out_file, lang, many)))
        jobs.append(job)
    return jobs


def finish_all(jobs: list[dict[str, Any]], as_json: bool, summary: str) -> None:
    for job in jobs:
        finish(job, as_json, summary)


def finish(job: dict[str, Any], as_json: bool, summary: str) -> None:
    if job["status"] == "review":
        if as_json:
            return emit(job)
        jid = job["job_id"]
        out.print(f"[yellow]script ready for review[/yellow] (job {jid}): nothing is "
                  f"narrated yet\n  read it:    librarian review {jid}\n  edit it:    "
                  f"librarian review {jid} --edit   (or --file F)\n  approve it: librarian "
                  f"review {jid} --approve")
        return None
    if job["status"] != "completed":
        console.print(f"[red]failed:[/red] {job['error']} (job {job['job_id']})")
        raise typer.Exit(1)
    r = job["result"]
    row = {"artifact_id": r["artifact_id"], "job_id": job["job_id"], "path": job["path"], **r}
    if as_json:
        return emit(row)
    out.print(f"[green]{job['graph']} ready[/green]: {row['path']}\n  artifact_id="
              f"{row['artifact_id']} job_id={job['job_id']}\n  {summary.format(**row)}")
    for note in r.get("notes") or []:
        out.print(f"  [yellow]note:[/yellow] {note}")


P, V = PodcastParams, VideoParams


@app.command("podcast")
def make_podcast(
    sources_: From = None,
    request: RequestFile = None,
    minutes: Annotated[float | None, opt(P, "minutes")] = None,
    hosts: Annotated[int | None, opt(P, "hosts")] = None,
    style: Annotated[str | None, opt(P, "style")] = None,
    episode_format: Annotated[str | None, opt(P, "episode_format", "--format")] = None,
    voices: Annotated[str | None, opt(P, "voices")] = None,
    topic: Annotated[str | None, opt(P, "topic")] = None,
    audience: Annotated[str | None, opt(P, "audience")] = None,
    title: Annotated[str | None, opt(P, "title")] = None,
    writer: Annotated[str | None, opt(P, "writer")] = None,
    wav: Annotated[bool | None, opt(P, "wav", "--wav/--no-wav")] = None,
    music: Annotated[bool | None, opt(P, "music", "--music/--no-music")] = None,
    max_cost: Annotated[float | None, opt(P, "max_cost")] = None,
    commercial: Annotated[bool | None, opt(P, "commercial", "--commercial/--any-licence")
                          ] = None,
    review: Annotated[bool | None, opt(P, "review", "--review/--no-review")] = None,
    language: Annotated[str | None, opt(P, "language")] = None,
    languages: Languages = None,
    out_file: OutFile = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a podcast from sources: every line cites the paragraphs it came from."""
    given = {k: v for k, v in locals().items() if k not in {
        "sources_", "request", "out_file", "as_json", "languages"}}
    given["sources"] = sources_
    given["voices"] = voices.split(",") if voices else None
    req = build(PodcastRequest, "podcast", request, given)
    langs = language_list(languages)
    jobs = call(lambda lib: make_each(lib, req, langs, "audio", out_file, as_json))
    finish_all(jobs, as_json, "duration {duration_s:.1f}s (asked {requested_s:.0f}s), {lines} "
               "lines, {attributed_lines} with citations, mean support {mean_support:.2f}, "
               "writer={writer}")


@app.command("video")
def make_video(
    sources_: From = None,
    request: RequestFile = None,
    style: Annotated[str | None, opt(V, "style")] = None,
    seconds: Annotated[float | None, opt(V, "seconds")] = None,
    aspect: Annotated[str | None, opt(V, "aspect")] = None,
    captions: Annotated[str | None, opt(V, "captions")] = None,
    voice: Annotated[str | None, opt(V, "voices", "--voice")] = None,
    topic: Annotated[str | None, opt(V, "topic")] = None,
    title: Annotated[str | None, opt(V, "title")] = None,
    music: Annotated[bool | None, opt(V, "music", "--music/--no-music")] = None,
    watermark: Annotated[str | None, opt(V, "watermark")] = None,
    logo: Annotated[str | None, typer.Option(
        help="PNG/JPEG for the top corner: a file (uploaded as your image) or an image id.")
    ] = None,
    backend: Annotated[str | None, opt(V, "backend")] = None,
    commercial: Annotated[bool | None, opt(V, "commercial", "--commercial/--any-licence")
                          ] = None,
    trend: Annotated[int | None, typer.Option(
        min=1, max=2**31 - 1,
        help="A trend id (`librarian trends`): a short on its topic from the library's "
             "supporting sources (refused when there are none).")] = None,
    review: Annotated[bool | None, opt(V, "review", "--review/--no-review")] = None,
    language: Annotated[str | None, opt(V, "language")] = None,
    languages: Languages = None,
    out_file: OutFile = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a narrated video: figures from the papers, quote cards, captions, provenance."""
    given = {k: v for k, v in locals().items() if k not in {
        "sources_", "request", "out_file", "as_json", "voice", "trend", "languages"}}
    given["sources"] = sources_
    if trend is not None:
        found = call(lambda lib: lib.trend_sources(trend))
        given["sources"] = sources_ or found["sources"]
        given["topic"] = topic or found["topic"]
        given["style"] = style or "short"
    given["voices"] = [voice] if voice else None
    logo_file = Path(logo).expanduser() if logo and Path(logo).expanduser().is_file() else None
    if logo_file is not None:
        given["logo"] = None  # its id is known once it is uploaded
    req = build(VideoRequest, "video", request, given)
    langs = language_list(languages)
    jobs = call(lambda lib: make_each(lib, req, langs, "video", out_file, as_json, logo_file))
    finish_all(jobs, as_json, "{width}x{height}, {duration_s:.1f}s (asked {requested_s:.0f}s), "
               "{scenes} scenes, {attributed_scenes} attributed, {figure_scenes} with figures")
