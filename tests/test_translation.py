"""Translation as a graph step (the LLM faked): a Portuguese source asked in Spanish gives a
Spanish episode whose lines keep DERIVED_FROM the Portuguese chunks with a TRANSLATED_FROM note;
`--languages` makes one artifact per language, VERSION_OF the first."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from agents import translator
from agents.script import Line, Passage
from server import cli_make
from server.client_local import LocalClient
from storage import artifacts, db, edges, library, vectors
from storage.settings import Settings, load_settings
from tests.test_languages import PT_NOTE
from tests.test_llm_writer import FakeChat

PT = Passage(chunk_id="pt-1", source_id="src-pt", seq=0, text="Os municípios distribuem pasta.",
             source_title="Pasta de dente")


def translate_reply(schema: str, prompt: str) -> dict[str, Any]:
    """Every numbered line, marked as translated (what a model would return, in shape)."""
    assert schema == "Translations" and "from Portuguese to Spanish" in prompt
    found = re.findall(r"^\[(\d+)\] (.*)$", prompt, re.M)
    return {"lines": [{"id": int(i), "text": f"Traducido: {text}"} for i, text in found]}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(home=tmp_path, llm_base_url="http://127.0.0.1:9/v1",
                         llm_model="fake-translator", llm_api_key="sk-test")


def test_translated_lines_keep_citations_and_note_the_original(settings: Settings) -> None:
    lines = [Line(speaker="Alex", kind="intro", text="Bem-vindos ao podcast.", citations=["pt-1"]),
             Line(speaker="Sam", text="Os municípios distribuem pasta.", citations=["pt-1"],
                  quote="Os municípios distribuem pasta.")]
    fake = FakeChat(respond=translate_reply)
    out, usage = asyncio.run(translator.translate(lines, [PT], {"src-pt": "pt"}, "pt", "es",
                                                  settings, fake))
    assert usage["calls"] == 1 and len(fake.calls) == 1
    assert [ln.text for ln in out] == ["Traducido: Bem-vindos ao podcast.",
                                      "Traducido: Os municípios distribuem pasta."]
    for before, after in zip(lines, out, strict=True):
        assert after.citations == before.citations and after.quote == before.quote
        assert after.meta["translated_from"] == {
            "language": "pt", "text": before.text, "model": "fake-translator",
            "prompt_hash": translator.PROMPT_HASH}
    same, usage = asyncio.run(translator.translate(lines, [PT], {"src-pt": "pt"}, "pt", "pt",
                                                   settings, fake))
    assert same == lines and usage == {} and len(fake.calls) == 1  # nothing to translate


def test_missing_translation_fails_clearly(settings: Settings) -> None:
    lines = [Line(speaker="Alex", text="Os municípios distribuem pasta.", citations=["pt-1"])]
    fake = FakeChat(respond=lambda schema, prompt: {"lines": []})
    with pytest.raises(Exception, match="no translation for line 1"):
        asyncio.run(translator.translate(lines, [PT], {"src-pt": "pt"}, "pt", "es", settings,
                                         fake))


def test_portuguese_source_in_spanish_then_portuguese(settings: Settings, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """`make_each` (what `--languages es,pt` runs): a Spanish episode translated by the LLM
    step, then a Portuguese one (no translation) that is a VERSION_OF it."""
    fake = FakeChat(respond=translate_reply)
    monkeypatch.setattr(translator, "chat_model", lambda *a, **k: fake)
    note = tmp_path / "nota.md"
    note.write_text(PT_NOTE, encoding="utf-8")
    lib = LocalClient(settings)

    async def go() -> tuple[list[dict[str, Any]], dict[str, Any]]:
        sid = (await lib.wait((await lib.import_item(str(note)))["job_id"]))["result"][
            "source_id"]
        req = cli_make.build(cli_make.PodcastRequest, "podcast", None, {
            "sources": [sid], "minutes": 0.5, "style": "lecture", "writer": "extractive",
            "music": False})
        jobs = await cli_make.make_each(lib, req, ["es", "pt"], "audio", None, True)
        async with db.session(settings) as s:
            aids = [j["result"]["artifact_id"] for j in jobs]
            segs = await artifacts.segments(s, aids[0])
            derived = await edges.edges_from(s, "segment", [x.id for x in segs], "DERIVED_FROM")
            chunks = await library.get_chunks(s, sorted({e.dst_id for e in derived}))
            versions = await edges.edges_from(s, "artifact", aids[1:], "VERSION_OF")
            first = await artifacts.get_artifact(s, aids[0])
        await db.dispose()
        return jobs, {"segs": segs, "derived": derived, "chunks": chunks, "versions": versions,
                      "first": first, "sid": sid}

    try:
        jobs, got = asyncio.run(go())
    finally:
        vectors.close(settings)
    assert [j["status"] for j in jobs] == ["completed", "completed"], jobs
    es, pt = jobs[0]["result"], jobs[1]["result"]
    assert any("translated into Spanish by the LLM" in n for n in es["notes"])
    assert not any("translated" in n for n in pt["notes"])
    assert got["first"].recipe["languages"] == {"spoken": "es", "written": "pt"}
    assert got["first"].recipe["parameters"]["language"] == "es"
    assert got["first"].recipe["models"]["voices"] == ["kokoro:ef_dora"]
    assert got["segs"] and all(s.text.startswith("Traducido: ") for s in got["segs"])
    assert all(s.meta["translated_from"]["language"] == "pt" for s in got["segs"])
    assert {c.source_id for c in got["chunks"].values()} == {got["sid"]}  # the Portuguese chunks
    assert got["derived"] and all(e.props["translated_from"]["language"] == "pt"
                                  for e in got["derived"])
    assert [(e.src_id, e.dst_id) for e in got["versions"]] == [
        (pt["artifact_id"], es["artifact_id"])]
