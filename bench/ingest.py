"""Import the five test papers into a temp library (embedded default) and print pages/second.

    .venv/bin/python bench/ingest.py [--concurrency 2] [--repeat 1] [PDF ...]

Per-stage times come from the job traces (LangGraph checkpoint timestamps): the time from a
node's checkpoint to the next one is that node's duration. With --concurrency 2 the next paper
is extracted while the current one is embedded. The machine's load average is printed too:
other processes on the same cores change the figures a lot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import runner  # noqa: E402
from storage import db, vectors  # noqa: E402
from storage.settings import Settings, load_settings  # noqa: E402

PAPERS = Path(__file__).resolve().parent.parent.parent / "shared" / "testdata" / "papers"
STAGES = ("extract", "embed", "store")


def stage_times(trace: list[dict[str, Any]]) -> dict[str, float]:
    out: dict[str, float] = {}
    for step, nxt in zip(trace, trace[1:], strict=False):
        a = datetime.fromisoformat(str(step["started_at"]))
        b = datetime.fromisoformat(str(nxt["started_at"]))
        out[step["node"]] = out.get(step["node"], 0.0) + (b - a).total_seconds()
    return out


async def one(cfg: Settings, path: Path) -> dict[str, Any]:
    job_id = await runner.submit(cfg, "ingest", {"source": str(path)})
    job = await runner.run_job(cfg, job_id)
    if job.status != "completed":
        raise SystemExit(f"{path.name}: {job.error}")
    times = stage_times(await runner.trace(cfg, job_id))
    return {"name": path.name, "pages": job.result["pages"] or 0,
            "chunks": job.result["chunks"], **times}


async def run(paths: list[Path], concurrency: int) -> tuple[list[dict[str, Any]], float, float]:
    cfg = load_settings(home=Path(tempfile.mkdtemp(prefix="librarian-bench-")) / "home",
                        database_url=None, _env_file=None)
    from tools.embed import embed

    embed(["warm up the model"])  # loading the model is start-up cost, not per-page cost
    await db.migrate(cfg)
    sem = asyncio.Semaphore(concurrency)

    async def limited(p: Path) -> dict[str, Any]:
        async with sem:
            return await one(cfg, p)

    cpu0, t0 = time.process_time(), time.perf_counter()
    rows = await asyncio.gather(*(limited(p) for p in paths))
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    await db.dispose()
    vectors.close()
    return list(rows), wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pdfs", nargs="*", type=Path)
    ap.add_argument("--concurrency", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    paths = args.pdfs or sorted(PAPERS.glob("*.pdf"))
    print(f"cores={os.cpu_count()} load average before: {os.getloadavg()[0]:.2f}")
    for r in range(args.repeat):
        rows, wall, cpu = asyncio.run(run(paths, args.concurrency))
        pages = sum(x["pages"] for x in rows)
        chunks = sum(x["chunks"] for x in rows)
        for x in rows:
            print(f"  {x['name']:<42} {x['pages']:>3} pages {x['chunks']:>4} chunks  "
                  + "  ".join(f"{s}={x.get(s, 0):.2f}s" for s in STAGES))
        tot = {s: sum(x.get(s, 0.0) for x in rows) for s in STAGES}
        print(f"run {r + 1}: {pages} pages, {chunks} chunks in {wall:.1f}s wall "
              f"(process CPU {cpu:.1f}s) -> {pages / wall:.1f} pages/s overall; "
              f"concurrency={args.concurrency}, load average now {os.getloadavg()[0]:.2f}")
        print("  per stage (sum over papers): " + ", ".join(
            f"{s} {tot[s]:.1f}s = {pages / tot[s]:.1f} pages/s" for s in STAGES if tot[s])
            + f"; embed {chunks / tot['embed']:.1f} chunks/s" if tot["embed"] else "")


if __name__ == "__main__":
    main()
