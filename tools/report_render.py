"""Render a composition as Markdown, HTML and PDF (WeasyPrint, a maintained HTML/CSS renderer).

Inline citations `[n]` link to the numbered reference list, which gives each source's pages
that the text cites; figures carry their caption and a credit line naming source and licence.
"""

from __future__ import annotations

import html
from pathlib import Path

from tools.composition import Block, Composition, SourceRef

CSS = """
body { font-family: 'DejaVu Serif', Georgia, serif; line-height: 1.5; max-width: 46em;
       margin: 2em auto; padding: 0 1em; color: #1a1a1a; }
h1 { font-size: 1.8em; margin-bottom: .2em; }
h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
p.meta { color: #555; } a.cite { text-decoration: none; color: #0645ad; font-size: .9em; }
figure { margin: 1.2em 0; text-align: center; } figure img { max-width: 100%; max-height: 18cm; }
figcaption { font-size: .9em; color: #333; text-align: left; }
.credit { font-size: .8em; color: #666; } ol.refs li { margin-bottom: .4em; }
@page { size: A4; margin: 2cm; @bottom-center { content: counter(page); font-size: 9pt; } }
"""


def cite_marks(block: Block, doc: Composition, *, links: bool) -> str:
    """`[1, p. 3]`-style marks for the sources a block cites, in order, without repeats."""
    marks = []
    for c in block.cites:
        n = doc.number_of(c.source_id)
        page = f", p. {c.page}" if c.page else ""
        label = f"{n}{page}"
        mark = f'<a class="cite" href="#ref-{n}">[{label}]</a>' if links else f"[{label}]"
        if mark not in marks:
            marks.append(mark)
    return " ".join(marks)


def credit(ref: SourceRef | None) -> str:
    if ref is None:
        return ""
    lic = ref.licence_id or "licence unknown"
    return f"From {ref.in_text or ref.title} [{ref.n}] ({lic})"


def _ref_of(doc: Composition, source_id: str) -> SourceRef | None:
    return next((r for r in doc.sources if r.source_id == source_id), None)


def reference_line(ref: SourceRef) -> str:
    pages = f" Cited pages: {', '.join(map(str, ref.pages))}." if ref.pages else ""
    link = f" {ref.doi and 'https://doi.org/' + ref.doi or ref.url or ''}".rstrip()
    lic = f" Licence: {ref.licence_id}." if ref.licence_id else ""
    return f"{ref.reference or ref.title}{link}{lic}{pages}"


def to_markdown(doc: Composition, figure_files: dict[str, str] | None = None) -> str:
    """The composition as Markdown; `figure_files` maps figure ids to relative image paths."""
    files = figure_files or {}
    out = [f"# {doc.title}", ""]
    if doc.summary:
        out += ["## Executive summary", ""]
        out += [f"- {b.text} {cite_marks(b, doc, links=False)}" for b in doc.summary] + [""]
    for section in doc.sections:
        out += [f"## {section.title}", ""]
        for b in section.blocks:
            if b.figure is not None:
                path = files.get(b.figure.figure_id)
                if path:
                    out.append(f"![{b.figure.label}]({path})")
                who = credit(_ref_of(doc, b.figure.source_id))
                out += [f"*{b.figure.label}: {b.text}* — {who}", ""]
            elif b.kind == "term":
                out += [f"**{b.heading}** — {b.text} {cite_marks(b, doc, links=False)}", ""]
            else:
                out += [f"{b.text} {cite_marks(b, doc, links=False)}", ""]
    out += ["## References", ""]
    out += [f"{r.n}. {reference_line(r)}" for r in doc.sources]
    return "\n".join(out) + "\n"


def _block_html(b: Block, doc: Composition, files: dict[str, str]) -> str:
    if b.figure is not None:
        src = files.get(b.figure.figure_id)
        img = f'<img src="{html.escape(src)}" alt="{html.escape(b.figure.label)}">' if src else ""
        return (f"<figure>{img}<figcaption><b>{html.escape(b.figure.label)}.</b> "
                f"{html.escape(b.text)} {cite_marks(b, doc, links=True)}<br>"
                f'<span class="credit">{html.escape(credit(_ref_of(doc, b.figure.source_id)))}'
                "</span></figcaption></figure>")
    head = f"<b>{html.escape(b.heading)}</b> — " if b.heading else ""
    return f"<p>{head}{html.escape(b.text)} {cite_marks(b, doc, links=True)}</p>"


def to_html(doc: Composition, figure_files: dict[str, str] | None = None,
            css: str = CSS) -> str:
    """A standalone HTML page (inline CSS, no external assets but the figure files)."""
    files = figure_files or {}
    parts = [f'<!DOCTYPE html><html lang="{doc.language}"><head><meta charset="utf-8">',
             f"<title>{html.escape(doc.title)}</title><style>{css}</style></head><body>",
             f"<h1>{html.escape(doc.title)}</h1>",
             f'<p class="meta">{html.escape(doc.style.replace("-", " ").capitalize())} from '
             f"{len(doc.sources)} source(s); every paragraph cites where it comes from.</p>"]
    if doc.summary:
        parts.append("<h2>Executive summary</h2><ul>")
        parts += [f"<li>{html.escape(b.text)} {cite_marks(b, doc, links=True)}</li>"
                  for b in doc.summary]
        parts.append("</ul>")
    for section in doc.sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        parts += [_block_html(b, doc, files) for b in section.blocks]
    parts.append('<h2>References</h2><ol class="refs">')
    parts += [f'<li id="ref-{r.n}">{html.escape(reference_line(r))}</li>' for r in doc.sources]
    parts.append("</ol></body></html>")
    return "\n".join(parts)


def html_to_pdf(page: str, out: Path, base_dir: Path) -> None:
    """Render HTML to PDF with WeasyPrint; a missing system library is named in the error."""
    try:
        from weasyprint import HTML
    except OSError as exc:  # pango/cairo missing
        raise RuntimeError(f"PDF rendering needs WeasyPrint's system libraries (pango): {exc}"
                           ) from exc
    # full fonts: WeasyPrint's font subsets differ from run to run; whole fonts are identical
    HTML(string=page, base_url=str(base_dir)).write_pdf(str(out), full_fonts=True)
