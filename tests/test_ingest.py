"""The ingest graph end to end through the job runner: papers, web pages, documents, URLs.

The five papers are imported once (SQLite) and inspected by many tests; PostgreSQL gets one
paper, a web page and the failure cases.
"""

from __future__ import annotations

import asyncio
import functools
import http.server
import re
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

from server import runner
from services import catalog
from storage import db, edges, library, vectors
from storage.models import Chunk, Figure, Job, Source
from storage.objects import objects
from storage.settings import Settings, load_settings
from tests.conftest import PAPERS, TESTDATA, clean_env

EXPECTED: dict[str, Any] = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "papers.yaml").read_text(encoding="utf-8"))
LICENCES = {"vespa_webb2017_peerjcs.pdf": "CC-BY-4.0",
            "ace_inhibitors_douglas2014_clinsci.pdf": "CC-BY-3.0"}
HTML = TESTDATA / "html"
DOCX = TESTDATA / "docx"


async def ingest(settings: Settings, source: str, **extra: Any) -> Job:
    job_id = await runner.submit(settings, "ingest", {"source": source, **extra})
    return await runner.run_job(settings, job_id)


async def counts(settings: Settings) -> dict[str, Any]:
    """Everything an import can leave behind, in every store."""
    async with db.session(settings) as s:
        n_sources = (await s.execute(select(func.count()).select_from(Source))).scalar()
        n_chunks = (await s.execute(select(func.count()).select_from(Chunk))).scalar()
        n_figures = (await s.execute(select(func.count()).select_from(Figure))).scalar()
    return {"sources": n_sources, "chunks": n_chunks, "figures": n_figures,
            "vectors": await vectors.count(settings),
            "objects": await objects(settings).list("")}


def norm(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", text.lower())


# --- the five papers, imported once ------------------------------------------------------------

@pytest.fixture(scope="module")
def papers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, dict[str, Job]]]:
    """Import the five test papers into one SQLite library (in its own event loop)."""
    with pytest.MonkeyPatch.context() as mp:
        clean_env(mp)
        cfg = load_settings(home=tmp_path_factory.mktemp("papers") / "home", _env_file=None)

        async def _all() -> dict[str, Job]:
            try:
                return {name: await ingest(cfg, str(PAPERS / name)) for name in sorted(EXPECTED)}
            finally:
                await db.dispose()

        jobs = asyncio.run(_all())
        try:
            yield cfg, jobs
        finally:
            vectors.close()


@pytest.fixture
async def library5(papers: tuple[Settings, dict[str, Job]]) -> Any:
    yield papers
    await db.dispose()


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_paper_import(library5: tuple[Settings, dict[str, Job]], name: str) -> None:
    cfg, jobs = library5
    job = jobs[name]
    assert job.status == "completed", job.error
    res = job.result
    assert res["title"] == EXPECTED[name]["title"]
    assert res["kind"] == "paper" and res["duplicate"] is False
    assert res["licence"] == LICENCES.get(name)
    sid = res["source_id"]
    async with db.session(cfg) as s:
        src = await library.get_source(s, sid)
        chunks = await library.source_chunks(s, sid)
        figures = await library.source_figures(s, sid)
        licence_edges = await edges.edges_from(s, "source", [sid], "HAS_LICENSE")
    assert src.title == EXPECTED[name]["title"] and src.filename == name
    assert src.pages == res["pages"] and src.pages is not None and src.pages > 5
    assert len(chunks) == res["chunks"] > 20
    assert src.licence_id == LICENCES.get(name)
    assert [e.dst_id for e in licence_edges] == ([LICENCES[name]] if name in LICENCES else [])
    # references stored (their accuracy is tests/test_pdf.py's business)
    assert len(src.references) >= 0.8 * EXPECTED[name]["references"]
    # chunk spans index the stored full text; pages and headings are set
    store = objects(cfg)
    full = (await store.get(f"sources/{sid}/text.txt")).decode()
    for c in chunks:
        assert full[c.char_start:c.char_end] == c.text, (c.seq, c.text[:60])
        assert c.page is not None and 1 <= c.page <= src.pages
    assert [c.seq for c in chunks] == list(range(len(chunks)))
    assert len({c.page for c in chunks}) > src.pages // 2
    paths = {norm(h) for c in chunks for h in c.heading_path}
    expected_headings = {norm(h) for h in EXPECTED[name]["headings"]}
    assert len(paths & expected_headings) >= 0.5 * len(expected_headings), sorted(paths)
    # the original and the figure images are stored objects
    assert await store.get(f"sources/{sid}/original.pdf") == (PAPERS / name).read_bytes()
    with_images = [f for f in figures if f.object_key]
    assert with_images, "no figure image was stored"
    for f in with_images:
        assert (await store.get(f.object_key or ""))[:8] == b"\x89PNG\r\n\x1a\n"
    labels = {f.label for f in figures}
    assert len(labels & set(EXPECTED[name]["figures"])) >= 0.5 * len(EXPECTED[name]["figures"])
    assert await vectors.count(cfg, sid) == len(chunks)
    assert await store.list("staging/") == []


async def test_reimport_is_a_duplicate(library5: tuple[Settings, dict[str, Job]]) -> None:
    cfg, jobs = library5
    name = "vespa_webb2017_peerjcs.pdf"
    before = await counts(cfg)
    job = await ingest(cfg, str(PAPERS / name))
    assert job.status == "completed", job.error
    assert job.result["duplicate"] is True
    assert job.result["source_id"] == jobs[name].result["source_id"]
    assert job.result["chunks"] == jobs[name].result["chunks"]
    assert await counts(cfg) == before


@pytest.mark.parametrize("name", sorted(EXPECTED))
async def test_search_finds_the_paper_and_page(library5: tuple[Settings, dict[str, Job]],
                                               name: str) -> None:
    cfg, jobs = library5
    sid = jobs[name].result["source_id"]
    async with db.session(cfg) as s:
        chunks = [c for c in await library.source_chunks(s, sid)
                  if c.kind == "paragraph" and len(c.text.split()) >= 40]
    target = chunks[len(chunks) // 2]
    query = " ".join(target.text.split()[:40])
    hits = await catalog.search(cfg, query, limit=3)
    assert hits[0].source_id == sid and hits[0].title == EXPECTED[name]["title"]
    found = [h for h in hits if h.chunk_id == target.id]  # (a neighbour may rank first)
    assert found and found[0].page == target.page


async def test_topic_query_ranks_the_right_paper(library5: tuple[Settings, dict[str, Job]]) -> None:
    cfg, jobs = library5
    for name, query in [
        ("ace_inhibitors_douglas2014_clinsci.pdf", "angiotensin-converting enzyme inhibitors"),
        ("vespa_webb2017_peerjcs.pdf", "selective pressure analysis of gene families"),
        ("longeval_krishna2023_eacl.pdf", "human evaluation of long-form summarization"),
    ]:
        hits = await catalog.search(cfg, query, limit=3)
        assert hits and hits[0].source_id == jobs[name].result["source_id"], (query, hits[0].title)


async def test_hybrid_search_finds_acronyms_and_numbers(
        library5: tuple[Settings, dict[str, Job]]) -> None:
    """Exact terms the dense side misses (issue 14: "VILA" in two PaperMage chunks)."""
    cfg, jobs = library5
    for name, query, needle in [("s2orc_lo2020_acl.pdf", "81.1M papers", "81.1M"),
                                ("s2orc_lo2020_acl.pdf", "PyPDF2", "PyPDF2"),
                                ("papermage_lo2023_emnlp_demo.pdf", "VILA", "VILA")]:
        sid = jobs[name].result["source_id"]
        async with db.session(cfg) as s:
            want = {c.id for c in await library.source_chunks(s, sid) if needle in c.text}
        assert want
        hits = await catalog.search(cfg, query, limit=5)
        assert {h.mode for h in hits} == {"hybrid"}
        found = want & {h.chunk_id for h in hits}
        assert hits[0].chunk_id in want and len(found) >= min(len(want), 2), query
    lexical = await catalog.search(cfg, "VILA", limit=5, mode="sparse")
    assert {h.chunk_id for h in lexical} == want  # only the chunks holding the term
    assert await catalog.search(cfg, "VILA", limit=5, kinds=["webpage"]) == []


async def test_trace_comes_from_checkpoints(library5: tuple[Settings, dict[str, Job]]) -> None:
    cfg, jobs = library5
    job = jobs["vespa_webb2017_peerjcs.pdf"]
    assert (job.status, job.stage, job.progress, job.attempts) == ("completed", None, 1.0, 1)
    steps = await runner.trace(cfg, job.id)
    nodes = [s["node"] for s in steps if s["node"] != "__start__"]
    assert nodes == ["fetch", "detect", "extract", "chunk", "embed", "store", "provenance",
                     "finish"]
    by_node = {s["node"]: s for s in steps}
    assert by_node["detect"]["wrote"]["kind"] == "pdf"
    assert by_node["chunk"]["wrote"]["chunks"] == f"{job.result['chunks']} items"
    assert by_node["finish"]["wrote"]["result"] == "7 fields"
    assert all(s["error"] is None and s["started_at"] for s in steps)


# --- on both databases ---------------------------------------------------------------------------

@pytest.mark.parametrize("settings", ["postgres"], indirect=True)  # SQLite: the five above
async def test_paper_and_webpage_import(settings: Settings) -> None:
    assert settings.is_postgres
    name = "vespa_webb2017_peerjcs.pdf"
    job = await ingest(settings, str(PAPERS / name))
    assert job.status == "completed", job.error
    assert job.result["title"] == EXPECTED[name]["title"]
    assert job.result["licence"] == "CC-BY-4.0" and job.result["pages"] == 16
    page = await ingest(settings, str(HTML / "creativecommons_about.html"))
    assert page.status == "completed", page.error
    again = await ingest(settings, str(PAPERS / name))
    assert again.result["duplicate"] is True
    c = await counts(settings)
    assert c["sources"] == 2 and c["vectors"] == c["chunks"] == (
        job.result["chunks"] + page.result["chunks"])
    steps = await runner.trace(settings, job.id)
    assert [s["node"] for s in steps][-1] == "finish"


async def test_html_import(settings: Settings) -> None:
    job = await ingest(settings, str(HTML / "creativecommons_about.html"))
    assert job.status == "completed", job.error
    r = job.result
    assert r["kind"] == "webpage" and r["pages"] is None and r["chunks"] > 3
    assert "Creative Commons" in r["title"]
    async with db.session(settings) as s:
        src = await library.get_source(s, r["source_id"])
        chunks = await library.source_chunks(s, r["source_id"])
    assert src.url and src.url.startswith("https://creativecommons.org")
    full = (await objects(settings).get(f"sources/{src.id}/text.txt")).decode()
    assert all(full[c.char_start:c.char_end] == c.text for c in chunks)
    assert await objects(settings).exists(f"sources/{src.id}/original.html")
    hits = await catalog.search(settings, "what does Creative Commons do", limit=2)
    assert hits and hits[0].source_id == src.id and hits[0].url == src.url


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_docx_import(settings: Settings) -> None:
    job = await ingest(settings, str(DOCX / "docling_word_sample.docx"))
    assert job.status == "completed", job.error
    r = job.result
    assert (r["kind"], r["title"]) == ("document", "Swimming in the lake")
    assert r["chunks"] > 3
    async with db.session(settings) as s:
        chunks = await library.source_chunks(s, r["source_id"])
    assert any(c.heading_path for c in chunks)
    tables = await ingest(settings, str(DOCX / "docling_word_tables.docx"))
    assert tables.status == "completed", tables.error
    assert tables.result["source_id"] != r["source_id"]


def _bad_inputs(tmp: Path, port: int) -> list[tuple[str, str]]:
    (tmp / "empty.pdf").write_bytes(b"")
    (tmp / "corrupt.pdf").write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 40)
    (tmp / "tool.exe").write_bytes(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 4000)
    (tmp / "folder").mkdir()
    return [
        (str(tmp / "missing.pdf"), "no such file"),
        (str(tmp / "empty.pdf"), "empty"),
        (str(tmp / "corrupt.pdf"), "PDF"),
        (str(tmp / "tool.exe"), "unsupported"),
        (str(tmp / "folder"), "not a file"),
        (f"http://127.0.0.1:{port}/page.html", "refusing to fetch"),
        (f"http://169.254.169.254:{port}/latest/meta-data", "refusing to fetch"),
        ((tmp / "empty.pdf").as_uri(), "only http and https"),
    ]


async def test_bad_inputs_fail_cleanly(settings: Settings, tmp_path: Path) -> None:
    empty = await counts(settings)
    assert empty == {"sources": 0, "chunks": 0, "figures": 0, "vectors": 0, "objects": []}
    for source, reason in _bad_inputs(tmp_path, 9):
        job = await ingest(settings, source)
        assert job.status == "failed", source
        assert job.error and reason.lower() in job.error.lower(), (source, job.error)
        assert "\n" not in job.error and "Traceback" not in job.error
        assert job.attempts == 1  # bad input is not retried
        assert await counts(settings) == empty, source


# --- delete ------------------------------------------------------------------------------------

async def test_soft_and_hard_delete(settings: Settings) -> None:
    page = await ingest(settings, str(HTML / "creativecommons_about.html"))
    other = await ingest(settings, str(DOCX / "docling_word_sample.docx"))
    assert page.status == other.status == "completed"
    sid, keep = page.result["source_id"], other.result["source_id"]
    query = "what does Creative Commons do"
    assert (await catalog.search(settings, query, limit=1))[0].source_id == sid

    assert (await catalog.delete_source(settings, sid))["deleted"] == "soft"
    assert all(h.source_id != sid for h in await catalog.search(settings, query, limit=20))
    async with db.session(settings) as s:
        assert [r.id for r in await library.list_sources(s)] == [keep]
        assert len(await library.source_chunks(s, sid)) == page.result["chunks"]  # kept
    assert await vectors.count(settings, sid) == page.result["chunks"]

    res = await catalog.delete_source(settings, sid, hard=True)
    assert res["deleted"] == "hard" and res["chunks"] == page.result["chunks"]
    assert res["objects"] >= 2
    async with db.session(settings) as s:
        assert await s.get(Source, sid) is None
        assert await library.source_chunks(s, sid) == []
        assert await edges.edges_from(s, "source", [sid]) == []
        assert await edges.edges_to(s, "source", [sid]) == []
        assert len(await edges.edges_from(s, "source", [keep])) >= 1
    assert await vectors.count(settings, sid) == 0
    assert await objects(settings).list(f"sources/{sid}/") == []
    assert await objects(settings).list(f"sources/{keep}/")
    assert await vectors.count(settings, keep) == other.result["chunks"]
    # a deleted source can be imported again
    again = await ingest(settings, str(HTML / "creativecommons_about.html"))
    assert again.status == "completed" and again.result["duplicate"] is False
    assert again.result["source_id"] == sid


# --- over HTTP from a loopback server -------------------------------------------------------------

@pytest.fixture
def http_server() -> Iterator[str]:
    handler = functools.partial(_QuietHandler, directory=str(TESTDATA))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_import_over_http(settings: Settings, http_server: str) -> None:
    url = f"{http_server}/html/creativecommons_about.html"
    blocked = await ingest(settings, url)
    assert blocked.status == "failed" and "refusing to fetch" in (blocked.error or "")
    allowed = settings.model_copy(update={"fetch_allow_hosts": ["127.0.0.1"]})
    job = await ingest(allowed, url)
    assert job.status == "completed", job.error
    assert job.result["kind"] == "webpage" and "Creative Commons" in job.result["title"]
    async with db.session(allowed) as s:
        src = await library.get_source(s, job.result["source_id"])
    assert src.url and src.url.startswith("https://creativecommons.org")  # the page's canonical
    missing = await ingest(allowed, f"{http_server}/html/nope.html")
    assert missing.status == "failed" and "404" in (missing.error or "")
    c = await counts(allowed)
    assert c["sources"] == 1 and not [k for k in c["objects"] if k.startswith("staging/")]


# --- chunk spans (regressions) --------------------------------------------------------------------

def test_chunk_spans_are_exact_slices_of_the_full_text() -> None:
    from tools.chunking import MAX_WORDS, chunk_document, full_text
    from tools.document import Block, Document

    long_para = "\n".join(f"Sentence number {i} has a few words in it." for i in range(80))
    assert len(long_para.split()) > MAX_WORDS
    doc = Document(kind="paper", title="T", blocks=[
        Block("Intro", kind="heading", heading_path=[]),
        Block("A short first paragraph, with a few words more.", page=1,
              heading_path=["Intro"]),
        Block("*Footnote between the two.", kind="footnote", page=1, heading_path=["Intro"]),
        Block("A short second paragraph.", page=1, heading_path=["Intro"]),
        Block("Third, right after the second.", page=2, heading_path=["Intro"]),
        Block(long_para, page=2, heading_path=["Intro"]),
    ])
    text = full_text(doc)
    drafts = chunk_document(doc)
    assert len(drafts) >= 4
    for d in drafts:
        assert text[d.char_start:d.char_end] == d.text, d
    assert "Footnote" not in " ".join(d.text for d in drafts)
    assert any("second paragraph.\n\nThird" in d.text for d in drafts)  # adjacent ones merge
