"""The offline composer: themes across sources, each paragraph an exact span of one chunk.

Grounded by construction: a paragraph is a run of whole, contiguous sentences of the chunk it
cites, so its quote is its text. Themes are clusters of the selected passages' embeddings, most
of each source's centre taken out (a deterministic k-means seeded by farthest points), so a
section gathers what several sources say about one thing rather than one section per source.
Sections are ordered by where their passages sit in the papers (introductory material first,
conclusions last), titled by the heading of their most central passage unless it is generic,
else by their most distinctive terms.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np

from agents.grounding import content_words
from agents.script import Passage
from tools.chunking import split_sentences
from tools.composition import Block, Cite, Composition, FigureRef, Section, SourceRef

GENERIC_HEADINGS = {"abstract", "introduction", "background", "method", "methods", "methodology",
                    "results", "discussion", "conclusion", "conclusions", "summary", "overview",
                    "related work", "evaluation", "experiments", "analysis",
                    "materials and methods", "results and discussion", "findings",
                    "limitations", "future work"}
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[IVXLC]+\.|[A-Z]\.)\s+")
_URL = re.compile(r"https?://|www\.|@\w")
_FOOTNOTE = re.compile(r"\[\d+(?:[,–-]\s*\d+)*\]")


@dataclass
class Sentence:
    passage: int  # index into the passages
    index: int  # position in its passage
    text: str
    terms: list[str]


def usable(sentence: str) -> bool:
    """Whether a source sentence can stand alone in written prose."""
    n = len(sentence.split())
    if n < 6 or n > 70 or _URL.search(sentence):
        return False
    if not (sentence[0].isupper() or sentence[0].isdigit()) or sentence[-1] not in ".!?":
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("[") != sentence.count("]"):
        return False
    letters = sum(ch.isalpha() for ch in sentence)
    return letters >= 0.6 * len(sentence)


def sentences_of(passages: list[Passage]) -> list[list[Sentence]]:
    """Each passage's sentences (whitespace normalised, so each is an exact span of its text)."""
    out = []
    for i, p in enumerate(passages):
        text = " ".join(p.text.split())
        sents = [" ".join(s.split()) for s in split_sentences(text)]
        out.append([Sentence(i, j, s, content_words(s)) for j, s in enumerate(sents) if s in text])
    return out


def kmeans(vecs: np.ndarray, k: int, seed_index: int, rounds: int = 12) -> np.ndarray:
    """Cluster labels; deterministic (farthest-point seeding from `seed_index`)."""
    centres = [vecs[seed_index]]
    for _ in range(1, k):
        sims = np.max(vecs @ np.array(centres).T, axis=1)
        centres.append(vecs[int(np.argmin(sims))])
    c = np.array(centres)
    labels = np.zeros(len(vecs), dtype=int)
    for _ in range(rounds):
        labels = np.argmax(vecs @ c.T, axis=1)
        for j in range(k):
            members = vecs[labels == j]
            if len(members):
                m = members.mean(axis=0)
                c[j] = m / max(1e-9, float(np.linalg.norm(m)))
    return np.asarray(labels)


SOURCE_SHARE = 0.7  # how much of each source's own centre is taken out before clustering


def theme_space(vecs: np.ndarray, passages: list[Passage], share: float = SOURCE_SHARE
                ) -> np.ndarray:
    """Vectors with most of their source's centre removed: what sets a paper apart as a whole
    (its subject, its vocabulary) weighs less than what a passage is about, so passages of
    related papers on one matter cluster together; papers on unrelated subjects stay apart."""
    out = vecs.astype(np.float32).copy()
    for sid in dict.fromkeys(p.source_id for p in passages):
        idx = [i for i, p in enumerate(passages) if p.source_id == sid]
        out[idx] -= share * out[idx].mean(axis=0)
    return np.asarray(out / np.maximum(1e-9, np.linalg.norm(out, axis=1, keepdims=True)))


def theme_count(n_passages: int, words: int, max_sections: int) -> int:
    return max(1, min(max_sections, n_passages // 2 or 1, max(2, round(words / 350))))


def _position(p: Passage, lengths: dict[str, int]) -> float:
    return p.seq / max(1, lengths.get(p.source_id, 1))


def _heading(p: Passage) -> str:
    last = p.section.split(" > ")[-1] if p.section else ""
    return _NUMBERING.sub("", last).strip().rstrip(".:")


def title_for(members: list[int], passages: list[Passage], vecs: np.ndarray,
              all_terms: Counter[str], cluster_terms: Counter[str]) -> str:
    """The most central member's heading unless generic, else the cluster's distinctive terms."""
    centre = vecs[members].mean(axis=0)
    central = max(members, key=lambda i: float(vecs[i] @ centre))
    heading = _heading(passages[central])
    if heading and heading.lower() not in GENERIC_HEADINGS and 1 <= len(heading.split()) <= 10:
        return heading
    total = sum(all_terms.values()) or 1
    size = sum(cluster_terms.values()) or 1
    ranked = sorted(cluster_terms, key=lambda t: (-(cluster_terms[t] / size)
                                                  / (all_terms[t] / total) * cluster_terms[t], t))
    words = [t for t in ranked if len(t) > 3 and not t.isdigit()][:3]
    return (", ".join(words).capitalize()) if words else (heading or "Themes")


def paragraph_for(sents: list[Sentence], passage: Passage, want_words: int,
                  terms: Counter[str]) -> Block | None:
    """The best contiguous run of usable sentences of one passage, cited to its chunk."""
    good = [s for s in sents if usable(s.text)]
    if not good:
        return None
    best_score, best = -1.0, [good[0]]
    for a in range(len(good)):
        run: list[Sentence] = []
        for s in good[a:]:
            if run and s.index != run[-1].index + 1:
                break
            run.append(s)
            n = sum(len(x.text.split()) for x in run)
            score = sum(terms[t] for x in run for t in x.terms) / max(8, n) + min(n, want_words)
            if score > best_score:
                best_score, best = score, list(run)
            if n >= want_words:
                break
    text = " ".join(s.text for s in best)
    cite = Cite(chunk_id=passage.chunk_id, source_id=passage.source_id, quote=text,
                page=passage.page)
    return Block(kind="paragraph", text=text, cites=[cite], support=1.0)


def compose(*, kind: str, style: str, title: str, passages: list[Passage], vecs: np.ndarray,
            sources: list[SourceRef], figures: list[FigureRef], words: int, max_sections: int,
            max_figures: int, caption_chunks: dict[str, str] | None = None,
            language: str = "en") -> Composition:
    """Themes, an executive summary and cited paragraphs from the selected passages."""
    if not passages:
        return Composition(kind=kind, style=style, title=title, sources=sources, language=language)
    sents = sentences_of(passages)
    vecs = theme_space(vecs, passages)
    k = theme_count(len(passages), words, max_sections)
    labels = kmeans(vecs, k, int(np.argmax([p.score for p in passages])))
    lengths = Counter(p.source_id for p in passages)
    seqs = {sid: max(p.seq for p in passages if p.source_id == sid) + 1 for sid in lengths}
    all_terms: Counter[str] = Counter(t for ss in sents for s in ss for t in s.terms)
    clusters = [[int(i) for i in np.flatnonzero(labels == j)] for j in range(k)]
    clusters = [c for c in clusters if c]
    clusters.sort(key=lambda c: float(np.mean([_position(passages[i], seqs) for i in c])))
    budget = max(60, words // max(1, len(clusters)))
    sections: list[Section] = []
    summary: list[Block] = []
    for members in clusters:
        terms: Counter[str] = Counter(t for i in members for s in sents[i] for t in s.terms)
        heading = title_for(members, passages, vecs, all_terms, terms)
        blocks = _section_blocks(members, passages, sents, terms, budget)
        if not blocks:
            continue
        sections.append(Section(title=_unique(heading, sections), blocks=blocks))
        lead = _lead_sentence(members, passages, sents, terms)
        if lead is not None:
            summary.append(lead)
    _attach_figures(sections, figures, max_figures, caption_chunks or {})
    _note_pages(sources, sections, summary)
    return Composition(kind=kind, style=style, title=title, summary=summary, sections=sections,
                       sources=sources, language=language)


def _section_blocks(members: list[int], passages: list[Passage], sents: list[list[Sentence]],
                    terms: Counter[str], budget: int) -> list[Block]:
    ranked = sorted(members, key=lambda i: (-passages[i].score, passages[i].seq))
    chosen: list[tuple[int, Block]] = []
    used = 0
    for i in ranked:
        block = paragraph_for(sents[i], passages[i], min(90, max(30, budget - used)), terms)
        if block is None:
            continue
        chosen.append((i, block))
        used += len(block.text.split())
        if used >= budget:
            break
    order = {sid: n for n, sid in enumerate(dict.fromkeys(p.source_id for p in passages))}
    chosen.sort(key=lambda ib: (order[passages[ib[0]].source_id], passages[ib[0]].seq))
    return [b for _, b in chosen]


def _lead_sentence(members: list[int], passages: list[Passage], sents: list[list[Sentence]],
                   terms: Counter[str]) -> Block | None:
    """The theme's most representative usable sentence, for the executive summary."""
    pool = [s for i in members for s in sents[i] if usable(s.text) and len(s.text.split()) <= 45]
    if not pool:
        return None
    best = max(pool, key=lambda s: (sum(terms[t] for t in set(s.terms)) / (len(s.terms) + 4),
                                    -s.passage, -s.index))
    p = passages[best.passage]
    cite = Cite(chunk_id=p.chunk_id, source_id=p.source_id, quote=best.text, page=p.page)
    return Block(kind="summary", text=best.text, cites=[cite], support=1.0)


def _unique(title: str, sections: list[Section]) -> str:
    taken = {s.title for s in sections}
    if title not in taken:
        return title
    n = 2
    while f"{title} ({n})" in taken:
        n += 1
    return f"{title} ({n})"


def _attach_figures(sections: list[Section], figures: list[FigureRef], limit: int,
                    caption_chunks: dict[str, str]) -> None:
    """Each figure (at most `limit`) goes to the section whose text shares most of its terms;
    it cites the caption chunk of its source (`caption_chunks`: figure id -> chunk id)."""
    placed = 0
    for fig in figures:
        chunk_id = caption_chunks.get(fig.figure_id)
        if placed >= limit or not fig.object_key or not fig.caption.strip() or not chunk_id:
            continue
        cap = set(content_words(fig.caption))
        scores = [(len(cap & {t for b in s.blocks for t in content_words(b.text)})
                   + sum(2 for b in s.blocks for c in b.cites if c.source_id == fig.source_id), n)
                  for n, s in enumerate(sections)]
        if not scores:
            return
        best, n = max(scores)
        if best <= 0:
            continue
        cite = Cite(chunk_id=chunk_id, source_id=fig.source_id,
                    quote=fig.caption, page=fig.page)
        sections[n].blocks.append(Block(kind="figure", text=fig.caption, cites=[cite],
                                        support=1.0, figure=fig, heading=fig.label))
        placed += 1


def _note_pages(sources: list[SourceRef], sections: list[Section], summary: list[Block]) -> None:
    pages: dict[str, set[int]] = {}
    for block in [*summary, *(b for s in sections for b in s.blocks)]:
        for c in block.cites:
            if c.page is not None:
                pages.setdefault(c.source_id, set()).add(c.page)
    for ref in sources:
        ref.pages = sorted(pages.get(ref.source_id, set()))


def strip_marks(text: str) -> str:
    """Text without bracketed numeric citations of the source ("[12]"), for slide bullets."""
    return " ".join(_FOOTNOTE.sub("", text).split()).replace(" .", ".").replace(" ,", ",")
