"""A newsletter from a composition: HTML e-mail (CSS inlined with css-inline, table layout that
common mail clients render), a plain-text alternative, and Markdown.

Each summary block is the issue's lead; each section holds one item per source with its cited
passage and a "read more" link to the source (its URL or DOI, else the library page).
"""

from __future__ import annotations

import html
import textwrap

from tools.composition import Composition, SourceRef

STYLE = """
body { background: #f3f3f3; margin: 0; font-family: Arial, Helvetica, sans-serif; color: #222; }
table.wrap { width: 100%; background: #f3f3f3; } table.main { width: 600px; background: #fff; }
td.pad { padding: 24px; } h1 { font-size: 26px; margin: 0 0 8px; } h2 { font-size: 18px; }
p { font-size: 15px; line-height: 22px; } a { color: #0b57d0; }
.small { font-size: 12px; color: #666; }
"""


def link_of(ref: SourceRef, library_url: str) -> str:
    if ref.url:
        return ref.url
    if ref.doi:
        return f"https://doi.org/{ref.doi}"
    return f"{library_url.rstrip('/')}/api/content/{ref.source_id}"


def _items(doc: Composition) -> list[tuple[str, str, SourceRef]]:
    refs = {r.source_id: r for r in doc.sources}
    out = []
    for section in doc.sections:
        for b in section.blocks:
            if b.figure is None and b.cites and b.cites[0].source_id in refs:
                out.append((section.title, b.text, refs[b.cites[0].source_id]))
    return out


def to_email_html(doc: Composition, library_url: str) -> str:
    import css_inline

    lead = "".join(f"<p>{html.escape(b.text)}</p>" for b in doc.summary[:2])
    rows = []
    for title, text, ref in _items(doc):
        rows.append(f"<h2>{html.escape(title)}</h2><p>{html.escape(text)} "
                    f'<span class="small">[{ref.n}]</span></p><p><a href="'
                    f'{html.escape(link_of(ref, library_url))}">Read more: '
                    f"{html.escape(ref.title)}</a></p>")
    refs = "".join(f'<p class="small">[{r.n}] {html.escape(r.reference or r.title)} '
                   f"({html.escape(r.licence_id or 'licence unknown')})</p>" for r in doc.sources)
    page = (f'<!DOCTYPE html><html lang="{doc.language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(doc.title)}</title><style>{STYLE}</style></head><body>"
            '<table class="wrap" role="presentation"><tr><td align="center">'
            '<table class="main" role="presentation"><tr><td class="pad">'
            f"<h1>{html.escape(doc.title)}</h1>{lead}{''.join(rows)}<hr>{refs}"
            '<p class="small">Every item quotes its source; made with Librarian.</p>'
            "</td></tr></table></td></tr></table></body></html>")
    return str(css_inline.inline(page))


def to_text(doc: Composition, library_url: str) -> str:
    out = [doc.title, "=" * len(doc.title), ""]
    out += [textwrap.fill(b.text, 72) for b in doc.summary[:2]] + [""]
    for title, text, ref in _items(doc):
        out += [title, "-" * len(title), textwrap.fill(f"{text} [{ref.n}]", 72),
                f"Read more: {link_of(ref, library_url)}", ""]
    out += ["Sources:"] + [f"[{r.n}] {r.reference or r.title} ({r.licence_id or 'licence unknown'})"
                           for r in doc.sources]
    return "\n".join(out) + "\n"


def to_markdown(doc: Composition, library_url: str) -> str:
    out = [f"# {doc.title}", ""] + [b.text for b in doc.summary[:2]] + [""]
    for title, text, ref in _items(doc):
        out += [f"## {title}", "", f"{text} [{ref.n}]", "",
                f"[Read more: {ref.title}]({link_of(ref, library_url)})", ""]
    out += ["## Sources", ""] + [f"{r.n}. {r.reference or r.title}" for r in doc.sources]
    return "\n".join(out) + "\n"
