"""Publishing benchmark (loopback fakes of YouTube and TikTok, tests/fakes/platforms.py).

The whole publish job (check, session, chunked upload, finish, PUBLISHED_TO edge) for a video
file of SIZE MiB on each platform (YouTube twice: the first run includes the warm-up of the
graph and the stores), and a YouTube upload resumed after a failure half-way:
prints seconds, MiB/s and the number of chunk requests.

Run: .venv/bin/python bench/publish.py [--mib 32] [--chunk-mib 8]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server import runner  # noqa: E402
from storage import db  # noqa: E402
from storage.settings import load_settings  # noqa: E402
from tests.fakes.platforms import Fake, serve  # noqa: E402
from tests.publishkit import fake_settings, sign_in, video_artifact  # noqa: E402


async def run(fake: Fake, mib: int, chunk_mib: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="bench-publish-"))
    cfg = fake_settings(load_settings(home=home, _env_file=None), fake,
                        publish_chunk_bytes=chunk_mib * 1024 * 1024)
    aid, data = await video_artifact(cfg, ["CC-BY-4.0"], size=mib * 1024 * 1024)
    await sign_in(cfg, "youtube", "tiktok")
    for platform in ("youtube", "tiktok", "youtube"):  # the first run also warms up
        before = len(fake.log)
        t0 = time.perf_counter()
        job = await runner.run_job(cfg, await runner.submit(
            cfg, "publish", {"platform": platform, "artifact_id": aid}))
        dt = time.perf_counter() - t0
        puts = sum(1 for r in fake.log[before:] if r["method"] == "PUT")
        print(f"{platform:8s} {job.status:9s} {mib} MiB in {dt:6.2f} s = {mib / dt:6.1f} MiB/s, "
              f"{puts} PUT requests")
    fake.chunk_faults = [503] * cfg.job_max_attempts  # fails half-way, every attempt
    fake.keep_on_fault, fake.fault_after = 0, len(data) // 2
    job_id = await runner.submit(cfg, "publish", {"platform": "youtube", "artifact_id": aid})
    t0 = time.perf_counter()
    first = await runner.run_job(cfg, job_id)
    failed_s = time.perf_counter() - t0
    up = list(fake.uploads.values())[-1]
    got = len(up.data)
    t0 = time.perf_counter()
    await runner.prepare_retry(cfg, job_id)
    job = await runner.run_job(cfg, job_id)
    dt = time.perf_counter() - t0
    print(f"resume   {first.status} after {failed_s:.2f} s (retries with backoff) at byte "
          f"{got:,}; retry {job.status} in {dt:.2f} s, sent {len(data) - got:,} more bytes, "
          f"file intact: {bytes(up.data) == data}")
    await db.dispose()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mib", type=int, default=32)
    ap.add_argument("--chunk-mib", type=int, default=8)
    args = ap.parse_args()
    with serve() as fake:
        asyncio.run(run(fake, args.mib, args.chunk_mib))


if __name__ == "__main__":
    main()
