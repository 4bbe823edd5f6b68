"""CLI start-up: wall and CPU seconds of `librarian --help`, `sources`, `jobs` and `show`.

Each command runs RUNS times as a fresh process (the installed entry point), on two homes:
- empty: a new LIBRARIAN_HOME (no database yet: the read commands answer without creating one);
- library: a home whose SQLite schema is current (one document imported), so the numbers
  include SQLAlchemy, the cheap migration check and one query.
Prints the median and the worst run per command. `python -X importtime` shows where it goes.

Run: .venv/bin/python bench/cli.py [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LIBRARIAN = REPO / ".venv" / "bin" / "librarian"
DOC = REPO.parent / "shared" / "testdata" / "docx" / "docling_word_sample.docx"


def timed(args: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """(wall s, CPU s of the child, exit code) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([str(LIBRARIAN), *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def env_for(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIBRARIAN_")}
    env.update(LIBRARIAN_HOME=str(home), COLUMNS="120")
    return env


def bench(label: str, home: Path, runs: int, source_id: str) -> None:
    env = env_for(home)
    for args in (["--help"], ["sources"], ["jobs"], ["show", source_id]):
        got = [timed(args, env) for _ in range(runs)]
        walls, cpus = [g[0] for g in got], [g[1] for g in got]
        print(f"{label:<8} librarian {' '.join(args)[:24]:<24} wall median "
              f"{statistics.median(walls):.2f} s (max {max(walls):.2f}), CPU median "
              f"{statistics.median(cpus):.2f} s, exit {got[0][2]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    if not LIBRARIAN.exists():
        sys.exit(f"{LIBRARIAN} is missing: run make install")
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        empty, full = Path(tmp) / "empty", Path(tmp) / "library"
        bench("empty", empty, args.runs, "no-such-source")
        proc = subprocess.run([str(LIBRARIAN), "import", str(DOC), "--json"],
                              env=env_for(full), capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"import failed: {proc.stderr.strip()}")
        source_id = json.loads(proc.stdout.splitlines()[0])["source_id"]
        bench("library", full, args.runs, source_id)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
