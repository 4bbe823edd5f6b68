"""Flashcards as an Anki deck (genanki) and CSV; the quiz as JSON and HTML.

Each card's back shows the source and page it comes from. Model and deck ids derive from the
artifact id, so a regenerated deck is byte-identical for the same cards.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
from pathlib import Path

from tools.composition import Card, QuizQuestion

BACK_CSS = ".card{font-family:sans-serif;font-size:20px}.src{font-size:14px;color:#555}"


def _int_id(seed: str) -> int:
    return int(hashlib.sha256(seed.encode()).hexdigest()[:8], 16) | (1 << 30)


def source_line(card: Card) -> str:
    page = f", p. {card.cite.page}" if card.cite.page else ""
    return f"{card.source_title}{page}"


def write_apkg(cards: list[Card], out: Path, *, deck_name: str, seed: str) -> None:
    """Write basic and cloze cards to an .apkg with fixed ids and timestamps."""
    import genanki

    basic = genanki.Model(
        _int_id(seed + ":basic"), "Librarian basic",
        fields=[{"name": "Front"}, {"name": "Back"}, {"name": "Source"}],
        templates=[{"name": "Card 1", "qfmt": "{{Front}}",
                    "afmt": '{{FrontSide}}<hr id="answer">{{Back}}'
                            '<div class="src">{{Source}}</div>'}],
        css=BACK_CSS)
    cloze = genanki.Model(
        _int_id(seed + ":cloze"), "Librarian cloze",
        fields=[{"name": "Text"}, {"name": "Source"}],
        templates=[{"name": "Cloze", "qfmt": "{{cloze:Text}}",
                    "afmt": '{{cloze:Text}}<div class="src">{{Source}}</div>'}],
        css=BACK_CSS, model_type=genanki.Model.CLOZE)
    deck = genanki.Deck(_int_id(seed + ":deck"), deck_name)
    for c in cards:
        src = html.escape(source_line(c))
        if c.kind == "basic":
            note = genanki.Note(model=basic, tags=c.tags, guid=c.id,
                                fields=[html.escape(c.front), html.escape(c.back), src])
        else:
            note = genanki.Note(model=cloze, fields=[html.escape(c.front), src], tags=c.tags,
                                guid=c.id)
        deck.add_note(note)
    package = genanki.Package(deck)
    package.write_to_file(str(out), timestamp=0.0)


def cards_csv(cards: list[Card]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["id", "kind", "front", "back", "source", "page", "chunk_id", "tags"])
    for c in cards:
        w.writerow([c.id, c.kind, c.front, c.back, c.source_title, c.cite.page or "",
                    c.cite.chunk_id, " ".join(c.tags)])
    return buf.getvalue()


def quiz_json(questions: list[QuizQuestion]) -> str:
    return json.dumps([q.model_dump() for q in questions], indent=1, ensure_ascii=False)


def quiz_html(title: str, questions: list[QuizQuestion], titles: dict[str, str]) -> str:
    """A self-contained quiz page with an answer key that cites each answer's source."""
    items, key = [], []
    for i, q in enumerate(questions, start=1):
        opts = "".join(f'<li><label><input type="radio" name="q{i}"> {html.escape(o)}</label></li>'
                       for o in q.options)
        items.append(f"<li><p>{html.escape(q.question)}</p><ol type='A'>{opts}</ol></li>")
        page = f", p. {q.cite.page}" if q.cite.page else ""
        key.append(f"<li>{chr(65 + q.answer_index)}: {html.escape(q.options[q.answer_index])} — "
                   f"“{html.escape(q.explanation)}” "
                   f"({html.escape(titles.get(q.cite.source_id, ''))}{page})</li>")
    return (f'<!DOCTYPE html><html><head><meta charset="utf-8"><title>{html.escape(title)}'
            "</title></head><body>"
            f"<h1>{html.escape(title)}</h1><ol>{''.join(items)}</ol>"
            f"<h2>Answer key</h2><ol>{''.join(key)}</ol></body></html>")
