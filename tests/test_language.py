"""Language detection at import: offline (py3langid's bundled model), from running text."""

from __future__ import annotations

from tools.chunking import split_sentences
from tools.document import Block, Document
from tools.language import apply_language, detect

TEXTS = {
    "es": ("Los ayuntamientos publican en sus sitios web cada vez más información sobre su "
           "gestión. En este trabajo analizamos el grado de divulgación de la información en los "
           "municipios de la provincia de Málaga y proponemos un índice para compararlos."),
    "pt": ("Os municípios publicam cada vez mais informações sobre a sua gestão nos seus sítios "
           "eletrônicos. Neste trabalho analisamos o grau de divulgação da informação e propomos "
           "um índice que permite comparar as prefeituras entre si ao longo do tempo."),
    "de": ("Die Gemeinden veröffentlichen auf ihren Internetseiten immer mehr Informationen über "
           "ihre Verwaltung. In dieser Arbeit untersuchen wir, wie viel davon offengelegt wird, "
           "und schlagen einen Index vor, mit dem sich die Gemeinden vergleichen lassen."),
    "fr": ("Les communes publient sur leurs sites web de plus en plus d'informations sur leur "
           "gestion. Dans ce travail, nous analysons le degré de divulgation de l'information et "
           "proposons un indice qui permet de comparer les municipalités entre elles."),
}
ENGLISH_REFS = ("Nevado, M. T.; Gallardo, D. Social responsibility information on the web pages "
                "of town councils. Journal of Public Affairs 2016, 12(3): 1-20.")


def test_detects_the_languages_of_the_corpus() -> None:
    for lang, text in TEXTS.items():
        got = detect(text)
        assert got is not None and got[0] == lang, (lang, got)
    assert detect("Too short.") is None


def test_running_text_decides_not_references_or_declared_tag() -> None:
    blocks = [Block("Resumen", kind="heading")] + [
        Block(TEXTS["es"], heading_path=["Resumen"]) for _ in range(3)] + [
        Block(ENGLISH_REFS, heading_path=["Referencias"]) for _ in range(20)]
    doc = Document(kind="webpage", title="T", blocks=blocks, language="en")  # a wrong lang tag
    apply_language(doc)
    assert doc.language == "es"
    short = Document(kind="webpage", title="T", blocks=[Block("Hola.")], language="es-ES")
    apply_language(short)
    assert short.language == "es-ES"  # too little text to overrule what the page declares


def test_sentences_split_before_accented_capitals_and_inverted_marks() -> None:
    assert split_sentences("Primera frase. Él llegó. ¿Qué pasó? Último punto.") == [
        "Primera frase.", "Él llegó.", "¿Qué pasó?", "Último punto."]
