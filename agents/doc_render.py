"""Write each document export's files into a folder: report (md, html, pdf), ebook (epub),
flashcards (apkg, csv), quiz (json, html), newsletter (html e-mail, text, md), slides (pptx, pdf).

Every renderer is deterministic for the same content: ids derive from `seed` (the recipe's hash,
not the artifact id), zip containers get fixed timestamps, and dates come from the sources.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from pathlib import Path

from tools import anki, epub, newsletter, report_render, slides
from tools.composition import Card, Composition, QuizQuestion
from tools.zipfix import normalise_zip

MEDIA = {".md": "text/markdown", ".html": "text/html", ".pdf": "application/pdf",
         ".epub": "application/epub+zip", ".apkg": "application/octet-stream",
         ".csv": "text/csv", ".json": "application/json", ".txt": "text/plain",
         ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
         ".png": "image/png"}


def _data_uris(figures: dict[str, Path]) -> dict[str, str]:
    return {fid: "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode()
            for fid, p in figures.items()}


def stamp(doc: Composition) -> datetime:
    """A date that depends only on the inputs: the newest source's date in the library."""
    days = sorted(r.added for r in doc.sources if r.added)
    return datetime.fromisoformat(days[-1]).replace(tzinfo=UTC) if days else datetime(
        2000, 1, 1, tzinfo=UTC)


def report(doc: Composition, folder: Path, figures: dict[str, Path]) -> dict[str, Path]:
    rel = {fid: f"images/{fid}.png" for fid in figures}
    md = folder / "report.md"
    md.write_text(report_render.to_markdown(doc, rel), encoding="utf-8")
    page = report_render.to_html(doc, _data_uris(figures))
    html_file = folder / "report.html"
    html_file.write_text(page, encoding="utf-8")
    pdf = folder / "report.pdf"
    report_render.html_to_pdf(page, pdf, folder)
    out = {"markdown": md, "html": html_file, "pdf": pdf}
    (folder / "images").mkdir(exist_ok=True)
    for fid, path in figures.items():
        target = folder / rel[fid]
        target.write_bytes(path.read_bytes())
        out[f"image-{fid}"] = target
    return out


def ebook(doc: Composition, folder: Path, figures: dict[str, Path], *, seed: str,
          licence: str) -> dict[str, Path]:
    authors = list(dict.fromkeys(a for r in doc.sources for a in r.authors))
    subtitle = f"From {len(doc.sources)} source{'s' if len(doc.sources) != 1 else ''}"
    out = folder / "book.epub"
    epub.write_epub(doc, out, identifier=f"urn:librarian:{seed}",
                    cover_png=epub.cover_image(doc.title, subtitle), figures=figures,
                    authors=authors, licence=licence, mtime=stamp(doc))
    normalise_zip(out)
    return {"epub": out}


def flashcards(cards: list[Card], folder: Path, *, title: str, seed: str) -> dict[str, Path]:
    deck = folder / "deck.apkg"
    anki.write_apkg(cards, deck, deck_name=title, seed=seed)
    normalise_zip(deck)
    csv_file = folder / "cards.csv"
    csv_file.write_text(anki.cards_csv(cards), encoding="utf-8")
    return {"apkg": deck, "csv": csv_file}


def quiz(questions: list[QuizQuestion], folder: Path, *, title: str,
         titles: dict[str, str]) -> dict[str, Path]:
    js = folder / "quiz.json"
    js.write_text(anki.quiz_json(questions), encoding="utf-8")
    page = folder / "quiz.html"
    page.write_text(anki.quiz_html(title, questions, titles), encoding="utf-8")
    return {"json": js, "html": page}


def newsletter_files(doc: Composition, folder: Path, *, library_url: str) -> dict[str, Path]:
    files = {"html": folder / "newsletter.html", "text": folder / "newsletter.txt",
             "markdown": folder / "newsletter.md"}
    files["html"].write_text(newsletter.to_email_html(doc, library_url), encoding="utf-8")
    files["text"].write_text(newsletter.to_text(doc, library_url), encoding="utf-8")
    files["markdown"].write_text(newsletter.to_markdown(doc, library_url), encoding="utf-8")
    return files


def deck(doc: Composition, planned: list[slides.Slide], folder: Path,
         figures: dict[str, Path]) -> dict[str, Path]:
    pptx = folder / "slides.pptx"
    slides.write_pptx(planned, pptx, figures, doc, modified=stamp(doc))
    normalise_zip(pptx)
    pdf = folder / "slides.pdf"
    slides.write_pdf(planned, pdf, figures, doc.language)
    return {"pptx": pptx, "pdf": pdf}
