"""services.provenance.record_artifact: one artifact's row, segments and every edge, atomically."""

from __future__ import annotations

import pytest

from agents.script import Passage
from services.provenance import (
    ArtifactRecord,
    Maker,
    Piece,
    artifact_id_for,
    record_artifact,
    segment_id,
    writer_maker,
)
from storage import artifacts, db, edges, library
from storage.models import Source
from storage.objects import objects
from storage.settings import Settings

TEXT_A = "Cats sleep sixteen hours a day. They hunt at dusk."
TEXT_B = "Dogs were domesticated early. They herd sheep."


async def _sources(settings: Settings) -> None:
    async with db.session(settings) as s:
        for lid in ("CC-BY-4.0", "CC-BY-NC-4.0"):
            await library.ensure_licence(s, {"id": lid, "name": lid})
        s.add(Source(id="src-a", owner="ann", kind="paper", title="Cats", content_hash="a",
                     licence_id="CC-BY-4.0"))
        s.add(Source(id="src-b", owner="ann", kind="paper", title="Dogs", content_hash="b",
                     licence_id="CC-BY-NC-4.0"))


def _record(job: str = "job-1", version_of: str | None = None) -> ArtifactRecord:
    aid = artifact_id_for(job)
    passages = [Passage(chunk_id="c-a", source_id="src-a", seq=0, text=TEXT_A),
                Passage(chunk_id="c-b", source_id="src-b", seq=0, text=TEXT_B)]
    pieces = [
        Piece(seq=0, kind="content", text="Cats sleep a lot, and dogs herd.",
              citations=["c-a", "c-b"], quote="Cats sleep sixteen hours a day. They herd sheep.",
              speaker="Ann", start_s=0.0, end_s=2.5, support=0.8),
        Piece(seq=1, kind="scene", text="A figure of a cat.", citations=["c-a", "c-b"],
              quote="They hunt at dusk.", support=0.6,
              figure={"id": "fig-1", "source_id": "src-a", "label": "Figure 1", "page": 2,
                      "object_key": "figures/fig-1.png", "caption": "A cat"}),
    ]
    return ArtifactRecord(
        id=aid, kind="podcast", owner="ann", title="Pets", job_id=job,
        files={"audio": f"artifacts/{aid}/a.mp3"}, recipe={"graph": "podcast", "seed": 7},
        duration_s=2.5, version_of=version_of, pieces=pieces, passages=passages,
        models=[writer_maker("extractive", None)],
        voices=[Maker(id="piper:joe", props={"host": "Ann", "role": "host"})])


async def test_every_edge_is_written_with_quoted_spans_licences_and_recipe(
        settings: Settings) -> None:
    await _sources(settings)
    rec = _record()
    await record_artifact(settings, rec)
    async with db.session(settings) as s:
        art = await artifacts.get_artifact(s, rec.id, "ann")
        segs = await artifacts.segments(s, rec.id)
        out = await edges.edges_from(s, "artifact", [rec.id])
        derived = await edges.edges_from(s, "segment", [g.id for g in segs], "DERIVED_FROM")
    assert [g.id for g in segs] == [segment_id(rec.id, 0), segment_id(rec.id, 1)]
    assert segs[0].meta["citations"] == ["c-a", "c-b"] and segs[0].speaker == "Ann"
    assert segs[1].meta["figure"]["caption"] == "A cat"
    quotes = {(e.src_id, e.dst_id): e.props for e in derived}
    line, scene = segment_id(rec.id, 0), segment_id(rec.id, 1)
    # each chunk gets the part of the quote it holds
    assert quotes[(line, "c-a")]["quote"] == "Cats sleep sixteen hours a day."
    assert quotes[(line, "c-b")]["quote"] == "They herd sheep."
    assert quotes[(line, "c-b")]["source_id"] == "src-b"
    # the figure is credited on the chunk of the figure's own source only
    assert quotes[(scene, "c-a")]["figure"]["id"] == "fig-1"
    assert "figure" not in quotes[(scene, "c-b")] and quotes[(scene, "c-b")]["quote"] == ""
    by_rel: dict[str, dict[str, dict[str, object]]] = {}
    for e in out:
        by_rel.setdefault(e.rel, {})[e.dst_id] = e.props or {}
    assert set(by_rel["GENERATED_FROM"]) == {"src-a", "src-b"}
    assert by_rel["HAS_LICENSE"] == {"CC-BY-4.0": {"sources": ["src-a"]},
                                     "CC-BY-NC-4.0": {"sources": ["src-b"]}}
    assert by_rel["GENERATED_BY"]["job-1"] == {"recipe": {"graph": "podcast", "seed": 7}}
    assert by_rel["GENERATED_BY"]["extractive@extractive"]["writer"] == "extractive"
    assert by_rel["NARRATED_BY"]["piper:joe"] == {"host": "Ann", "role": "host"}
    assert by_rel["CREATED_BY"]["ann"] == {"job_id": "job-1"}
    assert art.meta["licence"]["commercial_use_allowed"] is False
    assert art.meta["licence"]["licences"] == ["CC-BY-4.0", "CC-BY-NC-4.0"]


async def test_recording_again_replaces_and_versions_link(settings: Settings) -> None:
    await _sources(settings)
    first = _record()
    await record_artifact(settings, first)
    await record_artifact(settings, first)  # a resumed job finishing again
    second = _record("job-2", version_of=first.id)
    await record_artifact(settings, second)
    async with db.session(settings) as s:
        segs = await artifacts.segments(s, first.id)
        derived = await edges.edges_from(s, "segment", [g.id for g in segs], "DERIVED_FROM")
        version = await edges.edges_from(s, "artifact", [second.id], "VERSION_OF")
    assert len(segs) == 2 and len(derived) == 4
    assert [e.dst_id for e in version] == [first.id]


async def test_a_failed_record_leaves_no_files_and_no_rows(settings: Settings) -> None:
    await _sources(settings)
    rec = _record()
    store = objects(settings)
    await store.put(rec.files["audio"], b"ID3", "audio/mpeg")
    rec.pieces[1].seq = 0  # two segments with one id: the transaction fails
    with pytest.raises(Exception):  # noqa: B017 - the database's own integrity error
        await record_artifact(settings, rec)
    assert not await store.exists(rec.files["audio"])
    async with db.session(settings) as s:
        assert await edges.edges_from(s, "artifact", [rec.id]) == []
        assert await artifacts.segments(s, rec.id) == []
