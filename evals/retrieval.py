"""Retrieval eval: recall@5 and MRR@10 of dense, sparse and hybrid search over the test papers.

The queries (evals/datasets/retrieval.yaml) name the file and a phrase of the chunk that
answers them; the papers are imported into the eval's library with the real ingest graph.
`python -m evals.retrieval [--home DIR]` prints the table (an existing DIR is searched as is).
"""

from __future__ import annotations

import argparse
import asyncio
import re
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
DATASET = Path(__file__).resolve().parent / "datasets" / "retrieval.yaml"
MODES = ("hybrid", "dense", "sparse")
K = 5
DEPTH = 10
JUNK_WORDS = 8  # a top hit shorter than this answers nothing


def dataset() -> dict[str, Any]:
    return yaml.safe_load(DATASET.read_text(encoding="utf-8"))


def files(spec: dict[str, Any]) -> list[Path]:
    """The documents the queries are about, found in the dataset's folders."""
    wanted = {q["file"] for q in spec["queries"]}
    found = {p.name: p for f in spec["folders"] for p in sorted((REPO / f).resolve().glob("*"))
             if p.name in wanted}
    missing = wanted - set(found)
    if missing:
        raise FileNotFoundError(f"retrieval eval: missing test files {sorted(missing)}")
    return [found[n] for n in sorted(found)]


async def import_all(settings: Any, paths: list[Path]) -> None:
    from server import runner

    for path in paths:
        job_id = await runner.submit(settings, "ingest", {"source": str(path)})
        job = await runner.run_job(settings, job_id)
        if job.status != "completed":
            raise RuntimeError(f"import of {path.name} {job.status}: {job.error}")


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip().casefold()


async def rank_of(settings: Any, query: dict[str, Any], mode: str,
                  names: dict[str, str]) -> tuple[int | None, int]:
    """(1-based rank of the first relevant hit within DEPTH or None, words of the top hit)."""
    from services import catalog

    hits = await catalog.search(settings, query["q"], limit=DEPTH, mode=mode)  # type: ignore[arg-type]
    needle = _norm(query["needle"])
    rank = next((i + 1 for i, h in enumerate(hits)
                 if names.get(h.source_id) == query["file"] and needle in _norm(h.text)), None)
    return rank, len(hits[0].text.split()) if hits else 0


async def evaluate(settings: Any, spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per mode: recall@5, MRR@10, recall@5 per query kind, junk top hits, misses."""
    from storage import db, library

    async with db.session(settings) as s:
        names = {src.id: src.filename or "" for src in await library.list_sources(
            s, limit=10**9)}
    out: dict[str, dict[str, Any]] = {}
    for mode in MODES:
        ranks: list[int | None] = []
        kinds: dict[str, list[bool]] = {}
        misses: list[str] = []
        junk = 0
        for q in spec["queries"]:
            rank, top_words = await rank_of(settings, q, mode, names)
            ranks.append(rank)
            kinds.setdefault(q["kind"], []).append(rank is not None and rank <= K)
            junk += int(0 < top_words < JUNK_WORDS)
            if rank is None or rank > K:
                misses.append(q["q"])
        out[mode] = {
            "recall_at_5": sum(r is not None and r <= K for r in ranks) / len(ranks),
            "mrr": sum(1.0 / r for r in ranks if r) / len(ranks),
            **{f"{k}_recall_at_5": sum(v) / len(v) for k, v in sorted(kinds.items())},
            "junk_top": junk, "misses": misses}
    return out


def table(result: dict[str, dict[str, Any]]) -> str:
    cols = [k for k in result["hybrid"] if k != "misses"]
    lines = ["| mode | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for mode, row in result.items():
        lines.append(f"| {mode} | " + " | ".join(
            f"{row[c]:.3f}" if isinstance(row[c], float) else str(row[c]) for c in cols) + " |")
    return "\n".join(lines)


async def _main(home: Path | None) -> None:
    import tempfile

    from evals.run import eval_settings
    from storage import db, vectors

    spec = dataset()
    with tempfile.TemporaryDirectory() as tmp:
        settings = eval_settings(home or Path(tmp))
        try:
            if home is None or not (home / "library.sqlite").exists():
                await import_all(settings, files(spec))
            result = await evaluate(settings, spec)
        finally:
            await db.dispose()
            vectors.close(settings)
    print(table(result))
    for mode, row in result.items():
        print(f"{mode} misses: {row['misses']}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--home", type=Path, help="library folder to reuse (imported if empty)")
    asyncio.run(_main(parser.parse_args().home))
