"""The storage contract on SQLite and PostgreSQL, plus vectors (Qdrant local) and embeddings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from storage import artifacts, db, edges, library, vectors
from storage import jobs as jobs_db
from storage.errors import NotFound
from storage.models import Artifact, Chunk, Edge, Figure, Licence, Segment, Source
from storage.settings import Settings
from tools.embed import DIM, embed, embed_one
from tools.lexical import document_vector, query_vector

OUR_TABLES = {"licences", "api_keys", "sources", "chunks", "figures", "artifacts", "segments",
              "edges", "jobs"}


def new_id() -> str:
    return str(uuid.uuid4())


def make_source(owner: str = "alice", content_hash: str | None = None, **fields: object) -> Source:
    values: dict[str, object] = {"kind": "paper", "title": "A paper", "authors": ["Ada Lovelace"]}
    values.update(fields)
    return Source(id=new_id(), owner=owner, content_hash=content_hash or uuid.uuid4().hex,
                  **values)


def make_chunks(source_id: str, n: int) -> list[Chunk]:
    return [Chunk(id=new_id(), source_id=source_id, seq=i, kind="paragraph", text=f"chunk {i}",
                  page=1 + i // 2, char_start=i * 10, char_end=i * 10 + 7,
                  heading_path=["1 Introduction"]) for i in range(n)]


async def test_migrations_apply(settings: Settings) -> None:
    await db.migrate(settings)
    async with db.engine(settings).connect() as conn:
        names = set(await conn.run_sync(lambda c: inspect(c).get_table_names()))
        version = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
    assert names >= OUR_TABLES
    assert version
    await db.migrate(settings)  # running again is a no-op


async def test_source_crud_and_listing(settings: Settings) -> None:
    async with db.session(settings) as s:
        await library.ensure_licence(s, {"id": "CC-BY-4.0", "name": "CC BY 4.0"})
        await library.ensure_licence(s, {"id": "CC-BY-4.0", "name": "again"})  # idempotent
        a = make_source(title="First", licence_id="CC-BY-4.0", authors=["Ada Lovelace"])
        s.add(a)
        await s.flush()
        b = make_source(kind="webpage", title="Second", authors=["Alan Turing"])
        s.add(b)
        await s.flush()
        c = make_source(owner="bob", title="Bob's")
        s.add(c)
        await s.flush()
    async with db.session(settings) as s:
        got = await library.get_source(s, a.id)
        assert got.title == "First" and got.authors == ["Ada Lovelace"] and got.status == "ready"
        assert got.meta == {} and got.references == []
        assert (await s.get(Licence, "CC-BY-4.0")).name == "CC BY 4.0"  # type: ignore[union-attr]
        with pytest.raises(NotFound):
            await library.get_source(s, a.id, owner="bob")
        with pytest.raises(NotFound):
            await library.get_source(s, new_id())
        assert (await library.find_by_hash(s, "alice", a.content_hash)).id == a.id  # type: ignore[union-attr]
        assert await library.find_by_hash(s, "bob", a.content_hash) is None
        ids = [r.id for r in await library.list_sources(s, "alice")]
        assert ids == [a.id, b.id] or set(ids) == {a.id, b.id}
        assert {r.id for r in await library.list_sources(s)} == {a.id, b.id, c.id}
        assert [r.id for r in await library.list_sources(s, "alice", kind="webpage")] == [b.id]
        assert [r.id for r in await library.list_sources(s, licence="CC-BY-4.0")] == [a.id]
        assert [r.id for r in await library.list_sources(s, author="turing")] == [b.id]
        assert len(await library.list_sources(s, limit=1)) == 1
        assert len(await library.list_sources(s, limit=10, offset=2)) == 1


async def test_chunks_figures_and_replace_content(settings: Settings) -> None:
    src = make_source()
    async with db.session(settings) as s:
        s.add(src)
        await s.flush()
        await library.replace_content(s, src.id, make_chunks(src.id, 4), [
            Figure(id=new_id(), source_id=src.id, kind="figure", label="Figure 1",
                   caption="A figure", page=2, bbox=[1.0, 2.0, 3.0, 4.0],
                   object_key=f"sources/{src.id}/figures/000.png")])
    async with db.session(settings) as s:
        chunks = await library.source_chunks(s, src.id)
        assert [c.seq for c in chunks] == [0, 1, 2, 3]
        assert chunks[3].page == 2 and chunks[3].heading_path == ["1 Introduction"]
        assert (chunks[1].char_start, chunks[1].char_end) == (10, 17)
        assert await library.chunk_counts(s, [src.id, new_id()]) == {src.id: 4}
        assert await library.chunk_counts(s, []) == {}
        by_id = await library.get_chunks(s, [chunks[0].id, chunks[2].id, new_id()])
        assert set(by_id) == {chunks[0].id, chunks[2].id}
        figs = await library.source_figures(s, src.id)
        assert [(f.label, f.page, f.bbox) for f in figs] == [("Figure 1", 2, [1.0, 2.0, 3.0, 4.0])]
        # reprocess: the new content replaces the old
        await library.replace_content(s, src.id, make_chunks(src.id, 2), [])
    async with db.session(settings) as s:
        assert len(await library.source_chunks(s, src.id)) == 2
        assert await library.source_figures(s, src.id) == []


async def test_soft_and_hard_delete(settings: Settings) -> None:
    keep, soft, hard = make_source(), make_source(), make_source()
    async with db.session(settings) as s:
        s.add_all([keep, soft, hard])
        await s.flush()
        for src in (keep, soft, hard):
            await library.replace_content(s, src.id, make_chunks(src.id, 3), [
                Figure(id=new_id(), source_id=src.id, kind="table", label="Table 1",
                       caption="t", page=1)])
    async with db.session(settings) as s:
        await library.soft_delete(s, await library.get_source(s, soft.id))
        await library.hard_delete(s, await library.get_source(s, hard.id))
    async with db.session(settings) as s:
        with pytest.raises(NotFound):
            await library.get_source(s, soft.id)
        hidden = await library.get_source(s, soft.id, include_deleted=True)
        assert hidden.deleted_at is not None and hidden.status == "deleted"
        assert len(await library.source_chunks(s, soft.id)) == 3  # soft keeps the content
        assert [r.id for r in await library.list_sources(s)] == [keep.id]
        assert {r.id for r in await library.list_sources(s, include_deleted=True)} == {
            keep.id, soft.id}
        assert await s.get(Source, hard.id) is None
        assert await library.source_chunks(s, hard.id) == []
        assert await library.source_figures(s, hard.id) == []
        assert len(await library.source_chunks(s, keep.id)) == 3


async def test_owner_and_content_hash_are_unique(settings: Settings) -> None:
    async with db.session(settings) as s:
        s.add(make_source(owner="alice", content_hash="h1"))
        s.add(make_source(owner="bob", content_hash="h1"))  # another owner may hold the same file
    with pytest.raises(IntegrityError):
        async with db.session(settings) as s:
            s.add(make_source(owner="alice", content_hash="h1"))
    async with db.session(settings) as s:
        rows = (await s.execute(select(Source).where(Source.content_hash == "h1"))).scalars()
        assert sorted(r.owner for r in rows) == ["alice", "bob"]


async def test_jobs_crud(settings: Settings) -> None:
    ids = [new_id() for _ in range(3)]
    async with db.session(settings) as s:
        for i, job_id in enumerate(ids):
            job = await jobs_db.create_job(s, job_id, "alice" if i < 2 else "bob", "ingest",
                                           {"source": f"f{i}.pdf"}, priority=3 + i)
            job.created_at = datetime.now(UTC) + timedelta(seconds=i)
    async with db.session(settings) as s:
        job = await jobs_db.get_job(s, ids[0])
        assert (job.status, job.graph, job.priority, job.attempts) == ("pending", "ingest", 3, 0)
        assert job.input == {"source": "f0.pdf"} and job.result == {}
        with pytest.raises(NotFound):
            await jobs_db.get_job(s, ids[0], owner="bob")
        with pytest.raises(NotFound):
            await jobs_db.get_job(s, new_id())
        assert [j.id for j in await jobs_db.list_jobs(s)] == ids[::-1]  # newest first
        assert [j.id for j in await jobs_db.list_jobs(s, "alice")] == ids[1::-1]
        await jobs_db.update_job(s, ids[1], status="completed", stage=None, progress=1.0,
                                 result={"source_id": "x"})
    async with db.session(settings) as s:
        done = await jobs_db.list_jobs(s, status="completed")
        assert [j.id for j in done] == [ids[1]] and done[0].result == {"source_id": "x"}
        assert done[0].progress == 1.0
        assert len(await jobs_db.list_jobs(s, limit=1, offset=1)) == 1


async def test_artifacts_and_segments(settings: Settings) -> None:
    art = Artifact(id=new_id(), owner="alice", kind="podcast", title="Episode", job_id="job-1",
                   files={"audio": "artifacts/x/audio.mp3"}, recipe={"seed": 1})
    gone = Artifact(id=new_id(), owner="alice", kind="podcast", title="Gone",
                    deleted_at=datetime.now(UTC))
    async with db.session(settings) as s:
        s.add_all([art, gone])
        await s.flush()
        s.add_all([Segment(id=new_id(), artifact_id=art.id, seq=i, speaker="A", text=f"line {i}")
                   for i in (2, 0, 1)])
    async with db.session(settings) as s:
        got = await artifacts.get_artifact(s, art.id)
        assert got.files == {"audio": "artifacts/x/audio.mp3"} and got.recipe == {"seed": 1}
        with pytest.raises(NotFound):
            await artifacts.get_artifact(s, art.id, owner="bob")
        with pytest.raises(NotFound):
            await artifacts.get_artifact(s, gone.id)
        assert [a.id for a in await artifacts.list_artifacts(s, "alice")] == [art.id]
        assert await artifacts.list_artifacts(s, kind="video") == []
        assert [g.text for g in await artifacts.segments(s, art.id)] == ["line 0", "line 1",
                                                                          "line 2"]
        assert (await artifacts.artifact_by_job(s, "job-1")).id == art.id  # type: ignore[union-attr]
        assert await artifacts.artifact_by_job(s, "job-2") is None


async def test_edges_are_idempotent_and_queryable(settings: Settings) -> None:
    async with db.session(settings) as s:
        e1 = await edges.add_edge(s, ("segment", "s1"), "DERIVED_FROM", ("chunk", "c1"),
                                  {"quote": "a"})
        e2 = await edges.add_edge(s, ("segment", "s1"), "DERIVED_FROM", ("chunk", "c1"),
                                  {"quote": "b"})
        assert e1.id == e2.id
        await edges.add_edge(s, ("segment", "s1"), "DERIVED_FROM", ("chunk", "c1"))  # keeps props
        await edges.add_edge(s, ("segment", "s2"), "DERIVED_FROM", ("chunk", "c1"))
        await edges.add_edge(s, ("artifact", "a1"), "GENERATED_FROM", ("source", "src1"))
        await edges.add_edge(s, ("source", "src1"), "HAS_LICENSE", ("licence", "CC-BY-4.0"))
        with pytest.raises(ValueError, match="unknown relation"):
            await edges.add_edge(s, ("a", "1"), "LIKES", ("b", "2"))
    async with db.session(settings) as s:
        rows = (await s.execute(select(Edge).where(Edge.src_id == "s1"))).scalars().all()
        assert len(rows) == 1 and rows[0].props == {"quote": "b"}
        assert [e.src_id for e in await edges.edges_to(s, "chunk", ["c1"])] == ["s1", "s2"]
        assert [e.dst_id for e in await edges.edges_from(s, "source", ["src1"], "HAS_LICENSE")] \
            == ["CC-BY-4.0"]
        assert await edges.edges_from(s, "source", ["src1"], "CITES") == []
        assert await edges.edges_from(s, "source", []) == []
        assert await edges.delete_node_edges(s, "source", ["src1"]) == 2
        assert await edges.delete_node_edges(s, "source", []) == 0
    async with db.session(settings) as s:
        assert await edges.edges_to(s, "source", ["src1"]) == []
        assert len(await edges.edges_to(s, "chunk", ["c1"])) == 2


# --- vectors and embeddings (storage-independent: SQLite settings only) ---------------------------

def server_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The Qdrant server code path: LIBRARIAN_TEST_QDRANT_URL when set, else qdrant-client's
    local mode standing in for the server (same API) in a temp folder."""
    import os

    from qdrant_client import QdrantClient

    url = os.environ.get("LIBRARIAN_TEST_QDRANT_URL")
    if url:
        return settings.model_copy(update={"qdrant_url": url})
    path = settings.home / "qdrant-server"
    monkeypatch.setattr(vectors, "QdrantClient", lambda **_: QdrantClient(path=str(path)))
    return settings.model_copy(update={"qdrant_url": "http://stand-in.invalid:6333"})


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, settings: Settings,
          monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Every vector store implementation: the embedded Qdrant Edge shard and the server."""
    return settings if request.param == "embedded" else server_settings(settings, monkeypatch)


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_vectors_contract(store: Settings) -> None:
    settings = store
    texts = ["Ducks are waterfowl with webbed feet.", "Swans are large water birds.",
             "The stock market fell sharply today.", "Interest rates rose again."]
    matrix = embed(texts)
    ids = [new_id() for _ in texts]
    payloads = [{"source_id": "birds" if i < 2 else "money", "owner": "alice" if i != 1 else "bob",
                 "seq": i, "page": i + 1} for i in range(4)]
    for i, p in enumerate(payloads):
        p.update(kind="pdf" if i % 2 else "webpage", language="en" if i < 3 else "de")
    sparse = [document_vector(t) for t in texts]
    await vectors.upsert(settings, ids, matrix.tolist(), sparse, payloads)
    await vectors.upsert(settings, ids, matrix.tolist(), sparse, payloads)  # idempotent
    assert await vectors.count(settings) == 4
    assert await vectors.count(settings, "birds") == 2
    query = "web-footed ducks on a pond"
    for mode in ("dense", "hybrid"):
        hits = await vectors.search(settings, embed_one(query), query_vector(query), mode=mode,
                                    limit=4)
        assert hits[0].chunk_id == ids[0] and hits[0].payload["page"] == 1
        assert hits[0].similarity is not None and hits[0].similarity > 0.3
    hits = await vectors.search(settings, embed_one(query), limit=4, mode="dense")
    assert hits[0].score > hits[-1].score
    # sparse: exact terms only; IDF ranks the rarer shared term first
    lex = await vectors.search(settings, None, query_vector("interest market"), mode="sparse")
    assert {h.chunk_id for h in lex} == {ids[2], ids[3]}
    assert await vectors.search(settings, None, query_vector("zebra"), mode="sparse") == []
    langs = await vectors.search(settings, embed_one("rates"), limit=4, languages=["de"])
    assert [h.chunk_id for h in langs] == [ids[3]]
    kinds = await vectors.search(settings, embed_one("birds"), limit=4, kinds=["pdf"],
                                 owner="alice")
    assert [h.chunk_id for h in kinds] == [ids[3]]
    own = await vectors.search(settings, embed_one("ducks"), limit=4, owner="bob")
    assert [h.chunk_id for h in own] == [ids[1]]
    money = await vectors.search(settings, embed_one("ducks"), limit=4, source_ids=["money"])
    assert {h.chunk_id for h in money} == {ids[2], ids[3]}
    got = await vectors.fetch(settings, [ids[0], ids[3], new_id()])
    assert set(got) == {ids[0], ids[3]}
    assert np.allclose(got[ids[0]], matrix[0], atol=1e-5)
    await vectors.delete_source(settings, "birds")
    assert await vectors.count(settings, "birds") == 0
    assert await vectors.count(settings) == 2
    vectors.close(settings)  # a new client on the same folder sees the stored points
    assert await vectors.count(settings) == 2


def test_embeddings_are_unit_vectors_and_semantic() -> None:
    texts = ["A cat sat on the mat.", "A kitten was sitting on the rug.",
             "Quarterly revenue grew by eight percent.", "", "x " * 2000]
    m = embed(texts)
    assert m.shape == (5, DIM) and m.dtype == np.float32
    assert np.allclose(np.linalg.norm(m, axis=1), 1.0, atol=1e-4)
    sim = m @ m.T
    assert sim[0, 1] > 0.5 > sim[0, 2]
    assert sim[0, 1] > sim[1, 2] + 0.3
    # batching and ordering do not change a vector
    alone = embed([texts[2]])[0]
    assert np.allclose(alone, m[2], atol=1e-4)
    assert np.allclose(embed(texts[::-1], batch_size=2)[::-1], m, atol=1e-4)
    assert embed([]).shape == (0, DIM)
    assert len(embed_one("hello")) == DIM


@pytest.mark.parametrize("settings", ["sqlite"], indirect=True)
async def test_dense_only_index_migrates_by_reindex(settings: Settings) -> None:
    """A library indexed before hybrid search fails loudly until `reindex`, which keeps the
    stored embeddings and adds the sparse side."""
    from qdrant_client import QdrantClient, models

    from services import catalog
    from storage.errors import ConfigError

    await db.migrate(settings)
    src = make_source(title="Layout toolkit")
    chunks = make_chunks(src.id, 2)
    chunks[0].text = "VILA groups tokens into visual layout groups before classification."
    chunks[1].text = "Reading order follows the columns of the page."
    async with db.session(settings) as s:
        s.add(src)
        await s.flush()
        s.add_all(chunks)
    old = embed([c.text for c in chunks])
    settings.vectors_dir.mkdir(parents=True, exist_ok=True)
    legacy = QdrantClient(path=str(settings.vectors_dir))  # qdrant-client local, dense only
    legacy.create_collection(vectors.LEGACY, vectors_config=models.VectorParams(
        size=DIM, distance=models.Distance.COSINE))
    legacy.upsert(vectors.LEGACY, [models.PointStruct(id=c.id, vector=v.tolist(), payload={
        "source_id": src.id, "owner": src.owner}) for c, v in zip(chunks, old, strict=True)])
    legacy.close()
    with pytest.raises(ConfigError, match="librarian reindex"):
        await catalog.search(settings, "VILA")
    done = await catalog.reindex(settings)
    assert done == {"chunks": 2, "embedded": 0, "kept": 2, "collection": vectors.COLLECTION}
    hits = await catalog.search(settings, "VILA", mode="sparse")
    assert [h.chunk_id for h in hits] == [chunks[0].id]
    assert (await catalog.search(settings, "VILA"))[0].chunk_id == chunks[0].id
    got = await vectors.fetch(settings, [chunks[1].id])
    assert np.allclose(got[chunks[1].id], old[1], atol=1e-5)  # kept, not re-embedded
    assert not settings.vectors_dir.exists() and vectors.edge_dir(settings).is_dir()
    again = await catalog.reindex(settings, reembed=True)  # a rebuild of the current index
    assert again["embedded"] == 2 and await vectors.count(settings) == 2
    kept = await catalog.reindex(settings)
    assert kept["kept"] == 2 and await vectors.count(settings) == 2
