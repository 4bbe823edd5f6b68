"""`make demo`: import the example papers, search them, and make a 3-minute podcast, offline."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PAPERS = sorted((HERE / "papers").glob("*.pdf"))
CLI = str(Path(sys.executable).with_name("librarian"))


def step(title: str, *args: str) -> None:
    print(f"\n\033[1m$ librarian {' '.join(args)}\033[0m  # {title}", flush=True)
    subprocess.run([CLI, *args], check=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})


def main() -> None:
    files = [str(p) for p in PAPERS]
    step("import the example papers", "import", *files)
    step("search the library", "search", "how many papers does the corpus contain", "--limit", "3")
    out = Path(os.environ.get("LIBRARIAN_HOME", HERE.parent / ".librarian")) / "demo-podcast.mp3"
    args = ["make", "podcast", "--minutes", "3", "--out", str(out)]
    for f in files:
        args += ["--from", f]
    step("a 3-minute podcast, every line traced to its source paragraph", *args)
    print(f"\nYour podcast: {out}\nIts script, every line with its sources: "
          f"{out.with_suffix('.md')}\nProvenance: librarian provenance ARTIFACT_ID --tree")


if __name__ == "__main__":
    main()
