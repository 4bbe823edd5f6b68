"""Exports in the sources' language, offline: per-language text data (tools/lang), the offline
writer's framing in Spanish, voices by language, and refusing what would mix languages."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from agents import grounding, scriptwriter, translator
from agents.script import Brief, Host, Line, Passage, WriterInput
from storage.errors import BadInput
from storage.settings import load_settings
from tests.test_cli import Cli, lines
from tools import tts
from tools.chunking import split_sentences
from tools.lang import pack, supported
from tools.language import detect

MALAGA = {"source_id": "src-es", "source_title": "Compromiso de los Ayuntamientos Malagueños con "
          "la divulgación de información responsable",
          "source_authors": ["María Pache-Durán", "María Teresa Nevado-Gil"],
          "source_year": "2021"}
PASSAGES = [
    Passage(chunk_id="es-1", seq=1, section="Introducción", page=2, **MALAGA,  # type: ignore[arg-type]
            text="Los ayuntamientos publican en sus páginas web cada vez más información sobre su "
                 "gestión económica, social y medioambiental. El objetivo del presente trabajo "
                 "consiste en analizar la relevancia que la responsabilidad social adquiere en "
                 "los municipios de la provincia de Málaga. Para ello se utiliza la técnica de "
                 "análisis de contenido sobre las páginas web de los ciento tres ayuntamientos."),
    Passage(chunk_id="es-2", seq=2, section="Resultados", page=6, **MALAGA,  # type: ignore[arg-type]
            text="Los resultados muestran que el grado de información divulgado es alto, como lo "
                 "revela el índice de divulgación total, que alcanza el 70 % de los elementos "
                 "analizados. La información que más se divulga es la social, seguida de la "
                 "información medioambiental y, por último, de la información económica."),
    Passage(chunk_id="es-3", seq=3, section="Conclusiones", page=9, **MALAGA,  # type: ignore[arg-type]
            text="Sin embargo, los municipios de menor tamaño presentan unos índices de "
                 "divulgación claramente inferiores a los de las grandes ciudades de la costa. "
                 "Estos hallazgos sugieren que los ayuntamientos pequeños necesitan apoyo técnico "
                 "para mejorar la transparencia de su gestión ante los ciudadanos."),
]
ENGLISH_FRAMING = re.compile(r"\b(?:Welcome|podcast I'm|today we're|Thanks for listening|"
                             r"What did they|Let's start|show notes)\b")


def writer_input(language: str, hosts: int = 2, seconds: float = 75.0) -> WriterInput:
    names = ["Alex", "Sam"][:hosts]
    hs = [Host(name=n, role="host", voice_id=f"v{i}") for i, n in enumerate(names)]
    return WriterInput(passages=PASSAGES, hosts=hs,
                       brief=Brief(hosts=hosts, language=language),
                       target_seconds=seconds, seconds_per_word={n: 0.4 for n in names})


def keys(node: Any, prefix: str = "") -> set[str]:
    if isinstance(node, dict):
        return {k2 for k, v in node.items() for k2 in keys(v, f"{prefix}{k}.")} | {
            prefix + k for k in node}
    return set()


def test_every_language_file_has_what_english_has() -> None:
    """A missing template would make the writer fall back to nothing: every file is complete,
    every template fills, every pattern compiles."""
    want = keys(pack("en").data)
    assert set(supported()) == {"en", "es", "pt", "fr", "it", "de"}
    for code in supported():
        lang = pack(code)
        assert keys(lang.data) >= want - {"stem_suffixes"}, (code, want - keys(lang.data))
        lang.cues(), lang.section_roles(), lang.rules("speak"), lang.rules("voice")
        for key in ("deictic", "connectives", "pronoun_start"):
            lang.pattern(key, 0)
        for role, templates in lang["question_templates"].items():
            assert all("{x}" in t for t in templates), (code, role)
        assert lang.number(2) != "2" and len(lang["calibration"].split()) > 100
    assert pack("pt-BR").code == "pt"
    with pytest.raises(BadInput, match="supported languages: de, en, es, fr, it, pt"):
        pack("nl")


def test_sentences_do_not_end_at_the_language_abbreviations() -> None:
    text = "Como señalan Pache et al. (2021), el índice sube. Véase p. ej. la tabla. Fin."
    assert split_sentences(text, "es") == [
        "Como señalan Pache et al. (2021), el índice sube.", "Véase p. ej. la tabla.", "Fin."]


def test_offline_writer_frames_a_spanish_episode_in_spanish() -> None:
    """Intro, questions, reactions and credits in Spanish; every line cites; the grounding judge
    (Spanish stop words and stemmer) keeps them."""
    inp = writer_input("es")
    out = asyncio.run(scriptwriter.write_extractive(inp))
    lines, stats = grounding.ground(out.lines, {p.chunk_id: p for p in PASSAGES},
                                    lang=pack("es"))
    assert stats["dropped"] == 0 and len(lines) >= 5
    framing = [ln.text for ln in lines if ln.kind != "content"]
    assert lines[0].text.startswith("Bienvenidos al podcast de Librarian. Soy Alex")
    assert "Pache-Durán y Nevado-Gil" in lines[-1].text and "Gracias por escuchar" in \
        lines[-1].text
    assert any(t.startswith("¿") or "¿" in t for t in framing)
    assert not any(ENGLISH_FRAMING.search(t) for t in framing), framing
    got = detect(" ".join(framing))
    assert got is not None and got[0] == "es", (got, framing)
    assert all(ln.citations and set(ln.citations) <= {p.chunk_id for p in PASSAGES}
               for ln in lines)
    assert lines[0].section == "Introducción" and lines[-1].section == "Créditos"
    spoken = " ".join(ln.text for ln in lines)
    assert "70 por ciento" in spoken and "%" not in spoken


def test_spanish_lines_with_english_claims_are_not_supported() -> None:
    """The judge works in the script's language: a Spanish line restating the source is
    supported, an invented one is not."""
    by_chunk = {p.chunk_id: p for p in PASSAGES}
    good = Line(speaker="Alex", text="La información que más se divulga es la social, seguida "
                "de la medioambiental.", citations=["es-2"])
    bad = Line(speaker="Alex", text="Los alcaldes prohibieron las bicicletas eléctricas en todas "
               "las playas durante el verano.", citations=["es-2"])
    scores = grounding.score_lines([good, bad], by_chunk, pack("es"))
    assert scores[0] >= grounding.THRESHOLD > scores[1]


def test_voices_speak_the_language(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, voice_engine="kokoro")
    assert [v.id for v in tts.pick_voices(2, None, settings, language="es")] == [
        "kokoro:ef_dora", "kokoro:em_alex"]
    assert [v.id for v in tts.pick_voices(2, None, settings, language="pt")] == [
        "kokoro:pf_dora", "kokoro:pm_alex"]
    fr = tts.pick_voices(2, None, settings, language="fr")
    assert fr[0].id == "kokoro:ff_siwis" and fr[1].id.endswith("@fr-fr")
    assert fr[1].language == "fr-fr"  # a second Kokoro speaker with French phonemes
    asked = tts.pick_voices(1, ["kokoro:af_heart"], settings, language="it")[0]
    assert (asked.id, asked.language) == ("kokoro:af_heart@it", "it")
    de = tts.pick_voices(2, None, settings, language="de")
    assert [v.id for v in de] == ["espeak:de", "espeak:de+f3"]
    notes = tts.voice_notes(de)
    assert len(notes) == 1 and "synthetic" in notes[0] and "ELEVENLABS" in notes[0]
    samples, rate = tts.synthesize("Guten Tag und willkommen.", de[1], settings)
    assert rate == 22050 and len(samples) / rate > 0.8
    cloud = load_settings(home=tmp_path, voice_engine="kokoro", elevenlabs_api_key="k")
    assert {v.provider for v in tts.pick_voices(2, None, cloud, language="de")} == \
        {"elevenlabs"}
    assert tts.pick_voices(1, None, cloud, language="es")[0].id == "kokoro:ef_dora"


def test_languages_are_settled_or_refused() -> None:
    assert translator.settle(None, {"a": "es", "b": "es", "c": None}, False) == ("es", "es")
    assert translator.settle("es-ES", {"a": "es"}, False) == ("es", "es")
    assert translator.settle("es", {"a": "pt"}, True) == ("es", "pt")
    with pytest.raises(BadInput, match="Portuguese.*Spanish.*LIBRARIAN_LLM_BASE_URL"):
        translator.settle("es", {"a": "pt"}, False)
    with pytest.raises(BadInput, match="LIBRARIAN_LLM_MODEL"):
        translator.settle(None, {"a": "en", "b": "de", "c": "en"}, False)  # mixed sources
    with pytest.raises(BadInput, match="not supported"):
        translator.settle("ja", {"a": "ja"}, True)


PT_NOTE = """# Pasta de dente fluoretada

Os municípios distribuem pasta de dente nas unidades básicas de saúde, mas a concentração de
flúor solúvel nem sempre é suficiente para prevenir a cárie dentária nas crianças.

Neste trabalho analisamos as amostras recolhidas nas unidades de Manaus e comparamos a
concentração de flúor total com a de flúor solúvel, que é a que protege os dentes.
"""


def test_cli_refuses_a_language_it_cannot_translate_into(tmp_path: Path) -> None:
    cli = Cli(tmp_path / "home")
    note = tmp_path / "nota.md"
    note.write_text(PT_NOTE, encoding="utf-8")
    got = json.loads(cli("import", "--json", str(note)).stdout)
    sid = got["source_id"]
    proc = cli("make", "podcast", "--from", sid, "--language", "es", "--minutes", "1")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    said = proc.stdout + proc.stderr
    assert "sources are in Portuguese and the export was asked in Spanish" in said
    assert "translating needs an LLM" in said and "LIBRARIAN_LLM_BASE_URL" in said
    assert len(said.strip().splitlines()) == 1, said
    proc = cli("make", "report", "--from", sid, "--language", "es")  # written: never translated
    assert proc.returncode == 1 and "quotes its sources exactly, in their language " \
        "(Portuguese)" in proc.stdout + proc.stderr
    proc = cli("make", "video", "--from", sid, "--language", "xx")
    assert proc.returncode == 1 and "'xx' is not supported" in proc.stdout + proc.stderr
    assert all(j["graph"] == "ingest" for j in lines(cli("jobs", "--json")))  # nothing started


def test_sparse_terms_are_stemmed_in_the_chunk_language() -> None:
    """A Spanish chunk is indexed with Spanish stems and without Spanish stop words; a query
    meets it when the library holds Spanish (its terms are stemmed in English and Spanish)."""
    from tools.lexical import document_vector, query_vector, tokens

    assert tokens("Los ayuntamientos divulgan la información", "es") == [
        "ayunt", "divulg", "inform"]
    assert tokens("The models were trained") == ["the", "model", "were", "train"]  # as before
    doc = set(document_vector("Los ayuntamientos divulgan información responsable.", "es")[0])
    assert not set(query_vector("ayuntamiento")[0]) & doc
    assert set(query_vector("ayuntamiento", ["en", "es"])[0]) & doc


def test_video_cards_and_framing_are_in_the_video_language() -> None:
    """Title card, end card (heading, credits, AI disclosure) and the narration's framing of a
    Spanish video: nothing in English."""
    from agents import director
    from graphs.video import for_video

    out = asyncio.run(scriptwriter.write_extractive(writer_input("es", hosts=1, seconds=25)))
    lines = for_video(out.lines, PASSAGES, "short", "es")
    assert lines[0].text.startswith("Un artículo: “Compromiso de los Ayuntamientos")
    assert lines[-1].text == "Del trabajo de Pache-Durán y Nevado-Gil."
    scenes = director.plan(lines, PASSAGES, [], title=MALAGA["source_title"], style="short",
                           portrait=True, language="es")
    title, end = scenes[0].visual, scenes[-1].visual
    assert title["kicker"] == "Breve" and "Pache-Durán y Nevado-Gil, 2021" in title["subtitle"]
    assert end["heading"] == "Fuentes" and end["disclosure"].startswith("Vídeo generado por IA")
    assert director.disclosure("en").startswith("AI-generated video")
