"""Provenance end to end, offline: one podcast from VESPA + ACE (CC BY 4.0 + CC BY 3.0), then
genealogy, attribution, licences, commercial refusal, regeneration and hard delete on it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agents.requests import PodcastRequest
from server import runner
from server.client_local import LocalClient
from services import catalog
from services import lineage as provenance
from storage import artifacts, db, edges, vectors
from storage.errors import BadInput, Forbidden
from storage.objects import objects
from storage.settings import Settings, load_settings
from tests.conftest import PAPERS
from tests.test_citations import _fake_embed

VESPA = PAPERS / "vespa_webb2017_peerjcs.pdf"
ACE = PAPERS / "ace_inhibitors_douglas2014_clinsci.pdf"
NC_DOC = """# Tidal pools of the northern coast

This guide is licensed under CC BY-NC 4.0 (Creative Commons Attribution-NonCommercial 4.0).

## Life in the pools

Tidal pools hold sea anemones, small crabs and snails that survive hours without the sea.
The water warms quickly in the sun, so the animals living there tolerate large changes in
temperature and salt. Starfish feed on mussels at the edge of the pools when the tide is low.

## Visiting

Walk only on bare rock, turn stones back as you found them and leave every animal in its pool.
"""


def run(coro: Any) -> Any:
    async def wrapped() -> Any:
        try:
            return await coro
        finally:
            await db.dispose()

    return asyncio.run(wrapped())


async def job_of(settings: Settings, graph: str, params: dict[str, Any]) -> Any:
    return await runner.run_job(settings, await runner.submit(settings, graph, params))


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    settings = load_settings(home=tmp_path_factory.mktemp("provenance-home"))
    yield settings
    vectors.close(settings)


@pytest.fixture(scope="module")
def episode(home: Settings) -> dict[str, Any]:
    job = run(job_of(home, "podcast", {"sources": [str(VESPA), str(ACE)], "minutes": 1.0,
                                       "hosts": 2}))
    assert job.status == "completed", job.error
    aid = job.result["artifact_id"]

    async def load() -> dict[str, Any]:
        async with db.session(home) as s:
            art = await artifacts.get_artifact(s, aid)
            segs = await artifacts.segments(s, aid)
        return {"job": job, "artifact_id": aid, "sources": list(art.recipe["sources"]),
                "script": [(g.speaker, g.text, g.meta.get("citations")) for g in segs]}

    return dict(run(load()))


def norm(text: str) -> str:
    return " ".join(text.split())


def test_every_line_resolves_to_chunks_containing_its_quote(home: Settings,
                                                            episode: dict[str, Any]) -> None:
    gen = run(provenance.genealogy(home, episode["artifact_id"]))
    assert gen["segments"] and len(gen["segments"]) == len(episode["script"])
    quoted = 0
    for seg in gen["segments"]:
        assert seg["chunks"], seg
        for c in seg["chunks"]:
            assert not c.get("missing") and c["source_id"] in episode["sources"]
            assert c["text"] and c["page"]
            if c["quote"]:
                assert norm(c["quote"]) in norm(c["text"])
                assert c["quote_found"]
                quoted += 1
    assert quoted  # question/transition lines cite a chunk without quoting it
    assert {s["source_id"] for s in gen["sources"]} == set(episode["sources"])
    assert gen["models"] and gen["voices"] and gen["owner"] == "local"
    assert gen["run"]["job_id"] == episode["job"].id
    assert gen["recipe"]["graph"] == "podcast" and gen["recipe"]["parameters"]["minutes"] == 1.0
    trace = run(runner.trace(home, gen["run"]["job_id"]))
    assert any(step["node"] == "assemble" for step in trace)


def test_attribution_names_papers_with_authors_and_year(home: Settings,
                                                        episode: dict[str, Any]) -> None:
    att = run(provenance.attribution(home, episode["artifact_id"]))
    text = att["text"]
    assert "Webb, A. E." in text and "(2017)" in text and "VESPA" in text
    assert "Douglas, R. G." in text and "(2014)" in text and "Fragment-based design" in text
    assert "https://doi.org/10.7717/peerj-cs.118" in text
    assert all(seg["citation"] for seg in att["segments"])
    assert any("et al. (2017)" in seg["citation"] or "et al. (2014)" in seg["citation"]
               for seg in att["segments"])


def test_licences_cc_by_allows_commercial_use_with_attribution(home: Settings,
                                                               episode: dict[str, Any]) -> None:
    lic = run(provenance.licences(home, episode["artifact_id"]))
    assert set(lic["licences"]) == {"CC-BY-4.0", "CC-BY-3.0"}
    assert lic["commercial_use"] == "allowed" and lic["attribution"] == "required"
    assert lic["share_alike"] == "not required" and lic["derivatives"] == "allowed"
    assert lic["blocking_commercial"] == [] and lic["unknown"] == []
    run(provenance.check_commercial_use(home, episode["sources"]))  # no refusal


def test_acl_paper_without_stated_licence_is_unknown(home: Settings,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("tools.embed.embed", _fake_embed)  # the licence needs no embeddings
    job = run(job_of(home, "ingest", {"source": str(PAPERS / "s2orc_lo2020_acl.pdf")}))
    assert job.status == "completed", job.error
    sid = job.result["source_id"]
    lic = run(provenance.source_licences(home, [sid]))
    assert lic["licences"] == ["unknown"] and lic["commercial_use"] == "unknown"
    assert lic["attribution"] == "unknown" and lic["unknown"][0]["source_id"] == sid
    with pytest.raises(Forbidden, match="no known licence"):
        run(provenance.check_commercial_use(home, [sid]))


def test_non_commercial_source_refuses_commercial_export(home: Settings, tmp_path: Path,
                                                         episode: dict[str, Any]) -> None:
    doc = tmp_path / "tidal-pools.md"
    doc.write_text(NC_DOC)
    imported = run(job_of(home, "ingest", {"source": str(doc)}))
    assert imported.status == "completed", imported.error
    nc = imported.result["source_id"]
    assert imported.result["licence"] == "CC-BY-NC-4.0"
    sources = [nc, episode["sources"][0]]
    # every surface refuses at the request, before a job is recorded (the client, as REST)
    with pytest.raises(Forbidden, match=nc):
        run(LocalClient(home).export(PodcastRequest(sources=sources, commercial=True)))
    # the graph refuses in its first node, before any work
    refused = run(job_of(home, "podcast", {"sources": sources, "minutes": 0.5,
                                           "commercial": True}))
    assert refused.status == "failed" and refused.stage == "resolve"
    assert "commercial export refused" in refused.error and nc in refused.error
    assert "Tidal pools" in refused.error and "CC-BY-NC-4.0" in refused.error

    async def no_artifact() -> Any:
        async with db.session(home) as s:
            return await artifacts.artifact_by_job(s, refused.id)

    assert run(no_artifact()) is None
    accepted = run(job_of(home, "podcast", {"sources": [nc], "minutes": 0.5, "hosts": 1,
                                            "commercial": False}))
    assert accepted.status == "completed", accepted.error
    lic = run(provenance.licences(home, accepted.result["artifact_id"]))
    assert lic["commercial_use"] == "not allowed" and lic["blocking_commercial"][0][
        "source_id"] == nc


def test_regenerate_gives_identical_script_and_a_new_version(home: Settings,
                                                             episode: dict[str, Any]) -> None:
    aid = episode["artifact_id"]
    with pytest.raises(BadInput, match="cannot override"):
        run(runner.regenerate(home, aid, {"seed": 3}))
    job_id = run(runner.regenerate(home, aid, {}, "same recipe, check determinism"))
    job = run(runner.run_job(home, job_id))
    assert job.status == "completed", job.error
    new = job.result["artifact_id"]
    assert new != aid

    async def load() -> tuple[Any, Any, list[Any]]:
        async with db.session(home) as s:
            art = await artifacts.get_artifact(s, new)
            segs = await artifacts.segments(s, new)
            vers = await edges.edges_from(s, "artifact", [new], "VERSION_OF")
        return art, segs, vers

    art, segs, vers = run(load())
    assert [(g.speaker, g.text, g.meta.get("citations")) for g in segs] == episode["script"]
    assert art.version_of == aid and [e.dst_id for e in vers] == [aid]
    gen = run(provenance.genealogy(home, new))
    assert gen["versions"]["previous"][0]["artifact_id"] == aid
    assert gen["versions"]["reason"] == "same recipe, check determinism"
    assert run(provenance.genealogy(home, aid))["versions"]["newer"] == [new]
    made = run(provenance.generated_content(home, episode["sources"][0]))
    assert {a["artifact_id"] for a in made} >= {aid, new}
    imp = run(provenance.impact(home, aid))
    assert [w["artifact_id"] for w in imp["derivative_works"]] == [new]
    assert "metrics" not in imp and "views" not in imp


def test_hard_delete_reports_dependants_and_cascade_orphans(home: Settings,
                                                            episode: dict[str, Any]) -> None:
    aid = episode["artifact_id"]
    vespa = episode["sources"][0]
    made = {a["artifact_id"] for a in run(provenance.generated_content(home, vespa))}
    with pytest.raises(BadInput, match="dependent artifact") as err:
        run(catalog.delete_source(home, vespa, hard=True))
    assert aid in str(err.value)
    res = run(catalog.delete_source(home, vespa, hard=True, cascade=True))
    assert set(res["orphaned"]) == made

    async def state() -> tuple[str, bool]:
        async with db.session(home) as s:
            art = await artifacts.get_artifact(s, aid)
        return art.status, await objects(home).exists(art.files["audio"])

    assert run(state()) == ("orphaned", True)
    gen = run(provenance.genealogy(home, aid))  # still answers, naming what is gone
    assert any(s.get("missing") for s in gen["sources"])
    assert any(c.get("missing") for g in gen["segments"] for c in g["chunks"])
