"""What each written export says, offline: compositions, cards and questions from the material.

Every block, card and question rests on an exact span of a chunk (see `agents.composer` and
`agents.cards`); the per-kind choices (style extras, item limits, titles) live here.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from agents import cards as cardsmith
from agents.composer import compose, paragraph_for, sentences_of, usable
from agents.material import Material
from tools.composition import Block, Card, Cite, Composition, QuizQuestion, Section

KIND_NAMES = {"report": "Report", "ebook": "Ebook", "flashcards": "Flashcards", "quiz": "Quiz",
              "newsletter": "Digest", "slides": "Slides"}


def words_for(kind: str, p: Any) -> int:
    """How many words of material to research for a kind (the cards want every sentence)."""
    if kind in ("flashcards", "quiz"):
        return 60000
    if kind == "newsletter":
        return int(p.items) * 80
    if kind == "slides":
        return int(p.slides) * 70
    return int(p.words)


def default_title(kind: str, material: Material) -> str:
    """"Report: <first title>" (+ "and N more"), the title cut at its colon or 70 characters."""
    titles = [r.title for r in material.sources]
    short = titles[0].split(":")[0].strip()
    if len(short) > 70:
        short = short[:70].rsplit(" ", 1)[0] + "…"
    more = f" and {len(titles) - 1} more" if len(titles) > 1 else ""
    return f"{KIND_NAMES[kind]}: {short}{more}"


def composition(kind: str, p: Any, m: Material, title: str) -> Composition:
    """The composition of a report, ebook, newsletter or slide deck."""
    words, sections, figures, style = {
        "report": lambda: (p.words, p.sections, p.figures, p.style),
        "ebook": lambda: (p.words, p.chapters, p.figures, "ebook"),
        "newsletter": lambda: (p.items * 60, min(p.items, 8), 0, "digest"),
        "slides": lambda: (p.slides * 60, max(1, p.slides - 2), p.figures, "deck"),
    }[kind]()
    doc = compose(kind=kind, style=style, title=title, passages=m.passages, vecs=m.matrix(),
                  sources=m.sources, figures=m.figures, words=words, max_sections=sections,
                  max_figures=figures, caption_chunks=m.caption_chunks)
    if kind == "newsletter":
        doc.summary = doc.summary[:2]
        doc.sections = digest_sections(m, p.items)
    if kind == "report" and p.style == "study-guide":
        doc.sections += study_sections(m)
    if kind == "report" and p.style == "literature-review":
        doc.sections.append(Section(title="Sources reviewed", blocks=source_overview(m)))
    return doc


def digest_sections(m: Material, items: int) -> list[Section]:
    """A digest: one item per source in turn (its best passages first), at most `items`."""
    refs = {r.source_id: r for r in m.sources}
    sents = sentences_of(m.passages)
    queues = [sorted((i for i, p in enumerate(m.passages) if p.source_id == sid),
                     key=lambda i: (-m.passages[i].score, m.passages[i].seq)) for sid in refs]
    chosen: dict[str, list[Block]] = {}
    total = 0
    while total < items and any(queues):
        for q in queues:
            while q and total < items:
                i = q.pop(0)
                terms = Counter(t for s in sents[i] for t in s.terms)
                block = paragraph_for(sents[i], m.passages[i], 60, terms)
                if block is not None:
                    chosen.setdefault(m.passages[i].source_id, []).append(block)
                    total += 1
                    break
    return [Section(title=refs[sid].title, blocks=blocks) for sid, blocks in chosen.items()]


def study_sections(m: Material, terms: int = 8, questions: int = 6) -> list[Section]:
    """Key terms (definition sentences) and review questions (cloze sentences), all cited."""
    found = cardsmith.make_cards(m.passages, 200)
    term_blocks = [Block(kind="term", heading=c.front.removeprefix("What is ").removeprefix(
        "What are ").rstrip("?"), text=c.answer, cites=[c.cite], support=1.0)
                   for c in found if c.kind == "basic"][:terms]
    q_blocks = [Block(kind="question", heading=c.front.replace("{{c1::" + c.answer + "}}",
                                                               "_____"),
                      text=c.back, cites=[c.cite], support=1.0)
                for c in found if c.kind == "cloze"][:questions]
    out = []
    if term_blocks:
        out.append(Section(title="Key terms", blocks=term_blocks))
    if q_blocks:
        out.append(Section(title="Review questions", blocks=q_blocks))
    return out


def source_overview(m: Material) -> list[Block]:
    """One item per source: the first readable sentence of its best passage."""
    refs = {r.source_id: r for r in m.sources}
    out: list[Block] = []
    for sid, ref in refs.items():
        mine = sorted((i for i, p in enumerate(m.passages) if p.source_id == sid),
                      key=lambda i: -m.passages[i].score)
        for i in mine:
            p = m.passages[i]
            sent = next((s.text for s in sentences_of([p])[0] if usable(s.text)), None)
            if sent:
                out.append(Block(kind="item", heading=ref.in_text or ref.title, text=sent,
                                 cites=[Cite(chunk_id=p.chunk_id, source_id=sid, quote=sent,
                                             page=p.page)], support=1.0))
                break
    return out


def flashcards(p: Any, m: Material) -> list[Card]:
    return cardsmith.make_cards(m.passages, p.cards)


def quiz(p: Any, m: Material) -> list[QuizQuestion]:
    return cardsmith.quiz_from(cardsmith.make_cards(m.passages, 600), p.questions, p.options)

