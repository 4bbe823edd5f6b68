"""Wall time per written export from the five test papers, offline.

Run: .venv/bin/python bench/exports.py. A fresh temporary LIBRARIAN_HOME: the papers are
imported first (timed apart), then each kind runs once (report, ebook, flashcards, quiz,
newsletter, slides) and prints its seconds, segments and file sizes.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from server import runner
from storage import db, vectors
from storage.objects import LocalObjects, objects
from storage.settings import load_settings

PAPERS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "papers"
KINDS = ["report", "ebook", "flashcards", "quiz", "newsletter", "slides"]


async def bench(home: Path) -> None:
    settings = load_settings(home=home, _env_file=None)
    t0 = time.monotonic()
    ids = []
    for pdf in sorted(PAPERS.glob("*.pdf")):
        job = await runner.run_job(settings, await runner.submit(settings, "ingest",
                                                                 {"source": str(pdf)}))
        ids.append(job.result["source_id"])
    print(f"import {len(ids)} papers: {time.monotonic() - t0:.1f} s")
    store = objects(settings)
    assert isinstance(store, LocalObjects)
    for kind in KINDS:
        t = time.monotonic()
        job = await runner.run_job(settings, await runner.submit(settings, kind,
                                                                 {"sources": ids}))
        took = time.monotonic() - t
        if job.status != "completed":
            print(f"{kind}: {job.status} {job.error}")
            continue
        r = job.result
        sizes = ", ".join(f"{role} {store.path(k).stat().st_size // 1024} KB"
                          for role, k in r["files"].items() if not role.startswith("image-"))
        print(f"{kind}: {took:.1f} s, {r['segments']} segments ({r['attributed_segments']} "
              f"cited, support {r['mean_support']:.2f}); {sizes}")
    await db.dispose()
    vectors.close(settings)


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="librarian-bench-exports-") as tmp:
        asyncio.run(bench(Path(tmp)))


if __name__ == "__main__":
    main()
