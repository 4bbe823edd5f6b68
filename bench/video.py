"""Wall time and peak memory for 2 papers -> a 60 s 1080p narrated video, offline.

Run: .venv/bin/python bench/video.py [--seconds 60] [--aspect 16:9]. A fresh temporary
LIBRARIAN_HOME: the papers are imported first (timed apart), then the video job runs with
nothing cached (voice pace measurement, TTS and every scene render included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from server import runner
from storage import db, vectors
from storage.settings import load_settings
from tools import tts, video

PAPERS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "papers"
FILES = ["s2orc_lo2020_acl.pdf", "papermage_lo2023_emnlp_demo.pdf"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--aspect", default="16:9")
    args = parser.parse_args()
    spent = {"tts": 0.0, "render": 0.0}

    def timed(name: str, fn: Any) -> Any:
        def wrapper(*a: Any, **kw: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*a, **kw)
            finally:
                spent[name] += time.perf_counter() - t
        return wrapper

    tts.synthesize = timed("tts", tts.synthesize)  # type: ignore[assignment]
    video.render_scene = timed("render", video.render_scene)  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home))

        async def go() -> tuple[float, Any, list[dict[str, Any]]]:
            t = time.perf_counter()
            ids = []
            for f in FILES:
                job = await runner.run_job(settings, await runner.submit(
                    settings, "ingest", {"source": str(PAPERS / f)}))
                ids.append(job.result["source_id"])
            imported = time.perf_counter() - t
            job_id = await runner.submit(settings, "video", {
                "sources": ids, "seconds": args.seconds, "aspect": args.aspect})
            job = await runner.run_job(settings, job_id)
            steps = await runner.trace(settings, job_id)
            await db.dispose()
            return imported, job, steps

        start = time.perf_counter()
        imported, job, steps = asyncio.run(go())
        wall = time.perf_counter() - start - imported
        vectors.close(settings)
    if job.status != "completed":
        raise SystemExit(f"video failed: {job.error}")
    r = job.result
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"load average: {os.getloadavg()[0]:.2f} ({os.cpu_count()} cores)")
    print(f"import of {len(FILES)} papers: {imported:.1f} s (not counted below)")
    print(f"video: {r['duration_s']:.1f} s (asked {args.seconds:.0f} s), {r['width']}x{r['height']}"
          f", {r['scenes']} scenes ({r['figure_scenes']} with figures), "
          f"{r['video_codec']}+{r['audio_codec']}")
    print(f"wall time: {wall:.1f} s ({wall / r['duration_s']:.2f}x real time); "
          f"TTS {spent['tts']:.1f} s, scene rendering {spent['render']:.1f} s")
    for a, b in zip(steps, steps[1:], strict=False):
        print(f"  {a['node']:<9} {_gap(a, b)}")
    print(f"peak memory: {own:.0f} MB (this process: models, TTS, frames); children "
          f"{kids:.0f} MB (getrusage counts the forked parent's pages in)")


def _gap(a: dict[str, Any], b: dict[str, Any]) -> str:
    from datetime import datetime

    t0 = datetime.fromisoformat(a["started_at"])
    t1 = datetime.fromisoformat(b["started_at"])
    return f"{(t1 - t0).total_seconds():.1f} s"


if __name__ == "__main__":
    main()
