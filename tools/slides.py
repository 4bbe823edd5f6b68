"""A slide deck from a composition: PPTX (python-pptx) and PDF (HTML pages via WeasyPrint).

Title slide, one idea per slide (a theme's lead and up to four short bullets), figure slides,
speaker notes with the full cited passages, and a sources slide.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, Field

from tools.composition import Block, Composition
from tools.report_render import credit, html_to_pdf, reference_line

BULLET_WORDS = 26


class Slide(BaseModel):
    kind: str  # title | idea | figure | sources
    title: str
    bullets: list[str] = Field(default_factory=list)
    notes: str = ""
    image: str | None = None  # figure id
    blocks: list[Block] = Field(default_factory=list)


def bullet(text: str) -> str:
    """A bullet: the passage's first clause when the sentence is long (still an exact span)."""
    words = text.split()
    if len(words) <= BULLET_WORDS:
        return text
    cut = " ".join(words[:BULLET_WORDS])
    for mark in (";", ":", ","):
        at = cut.rfind(mark)
        if at > len(cut) // 2:
            return cut[:at] + " …"
    return cut + " …"


def plan_slides(doc: Composition, bullets_per_slide: int = 4, limit: int = 40) -> list[Slide]:
    """Title, one slide per theme (and per figure), sources; at most `limit` slides in all."""
    n_src = len(doc.sources)
    slides = [Slide(kind="title", title=doc.title,
                    bullets=[f"From {n_src} source{'s' if n_src != 1 else ''}"],
                    notes="Every slide cites the passages it rests on in these notes.")]
    for section in doc.sections:
        text_blocks = [b for b in section.blocks if b.figure is None][:bullets_per_slide]
        if text_blocks:
            slides.append(Slide(kind="idea", title=section.title,
                                bullets=[bullet(b.text) for b in text_blocks],
                                notes=_notes(text_blocks, doc), blocks=text_blocks))
        for b in section.blocks:
            if b.figure is not None:
                slides.append(Slide(kind="figure", title=f"{section.title}: {b.figure.label}",
                                    bullets=[bullet(b.text)], image=b.figure.figure_id,
                                    notes=_notes([b], doc), blocks=[b]))
    del slides[max(1, limit - 1):]
    slides.append(Slide(kind="sources", title="Sources",
                        bullets=[f"[{r.n}] {reference_line(r)}" for r in doc.sources]))
    return slides


def _notes(blocks: list[Block], doc: Composition) -> str:
    out = []
    for b in blocks:
        refs = "; ".join(f"[{doc.number_of(c.source_id)}{', p. ' + str(c.page) if c.page else ''}]"
                         for c in b.cites)
        out.append(f"{b.text} {refs}")
    return "\n\n".join(out)


def write_pptx(slides: list[Slide], out: Path, figures: dict[str, Path],
               doc: Composition, modified: datetime | None = None) -> None:
    from pptx import Presentation
    from pptx.util import Inches, Pt

    prs = Presentation()
    props = prs.core_properties
    props.title, props.author, props.last_modified_by = doc.title[:250], "Librarian", "Librarian"
    if modified is not None:
        props.created = props.modified = modified.replace(tzinfo=None)
        props.revision = 1
    prs.slide_width, prs.slide_height = Inches(13.333), Inches(7.5)
    for sl in slides:
        if sl.kind == "title":
            s = prs.slides.add_slide(prs.slide_layouts[0])
            s.shapes.title.text = sl.title
            s.placeholders[1].text = "\n".join(sl.bullets)
        else:
            s = prs.slides.add_slide(prs.slide_layouts[5])  # title only
            s.shapes.title.text = sl.title
            left = Inches(0.7)
            if sl.image and sl.image in figures:
                s.shapes.add_picture(str(figures[sl.image]), Inches(0.7), Inches(1.6),
                                     height=Inches(4.6))
                left = Inches(8.0)
            box = s.shapes.add_textbox(left, Inches(1.6), Inches(12.6) - left, Inches(5.2))
            frame = box.text_frame
            frame.word_wrap = True
            for i, text in enumerate(sl.bullets):
                para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
                para.text = ("• " if sl.kind != "sources" else "") + text
                para.font.size = Pt(14 if sl.kind == "sources" else 20)
            if sl.image:
                fig = next((b.figure for b in sl.blocks if b.figure), None)
                ref = next((r for r in doc.sources if fig and r.source_id == fig.source_id), None)
                para = frame.add_paragraph()
                para.text = credit(ref)
                para.font.size = Pt(11)
        s.notes_slide.notes_text_frame.text = sl.notes
    prs.save(str(out))


def slides_html(slides: list[Slide], figures: dict[str, str], lang: str = "en") -> str:
    css = ("@page{size:1280px 720px;margin:0} body{margin:0;font-family:'DejaVu Sans',sans-serif}"
           "section{width:1280px;height:720px;box-sizing:border-box;padding:60px;"
           "page-break-after:always;overflow:hidden} h1{font-size:40px;color:#1c2b40}"
           "li{font-size:24px;margin:.4em 0} section.title h1{font-size:54px;margin-top:200px}"
           "img{max-height:420px;max-width:640px;float:left;margin-right:30px}"
           "section.sources li{font-size:15px}")
    parts = [f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8"><style>{css}'
             "</style></head><body>"]
    for sl in slides:
        img = (f'<img src="{html.escape(figures[sl.image])}">'
               if sl.image and sl.image in figures else "")
        items = "".join(f"<li>{html.escape(b)}</li>" for b in sl.bullets)
        parts.append(f'<section class="{sl.kind}"><h1>{html.escape(sl.title)}</h1>{img}'
                     f"<ul>{items}</ul></section>")
    parts.append("</body></html>")
    return "".join(parts)


def write_pdf(slides: list[Slide], out: Path, figures: dict[str, Path], lang: str) -> None:
    """The deck as PDF; figures inline as data URIs, so no path of this run enters the file."""
    import base64

    uris = {fid: "data:image/png;base64," + base64.b64encode(p.read_bytes()).decode()
            for fid, p in figures.items()}
    html_to_pdf(slides_html(slides, uris, lang), out, out.parent)
