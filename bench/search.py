"""Vector store at size: insert rate, open time, owner-filtered top-10 latency, peak RSS.

    .venv/bin/python bench/search.py [--sizes 10000 100000] [--queries 50]

Runs the real storage.vectors code (the embedded Qdrant Edge shard, or the server when
LIBRARIAN_QDRANT_URL is set) on random unit vectors with random sparse terms, 100 owners.
Each operation opens and closes the shard as the embedded default does, so the figures include
that. The machine's load average is printed: other processes on the cores change them a lot.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import vectors  # noqa: E402
from storage.settings import load_settings  # noqa: E402

BATCH = 2048


def points(rng: np.random.Generator, start: int, n: int) -> tuple[list[str], list[list[float]],
                                                                 list[vectors.Sparse],
                                                                 list[dict[str, object]]]:
    dense = rng.standard_normal((n, vectors.DIM)).astype(np.float32)
    dense /= np.linalg.norm(dense, axis=1, keepdims=True)
    terms = rng.integers(0, 200_000, size=(n, 40))
    ids = [str(uuid.UUID(int=start + i + 1)) for i in range(n)]
    sparse: list[vectors.Sparse] = []
    for row in terms:
        idx = sorted({int(t) for t in row})
        sparse.append((idx, [1.0] * len(idx)))
    payloads: list[dict[str, object]] = [{"owner": f"o{(start + i) % 100}",
                                          "source_id": f"s{(start + i) // 50}"}
                                         for i in range(n)]
    return ids, dense.tolist(), sparse, payloads


async def run(size: int, queries: int) -> None:
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home), _env_file=None)
        t0 = time.perf_counter()
        for start in range(0, size, BATCH):
            await vectors.upsert(settings, *points(rng, start, min(BATCH, size - start)))
        insert_s = time.perf_counter() - t0
        t1 = time.perf_counter()
        await vectors.count(settings, "s0")
        open_s = time.perf_counter() - t1
        lat: dict[str, list[float]] = {"hybrid": [], "dense": []}
        for q in range(queries):
            _, dense, sparse, _ = points(rng, size + q, 1)
            for mode in lat:
                t = time.perf_counter()
                await vectors.search(settings, dense[0], (sparse[0][0][:5], sparse[0][1][:5]),
                                     mode=mode, limit=10, owner=f"o{q % 100}")  # type: ignore[arg-type]
                lat[mode].append((time.perf_counter() - t) * 1000)
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        figures = " ".join(f"{m} p50 {np.percentile(v, 50):.1f} ms "
                           f"p95 {np.percentile(v, 95):.1f} ms" for m, v in lat.items())
        print(f"{size:>9} points: insert {size / insert_s:.0f} points/s, open+count "
              f"{open_s * 1000:.0f} ms, owner-filtered top-10 {figures}, peak RSS {rss:.0f} MB "
              f"(load {os.getloadavg()[0]:.1f})", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000])
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    for size in args.sizes:
        asyncio.run(run(size, args.queries))


if __name__ == "__main__":
    main()
