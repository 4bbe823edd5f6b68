"""Wall time for 3 papers -> a 5-minute podcast (import included), and its overhead over pure TTS.

Run: .venv/bin/python bench/podcast.py [--minutes 5] [--engine kokoro|piper]. Uses a fresh
temporary LIBRARIAN_HOME, so nothing is cached (the voices' pace measurement is included, as on a
first run). Prints the TTS real-time factor (synthesis seconds per second of speech) of the
engine: Kokoro (the default when installed, both hosts through one model session) or Piper.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from server import runner
from storage import db, vectors
from storage.settings import load_settings
from tools import tts

PAPERS = Path(__file__).resolve().parents[2] / "shared" / "testdata" / "papers"
FILES = ["s2orc_lo2020_acl.pdf", "papermage_lo2023_emnlp_demo.pdf", "longeval_krishna2023_eacl.pdf"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--engine", choices=["auto", "kokoro", "piper"], default="auto")
    args = parser.parse_args()
    tts_seconds = speech_seconds = 0.0
    real = tts.synthesize

    def timed(*a: Any, **kw: Any) -> Any:
        nonlocal tts_seconds, speech_seconds
        t = time.perf_counter()
        try:
            samples, rate = real(*a, **kw)
            speech_seconds += len(samples) / rate
            return samples, rate
        finally:
            tts_seconds += time.perf_counter() - t

    tts.synthesize = timed  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as home:
        settings = load_settings(home=Path(home), voice_engine=args.engine)
        engine = tts.default_engine(settings)

        async def go() -> Any:
            job_id = await runner.submit(settings, "podcast", {
                "sources": [str(PAPERS / f) for f in FILES], "minutes": args.minutes})
            job = await runner.run_job(settings, job_id)
            await db.dispose()
            return job

        start = time.perf_counter()
        job = asyncio.run(go())
        wall = time.perf_counter() - start
        vectors.close(settings)
    if job.status != "completed":
        raise SystemExit(f"podcast failed: {job.error}")
    r = job.result
    print(f"load average: {os.getloadavg()[0]:.2f} (2 cores); voice engine: {engine}")
    print(f"podcast: {r['duration_s']:.1f} s audio (asked {args.minutes * 60:.0f} s), "
          f"{r['lines']} lines, mean support {r['mean_support']:.3f}")
    print(f"wall time, 3 papers -> podcast (import included): {wall:.1f} s")
    print(f"pure TTS time: {tts_seconds:.1f} s; overhead beyond TTS: {wall - tts_seconds:.1f} s "
          f"({(wall - tts_seconds) / wall:.0%} of wall time)")
    print(f"TTS real-time factor: {tts_seconds / max(speech_seconds, 1e-9):.2f} "
          f"({speech_seconds:.0f} s of speech synthesised, calibration included)")


if __name__ == "__main__":
    main()
