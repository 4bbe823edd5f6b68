"""tools.pdf_front: abstracts in their common forms and author names, on synthetic blocks."""

from __future__ import annotations

from tools.document import Block
from tools.pdf_front import _SEPARATOR, _name, letters, pick_abstract


def _blocks(*items: tuple[str, str]) -> list[Block]:
    out = []
    for kind, text in items:
        out.append(Block(text=text, kind=kind, page=1, level=1 if kind == "heading" else None))
    return out


BODY_ES = ("El estudio de los ayuntamientos de la provincia muestra que la divulgación de la "
           "información es alta y que los datos de las páginas web son de calidad.")


def test_abstract_in_the_language_of_the_body() -> None:
    blocks = _blocks(("heading", "Resumen"), ("paragraph", "La divulgación de la información "
                     "sobre responsabilidad social se desarrolló en el sector privado."),
                     ("heading", "Abstract"), ("paragraph", "The dissemination of information on "
                     "social responsibility was developed in the private sector."),
                     ("heading", "Introducción"), ("paragraph", BODY_ES), ("paragraph", BODY_ES))
    text, how = pick_abstract(blocks)
    assert how == "heading" and text and text.startswith("La divulgación")


def test_structured_abstract_without_heading_keeps_its_labels() -> None:
    blocks = _blocks(("front", "Received 1 May 2020"),
                     ("paragraph", "Objectives: To find out whether it works."),
                     ("paragraph", "Methods: We measured it twice."),
                     ("paragraph", "Conclusions: It works."),
                     ("heading", "Introduction"), ("paragraph", "Running text " * 30))
    text, how = pick_abstract(blocks)
    assert how == "structured"
    assert text == ("Objectives: To find out whether it works. Methods: We measured it twice. "
                    "Conclusions: It works.")


def test_abstract_ends_at_keywords_and_lead_paragraph_fallback() -> None:
    blocks = _blocks(("heading", "A B S T R A C T"), ("paragraph", "We study things."),
                     ("front", "Keywords: things"), ("paragraph", "Not the abstract."))
    assert pick_abstract(blocks) == ("We study things.", "heading")
    lead = "The aim of this work is to describe a thing in enough words to be a paragraph. " * 2
    blocks = _blocks(("front", "1 Institute of Things 2 University of Stuff and more words here"),
                     ("heading", "Computational things"), ("paragraph", lead))
    assert pick_abstract(blocks) == (lead, "lead paragraph")
    assert letters("A B S T R A C T") == "ABSTRACT" and letters("A Study") == "A Study"


def test_author_names_split_by_marks_and_conjunctions() -> None:
    line = ("Carlos Henrique Saraiva DIAS | , Igor DO VALE | * , Leonardo de la Roca | , "
            "and Americo Cunha Jr | | Rev Saude Publica. | Mayara Costa Carneiro Ramos |")
    names = [n for p in _SEPARATOR.split(line) if (n := _name(p))]
    assert names == ["Carlos Henrique Saraiva Dias", "Igor Do Vale", "Leonardo de la Roca",
                     "Americo Cunha Jr", "Mayara Costa Carneiro Ramos"]
    assert _name("Descriptors: Toothpastes") is None and _name("the first words") is None
