"""`librarian make video`: a narrated video from library sources, every scene traced."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from server import runner
from server.cli import Bars, JsonOpt, console, emit, export_file, make_app, out, run, settings
from storage.errors import BadInput


def read_file(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read {path}: {exc.strerror}") from None


@make_app.command("video")
def make_video(
    sources_: Annotated[list[str], typer.Option("--from", help="Source ids, files or URLs.")],
    seconds: Annotated[float | None, typer.Option(
        help="Length, 10 to 1800 (default 60 for explainer, 30 for short).")] = None,
    aspect: Annotated[str | None, typer.Option(help="16:9 | 9:16 (default by style).")] = None,
    style: Annotated[str | None, typer.Option(help="explainer | short")] = None,
    captions: Annotated[str | None, typer.Option(help="burn | srt | none")] = None,
    voice: Annotated[str | None, typer.Option(help="Narrator voice id.")] = None,
    topic: Annotated[str | None, typer.Option(help="Focus the video on this.")] = None,
    title: Annotated[str | None, typer.Option()] = None,
    music: Annotated[bool, typer.Option(help="Background music ducked under speech.")] = True,
    watermark: Annotated[str | None, typer.Option(help="Text in the top corner.")] = None,
    logo: Annotated[Path | None, typer.Option(
        help="PNG/JPEG logo in the top corner (stored as your image asset).")] = None,
    backend: Annotated[str | None, typer.Option(
        help="Cloud clips for title/section scenes: auto | kling | veo | runway | synthesia "
             "(needs its LIBRARIAN_*_API_KEY; falls back to local rendering).")] = None,
    commercial: Annotated[bool, typer.Option(
        "--commercial", help="Refuse sources whose licence forbids commercial use.")] = False,
    out_file: Annotated[Path | None, typer.Option("--out", help="Copy the MP4 here.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Make a narrated video: figures from the papers, quote cards, captions, provenance."""
    cfg = settings()
    params: dict[str, Any] = {"sources": sources_, "seconds": seconds, "aspect": aspect,
                              "style": style, "captions": captions,
                              "voices": [voice] if voice else None, "topic": topic,
                              "title": title, "music": music, "watermark": watermark,
                              "backend": backend, "commercial": commercial}

    async def _go() -> tuple[Any, str | None]:
        from agents.requests import request_of
        from services.assets import put_image

        request_of("video", params)  # bad options fail before any work
        if logo:
            params["logo"] = await put_image(cfg, "local", read_file(logo))
        job_id = await runner.submit(cfg, "video", params)
        bars = Bars(enabled=not as_json and sys.stderr.isatty())
        bars.add(job_id, "video")
        with bars.progress:
            job = await runner.run_job(cfg, job_id, bars)
        path = None
        if job.status == "completed":
            path = await export_file(cfg, job.result["files"]["video"], out_file)
        return job, str(path) if path else None

    job, path = run(_go())
    if job.status != "completed":
        console.print(f"[red]failed:[/red] {job.error} (job {job.id})")
        raise typer.Exit(1)
    r = job.result
    row = {"artifact_id": r["artifact_id"], "job_id": job.id, "path": path,
           "duration_s": r["duration_s"], "requested_s": r["requested_s"], "width": r["width"],
           "height": r["height"], "scenes": r["scenes"],
           "attributed_scenes": r["attributed_scenes"], "figure_scenes": r["figure_scenes"],
           "files": r["files"], "notes": r["notes"]}
    if as_json:
        emit(row)
        return
    out.print(f"[green]video ready[/green]: {path}\n  artifact_id={row['artifact_id']} "
              f"job_id={job.id}\n  {row['width']}x{row['height']}, {row['duration_s']:.1f}s "
              f"(asked {row['requested_s']:.0f}s), {row['scenes']} scenes, "
              f"{row['attributed_scenes']} attributed, {row['figure_scenes']} with figures")
    for note in row["notes"]:
        out.print(f"  [yellow]note:[/yellow] {note}")
