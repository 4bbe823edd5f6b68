"""API and worker benchmarks (loopback, real processes).

1. Job-status GET latency: uvicorn in a subprocess (embedded SQLite, API keys on), an open-loop
   load of RATE requests/s for SECONDS against GET /api/jobs/{id}; prints p50/p95/p99.
2. Worker throughput: JOBS short jobs of the five-node test graph on arq with 1 and 2 worker
   processes (PostgreSQL `test`, Redis db 9); prints jobs/s.

Run: .venv/bin/python bench/api.py [--rate 200] [--seconds 5] [--jobs 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests import jobkit  # noqa: E402


async def _load(url: str, key: str, job_id: str, rate: float, seconds: float) -> list[float]:
    lat: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {key}"},
                                 limits=limits, timeout=10) as c:
        for _ in range(20):  # warm up connections and caches
            await c.get(f"/api/jobs/{job_id}")

        async def one() -> None:
            nonlocal errors
            t0 = time.perf_counter()
            r = await c.get(f"/api/jobs/{job_id}")
            lat.append((time.perf_counter() - t0) * 1000)
            errors += r.status_code != 200

        tasks = []
        start = time.perf_counter()
        n = int(rate * seconds)
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one()))
        await asyncio.gather(*tasks)
        took = time.perf_counter() - start
    print(f"  sent {n} requests in {took:.2f}s ({n / took:.0f}/s achieved), errors={errors}")
    return lat


def latency(rate: float, seconds: float) -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-api-"))
    stack = jobkit.Stack("inproc", root, {})
    import os

    stack.env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    stack.env.update(PYTHONPATH=str(jobkit.REPO), LIBRARIAN_HOME=str(root / "home"),
                     LIBRARIAN_REDIS_PREFIX="bench", LIBRARIAN_AUTH="keys")

    async def setup() -> tuple[str, str]:
        from server import auth, runner
        from storage import db
        from storage.settings import load_settings

        settings = load_settings(home=root / "home")
        _, key = await auth.create_key(settings, "bench")
        job_id = await runner.submit(settings, "ingest", {"source": "x"}, owner="bench")
        await db.dispose()
        return key, job_id

    key, job_id = asyncio.run(setup())
    stack.start_server()
    try:
        lat = asyncio.run(_load(stack.url, key, job_id, rate, seconds))
    finally:
        stack.stop()
    q = statistics.quantiles(lat, n=100)
    print(f"GET /api/jobs/{{id}} at {rate:.0f} req/s for {seconds:.0f}s (SQLite, bearer key): "
          f"p50={q[49]:.2f} ms  p95={q[94]:.2f} ms  p99={q[98]:.2f} ms  max={max(lat):.2f} ms")


def throughput(jobs: int, workers: int) -> None:
    root = Path(tempfile.mkdtemp(prefix=f"bench-workers{workers}-"))
    stack = jobkit.make_stack(root, "arq", workers=0, server=False)
    settings = stack.settings()

    async def submit() -> list[str]:
        from server import executor
        from storage import db

        ids = []
        for i in range(jobs):
            marker = root / f"m{i}"
            marker.mkdir()
            job = await executor.submit(settings, "steps", {"marker": str(marker),
                                                            "delay": 0.1}, owner="bench")
            ids.append(job.id)
        await db.dispose()
        return ids

    async def done(ids: list[str]) -> int:
        from sqlalchemy import func, select

        from storage import db
        from storage.models import Job

        async with db.session(settings) as s:
            n = (await s.execute(select(func.count()).select_from(Job).where(
                Job.id.in_(ids), Job.status == "completed"))).scalar_one()
        await db.dispose()
        return int(n)

    try:
        for _ in range(workers):
            stack.start_worker()
        time.sleep(6)  # let workers import and connect before the clock starts
        ids = asyncio.run(submit())
        start = time.perf_counter()
        while asyncio.run(done(ids)) < jobs:
            if time.perf_counter() - start > 300:
                raise SystemExit("workers did not finish")
            time.sleep(0.1)
        took = time.perf_counter() - start
    finally:
        stack.stop()
    print(f"{workers} worker(s): {jobs} jobs (5 nodes, 0.1 s sleep in 2 of them) in "
          f"{took:.2f}s = {jobs / took:.2f} jobs/s")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=float, default=200)
    ap.add_argument("--seconds", type=float, default=5)
    ap.add_argument("--jobs", type=int, default=20)
    args = ap.parse_args()
    latency(args.rate, args.seconds)
    site = jobkit.register_site(Path(tempfile.mkdtemp(prefix="bench-site-")))
    print(f"(test graph registered from {site})")
    for workers in (1, 2):
        throughput(args.jobs, workers)


if __name__ == "__main__":
    main()
