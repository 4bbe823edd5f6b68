"""The written-exports suite: each kind made offline from the same papers, then scored.

Per kind: attribution coverage (share of segments citing a library chunk), support rate (the
independent judge over every text segment and its cited chunks), invented sources (cited ids that
are no chunk of the library), and a kind-specific check: flashcard answerability (the answer is
in the cited chunk), quiz key (exactly one option in the cited sentence, which is in the chunk),
report sections citing two or more sources, EPUB / PPTX structural validity.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from evals import metrics
from evals.judge import judge_many

SOURCES = ["examples/papers/s2orc_lo2020_acl.pdf", "examples/papers/longeval_krishna2023_eacl.pdf",
           "examples/papers/papermage_lo2023_emnlp_demo.pdf"]
KINDS = ["report", "ebook", "flashcards", "quiz", "newsletter", "slides"]


def norm(text: str) -> str:
    return " ".join(text.split())


def epub_valid(path: Path) -> float:
    """1.0 when the container holds what EPUB 3 readers need: mimetype first and stored, an OPF
    3.0 package with title and language, a nav document, and every spine item present."""
    opf_ns = {"o": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
    with zipfile.ZipFile(path) as z:
        first = z.infolist()[0]
        if first.filename != "mimetype" or z.read("mimetype") != b"application/epub+zip":
            return 0.0
        root = ET.fromstring(z.read("META-INF/container.xml"))
        full = next(e.get("full-path", "") for e in root.iter() if e.tag.endswith("rootfile"))
        opf = ET.fromstring(z.read(full))
        base = full.rsplit("/", 1)[0] + "/" if "/" in full else ""
        items = {i.get("id"): i for i in opf.iter("{http://www.idpf.org/2007/opf}item")}
        spine = [r.get("idref") for r in opf.iter("{http://www.idpf.org/2007/opf}itemref")]
        ok = (opf.get("version") == "3.0" and opf.find(".//dc:title", opf_ns) is not None
              and opf.find(".//dc:language", opf_ns) is not None
              and any("nav" in (i.get("properties") or "") for i in items.values())
              and all(r in items and base + items[r].get("href", "") in z.namelist()
                      for r in spine))
    return 1.0 if ok else 0.0


def pptx_valid(path: Path) -> float:
    from pptx import Presentation

    slides = list(Presentation(str(path)).slides)
    return 1.0 if len(slides) >= 3 and slides[-1].shapes.title.text == "Sources" else 0.0


async def score(settings: Any, kind: str, ids: list[str], chunks: dict[str, str],
                owners: dict[str, str], threshold: float) -> dict[str, Any]:
    from server import runner
    from storage import artifacts, db
    from storage.objects import LocalObjects, objects

    job = await runner.run_job(settings, await runner.submit(settings, kind, {"sources": ids}))
    if job.status != "completed":
        return {"suite": "documents", "case": kind, "metrics": {},
                "error": f"job {job.status}: {job.error}", "details": {}}
    async with db.session(settings) as s:
        segs = await artifacts.segments(s, job.result["artifact_id"])
    await db.dispose()
    cites = [list((g.meta or {}).get("citations", [])) for g in segs]
    claims = [(g.text if kind not in ("flashcards",) else (g.meta or {}).get("back", g.text),
               [chunks[c] for c in cs if c in chunks]) for g, cs in zip(segs, cites, strict=True)
              if g.kind not in ("figure", "question", "slide")]
    claims += [(pt["text"].removesuffix(" …"), [chunks.get(pt["chunk_id"], "")]) for g in segs
               if g.kind == "slide" for pt in (g.meta or {}).get("points", [])]  # each bullet
    scores = judge_many(claims)
    values: dict[str, float | None] = {
        "attribution_coverage": metrics.attribution_coverage(cites, set(chunks)),
        "support_rate": metrics.support_rate(scores, threshold),
        "invented_sources": float(metrics.invented_sources([c for cs in cites for c in cs],
                                                           set(chunks)))}
    store = objects(settings)
    assert isinstance(store, LocalObjects)
    files = {r: store.path(k) for r, k in job.result["files"].items()}
    values.update(specific(kind, segs, chunks, owners, files))
    return {"suite": "documents", "case": kind, "metrics": values, "error": None,
            "details": {"segments": len(segs), "judged": len(scores)}}


def specific(kind: str, segs: list[Any], chunks: dict[str, str], owners: dict[str, str],
             files: dict[str, Path]) -> dict[str, float | None]:
    if kind == "flashcards":
        ok = [norm(g.meta["answer"]) in norm(chunks.get(g.meta["citations"][0], "")) for g in segs]
        return {"answerability": sum(ok) / max(1, len(ok))}
    if kind == "quiz":
        def one(g: Any) -> bool:
            sent = g.meta["quote"]
            inside = [o for o in g.meta["options"] if o in sent]
            return (inside == [g.meta["options"][g.meta["answer_index"]]]
                    and norm(sent) in norm(chunks.get(g.meta["citations"][0], "")))
        return {"quiz_one_correct": sum(map(one, segs)) / max(1, len(segs))}
    if kind == "report":
        by_section: dict[str, set[str]] = {}
        for g in segs:
            if g.section != "Summary":
                by_section.setdefault(g.section or "", set()).update(
                    owners.get(c, "") for c in g.meta.get("citations", []))
        return {"sections_multi_source": None if not by_section else sum(
            1 for v in by_section.values() if len(v) >= 2) / len(by_section)}
    if kind == "ebook":
        return {"structure_valid": epub_valid(files["epub"])}
    if kind == "slides":
        return {"structure_valid": pptx_valid(files["pptx"])}
    return {}


async def run_documents(ctx: dict[str, Any]) -> list[dict[str, Any]]:
    """Import the papers, make every kind, score each (full suite only: about a minute)."""
    from evals.run import repo_path
    from server import runner
    from storage import db, library

    if ctx["fast"]:
        return []
    settings = ctx["settings"]
    ids = []
    for rel in SOURCES:
        job = await runner.run_job(settings, await runner.submit(
            settings, "ingest", {"source": str(repo_path(rel))}))
        ids.append(job.result["source_id"])
    async with db.session(settings) as s:
        rows = [c for sid in ids for c in await library.source_chunks(s, sid)]
    await db.dispose()
    chunks = {c.id: c.text for c in rows}
    owners = {c.id: c.source_id for c in rows}
    return [await score(settings, kind, ids, chunks, owners, ctx["calibration"].threshold)
            for kind in KINDS]
