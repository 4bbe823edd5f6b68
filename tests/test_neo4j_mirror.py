"""The Neo4j mirror at the driver boundary (a fake driver), plus a contract test against a real
server when LIBRARIAN_TEST_NEO4J_URL is set."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from storage import db, edges, neo4j_mirror
from storage.models import Source
from storage.settings import Settings, load_settings


class FakeResult:
    async def consume(self) -> None:
        return None


class FakeTx:
    def __init__(self, log: list[tuple[str, dict[str, Any]]]) -> None:
        self.log = log

    async def run(self, query: str, params: dict[str, Any] | None = None) -> FakeResult:
        self.log.append((query, json.loads(json.dumps(params or {}))))
        return FakeResult()


class FakeSession:
    def __init__(self, driver: FakeDriver) -> None:
        self.driver = driver

    async def __aenter__(self) -> FakeSession:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def execute_write(self, work: Any) -> Any:
        if self.driver.fail:
            raise ConnectionError("neo4j is down")
        tx_log: list[tuple[str, dict[str, Any]]] = []
        res = await work(FakeTx(tx_log))
        self.driver.transactions.append(tx_log)
        return res


class FakeDriver:
    """Captures every statement, grouped by write transaction."""

    def __init__(self, fail: bool = False) -> None:
        self.transactions: list[list[tuple[str, dict[str, Any]]]] = []
        self.fail = fail
        self.closed = False

    def session(self) -> FakeSession:
        return FakeSession(self)

    async def close(self) -> None:
        self.closed = True

    @property
    def queries(self) -> list[tuple[str, dict[str, Any]]]:
        return [q for tx in self.transactions for q in tx]


def edge_op(i: int, rel: str = "DERIVED_FROM") -> neo4j_mirror.Op:
    return ("add", {"src_type": "segment", "src": f"seg{i}", "rel": rel, "dst_type": "chunk",
                    "dst": f"c{i}", "props": {"quote": "q", "support": 0.5, "nested": {"a": 1},
                                              "none": None}})


def test_statements_batch_by_labels_and_relation() -> None:
    ops = [edge_op(i) for i in range(5)] + [
        ("add", {"src_type": "source", "src": "s1", "rel": "CITES", "dst_type": "source",
                 "dst": "s2", "props": {"matched_by": "title"}})]
    stmts = neo4j_mirror.statements(ops, batch=2)
    derived = [(q, p) for q, p in stmts if ":DERIVED_FROM]" in q]
    assert [len(p["rows"]) for _, p in derived] == [2, 2, 1]
    q = derived[0][0]
    assert q.startswith("UNWIND $rows AS row MERGE (a:Segment {id: row.src})")
    assert "MERGE (b:Chunk {id: row.dst})" in q and "SET r = row.props" in q
    row = derived[0][1]["rows"][0]
    assert row == {"src": "seg0", "dst": "c0",
                   "props": {"quote": "q", "support": 0.5, "nested": '{"a": 1}'}}
    cites = [q for q, _ in stmts if "CITES" in q]
    assert cites == ["UNWIND $rows AS row MERGE (a:Source {id: row.src}) MERGE (b:Source "
                     "{id: row.dst}) MERGE (a)-[r:CITES]->(b) SET r = row.props"]


def test_statements_keep_order_of_deletes_and_adds() -> None:
    ops: list[neo4j_mirror.Op] = [
        ("del_nodes", {"type": "segment", "ids": ["seg0", "seg1"]}), edge_op(0),
        ("del_edge", {"src_type": "source", "src": "a", "rel": "CITES", "dst_type": "source",
                      "dst": "b", "props": {}})]
    stmts = neo4j_mirror.statements(ops)
    assert stmts[0] == ("UNWIND $ids AS id MATCH (n:Segment {id: id}) DETACH DELETE n",
                        {"ids": ["seg0", "seg1"]})
    assert "MERGE (a)-[r:DERIVED_FROM]->(b)" in stmts[1][0]
    assert stmts[2][0].endswith("-[r:CITES]->(b:Source {id: row.dst}) DELETE r")


def test_labels_and_relations_are_whitelisted() -> None:
    with pytest.raises(ValueError):
        neo4j_mirror.statements([("add", {"src_type": "source`) DETACH DELETE (x", "src": "a",
                                          "rel": "CITES", "dst_type": "source", "dst": "b",
                                          "props": {}})])
    with pytest.raises(ValueError):
        neo4j_mirror.edge_statements([{"src_type": "source", "src": "a", "rel": "X]->(b) //",
                                       "dst_type": "source", "dst": "b", "props": {}}])


def mirrored_settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path / "home", neo4j_url="bolt://neo4j.invalid:7687",
                         neo4j_password="test-password-1")


async def _add_source(settings: Settings, sid: str) -> None:
    async with db.session(settings) as s:
        s.add(Source(id=sid, owner="local", kind="paper", title="A paper", content_hash=sid,
                     published="2020", authors=["Ada Lovelace"]))


def test_committed_edge_writes_are_mirrored_in_order(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    settings = mirrored_settings(tmp_path)
    fake = FakeDriver()
    monkeypatch.setattr(neo4j_mirror, "open_driver", lambda _s: fake)

    async def go() -> None:
        try:
            await _add_source(settings, "s1")
            async with db.session(settings) as s:
                await edges.add_edge(s, ("source", "s1"), "CREATED_BY", ("owner", "local"),
                                     {"job_id": "j1"})
                await edges.add_edge(s, ("source", "s1"), "HAS_LICENSE", ("licence", "CC-BY-4.0"))
            assert len(fake.transactions) == 1 and fake.closed
            queries = fake.queries
            assert any(":CREATED_BY]" in q and p["rows"] == [
                {"src": "s1", "dst": "local", "props": {"job_id": "j1"}}] for q, p in queries)
            node = [p for q, p in queries if q.startswith("UNWIND $rows AS row MERGE (n:Source")]
            assert node and node[0]["rows"][0]["props"]["title"] == "A paper"
            # a rolled-back session mirrors nothing
            with pytest.raises(RuntimeError):
                async with db.session(settings) as s:
                    await edges.add_edge(s, ("source", "s1"), "CITES", ("source", "s2"))
                    raise RuntimeError("boom")
            assert len(fake.transactions) == 1
            async with db.session(settings) as s:
                await edges.delete_node_edges(s, "source", ["s1"])
            assert fake.transactions[-1][0][0].startswith("UNWIND $ids AS id MATCH (n:Source")
        finally:
            await db.dispose()

    asyncio.run(go())


def test_mirror_failure_keeps_the_db_write(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           caplog: pytest.LogCaptureFixture) -> None:
    settings = mirrored_settings(tmp_path)
    monkeypatch.setattr(neo4j_mirror, "open_driver", lambda _s: FakeDriver(fail=True))

    async def go() -> None:
        try:
            async with db.session(settings) as s:
                await edges.add_edge(s, ("source", "s1"), "CREATED_BY", ("owner", "local"))
            async with db.session(settings) as s:
                assert len(await edges.edges_from(s, "source", ["s1"])) == 1
        finally:
            await db.dispose()

    asyncio.run(go())
    assert "provenance sync" in caplog.text


def test_sync_rebuilds_from_the_db(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home")  # no URL: writes are not mirrored
    fake = FakeDriver()

    async def go() -> dict[str, int]:
        try:
            await _add_source(settings, "s1")
            await _add_source(settings, "s2")
            async with db.session(settings) as s:
                await edges.add_edge(s, ("source", "s1"), "CITES", ("source", "s2"),
                                     {"matched_by": "doi", "score": 1.0})
                for i in range(3):
                    await edges.add_edge(s, ("segment", f"g{i}"), "DERIVED_FROM",
                                         ("chunk", f"c{i}"), {"quote": "x"})
            return await neo4j_mirror.sync(settings, driver=fake, batch=2)
        finally:
            await db.dispose()

    counts = asyncio.run(go())
    assert counts["edges"] == 4
    queries = [q for q, _ in fake.queries]
    assert queries[0].startswith("CREATE CONSTRAINT librarian_source_id IF NOT EXISTS")
    wipe = [q for q in queries if "DETACH DELETE n" in q and q.startswith("MATCH (n)")]
    assert wipe and "n:Source" in wipe[0] and "n:Artifact" in wipe[0]
    assert queries.index(wipe[0]) < min(i for i, q in enumerate(queries) if "MERGE" in q)
    derived = [p for q, p in fake.queries if ":DERIVED_FROM]" in q]
    assert [len(p["rows"]) for p in derived] == [2, 1]


@pytest.mark.skipif(not os.environ.get("LIBRARIAN_TEST_NEO4J_URL"),
                    reason="set LIBRARIAN_TEST_NEO4J_URL (and _USER/_PASSWORD) for a real Neo4j")
def test_contract_against_a_real_server(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path / "home",
                             neo4j_url=os.environ["LIBRARIAN_TEST_NEO4J_URL"],
                             neo4j_user=os.environ.get("LIBRARIAN_TEST_NEO4J_USER", "neo4j"),
                             neo4j_password=os.environ.get("LIBRARIAN_TEST_NEO4J_PASSWORD",
                                                           "neo4j-test-password"))
    a, b = f"t-{uuid.uuid4()}", f"t-{uuid.uuid4()}"

    async def go() -> list[Any]:
        try:
            await _add_source(settings, a)
            await _add_source(settings, b)
            for _ in range(2):  # idempotent: the second write changes nothing
                async with db.session(settings) as s:
                    await edges.add_edge(s, ("source", a), "CITES", ("source", b),
                                         {"matched_by": "doi", "score": 1.0})
            await neo4j_mirror.sync(settings)
            driver = neo4j_mirror.open_driver(settings)
            try:
                async with driver.session() as session:
                    res = await session.run(
                        "MATCH (x:Source {id: $a})-[r:CITES]->(y:Source {id: $b}) "
                        "RETURN count(r) AS n, x.title AS title", {"a": a, "b": b})
                    return [dict(r) async for r in res]
            finally:
                await driver.close()
        finally:
            await db.dispose()

    assert asyncio.run(go()) == [{"n": 1, "title": "A paper"}]
