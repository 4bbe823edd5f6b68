"""The scriptwriter: passages -> a dialogue for 1-4 hosts, every line citing the chunks it uses.

Two writers take the same `WriterInput`: the offline **extractive** writer here (default,
deterministic, grounded by construction: every claim is a cleaned source sentence, every
question and reaction is built from words of the answer it introduces) and the LLM writer in
`agents.llm_writer`.

The extractive writer (1) reads each sentence's rhetorical role, key phrases and closeness to the
topic (`agents.rhetoric`, embeddings), (2) picks what to say by role and topic within a word
budget, sources far from the topic getting less or nothing, (3) orders it as an argument
(problem, method, result, limitation, implication) and (4) voices it by style and format
(`agents.dialogue`). `fit_length` sizes the budget so the whole script (framing and pauses
included) fills the target duration.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import numpy as np

from agents import rhetoric
from agents.script import Host, Line, Passage, WriterInput, WriterOutput, estimate_seconds, words
from agents.speech import readable, speakable
from agents.spoken import Candidate, short_authors, spoken_title
from tools.chunking import split_sentences
from tools.embed import embed
from tools.lang import Lang, pack

HOST_NAMES = [("Alex", "host"), ("Sam", "co-host"), ("Jordan", "guest expert"),
              ("Riley", "guest expert")]
ARGUMENT = ["problem", "background", "method", "result", "limitation", "implication"]
NOVELTY = 0.88  # a sentence this close (cosine) to one already chosen says the same thing
TOPIC_DROP = 0.12  # a source whose best sentence is this much further from the topic is left out
FILL_SLACK = 4  # words a selection may run over its budget
MIN_SOURCE_WORDS = 30  # a source needs this much of the budget to be worth introducing

__all__ = ["speakable", "readable", "candidates", "write_extractive", "framing_words",
           "short_authors", "spoken_title"]


def default_hosts(n: int, voice_ids: list[str], style: str) -> list[Host]:
    """Names and roles for n hosts (1-4) with their voices."""
    out = []
    for i in range(n):
        name, role = HOST_NAMES[i]
        if style == "lecture" and i == 0:
            role = "lecturer"
        elif style == "interview" and i == 0:
            role = "interviewer"
        out.append(Host(name=name, role=role, voice_id=voice_ids[i % len(voice_ids)]))
    return out


def candidates(passage: Passage, lang: Lang | None = None) -> list[Candidate]:
    """The readable sentences of a passage, spoken form included (rules of its language)."""
    lang = lang or pack()
    out = []
    flat = " ".join(passage.text.split())
    in_abstract = any(w in passage.section.lower() for w in lang["abstract_words"])
    pronoun_start = lang.pattern("pronoun_start", 0)
    for i, sent in enumerate(split_sentences(passage.text, lang.code)):
        sent = " ".join(sent.split())
        if sent not in flat or not readable(sent, lang):
            continue
        spoken = speakable(sent, lang)
        if words(spoken) < 6:
            continue
        roles = rhetoric.role_scores(sent, passage.section, i == 0, in_abstract, lang)
        bonus = 0.08 if i == 0 else 0.0
        bonus -= 0.15 if pronoun_start.match(spoken) else 0.0
        out.append(Candidate(passage, sent, spoken, passage.score + bonus - 0.01 * i,
                             (passage.seq, i), role=max(rhetoric.ROLES, key=lambda r: roles[r]),
                             roles=roles))
    return out


def analyse(passages: list[Passage], topic: str | None,
            lang: Lang | None = None) -> list[Candidate]:
    """Candidates of every passage with key phrases, ranked questions and topic closeness."""
    lang = lang or pack()
    cands = [c for p in passages for c in candidates(p, lang)]
    if not cands:
        return []
    for sid in dict.fromkeys(c.passage.source_id for c in cands):
        mine = [c for c in cands if c.passage.source_id == sid]
        df = rhetoric.document_frequency(c.spoken for c in mine)
        for c in mine:
            c.phrases = rhetoric.key_phrases(c.spoken, df, len(mine), c.passage.source_title,
                                             lang=lang)
    options = [rhetoric.question_options(c.role, c.has_number, c.phrases, lang) for c in cands]
    texts = [c.spoken for c in cands] + [q for opts in options for q in opts]
    texts += [topic] if topic else []
    vecs = embed(texts)
    sent_vecs = vecs[:len(cands)]
    at = len(cands)
    for c, opts, v in zip(cands, options, sent_vecs, strict=True):
        rel = vecs[at:at + len(opts)] @ v if opts else np.zeros(0)
        at += len(opts)
        c.questions = [opts[i] for i in np.argsort(-rel, kind="stable")]
    if topic:
        for c, v in zip(cands, sent_vecs @ vecs[-1], strict=True):
            c.topic = float(v)
    for c, v in zip(cands, sent_vecs, strict=True):
        c.vec = v  # type: ignore[attr-defined]
    return cands


def source_budgets(cands: list[Candidate], budget: int, topic: bool) -> dict[str, int]:
    """Words per source: equal shares, or with a topic by closeness (far sources get none);
    a budget too small for every source keeps the first (or closest) ones."""
    sids = list(dict.fromkeys(c.passage.source_id for c in cands))
    best = {s: max(c.topic for c in cands if c.passage.source_id == s) for s in sids}
    top = max(best.values())
    ranked = sorted(sids, key=lambda s: -best[s]) if topic else sids
    room = ranked[:max(1, budget // MIN_SOURCE_WORDS)]
    if not topic:
        return {s: budget // len(room) if s in room else 0 for s in sids}
    keep = {s: max(0.05, best[s] - (top - 2 * TOPIC_DROP)) for s in room
            if best[s] >= top - TOPIC_DROP}
    total = sum(keep.values())
    return {s: int(budget * keep[s] / total) if s in keep else 0 for s in sids}


PLANS = {
    "deep-dive": ["problem", "method", "result", "implication", "result", "limitation",
                  "method", "result", "background", "implication"],
    "brief": ["problem", "result", "implication", "method", "result"],
    "critique": ["result", "limitation", "method", "limitation", "implication", "result"],
    "debate": ["implication", "limitation", "result", "limitation", "method", "result"],
}


def pick(pool: list[Candidate], role: str | None, chosen: list[Candidate],
         topic: bool, max_words: int | None = None) -> Candidate | None:
    """The best unused candidate for a role (any role when None, at most `max_words` long)
    that says something new."""
    def value(c: Candidate) -> float:
        fit = c.roles.get(role, 0.0) if role else max(c.roles.values(), default=0.0)
        return c.score + 0.35 * fit + (1.2 * c.topic if topic else 0.0)

    fits = [c for c in pool if c not in chosen and (role is None or c.role == role
                                                    or c.roles.get(role, 0) >= 1.0)
            and (max_words is None or words(c.spoken) <= max_words)]
    for c in sorted(fits, key=lambda c: (-value(c), c.order)):
        if all(float(c.vec @ o.vec) < NOVELTY for o in chosen):  # type: ignore[attr-defined]
            return c
    return None


def select(cands: list[Candidate], budget: int, fmt: str, topic: bool) -> list[Candidate]:
    """What to say: by role (the format's plan, repeated) and topic, within the word budget,
    ordered as an argument per source."""
    out: list[Candidate] = []
    plan = PLANS.get(fmt, PLANS["deep-dive"])
    for sid, words_left in source_budgets(cands, budget, topic).items():
        pool = [c for c in cands if c.passage.source_id == sid]
        chosen: list[Candidate] = []
        used, misses, i = 0, 0, 0
        while used < words_left and misses < len(plan):
            c = pick(pool, plan[i % len(plan)], chosen, topic)
            i += 1
            if c is None:
                misses += 1
                continue
            if chosen and used + words(c.spoken) > words_left + FILL_SLACK:
                c = pick(pool, None, chosen, topic, max_words=words_left + FILL_SLACK - used)
                if c is None:  # nothing short enough to fill the rest
                    break
            misses = 0
            chosen.append(c)
            used += words(c.spoken)
        if not chosen and words_left > 0 and pool:
            chosen.append(max(pool, key=lambda c: c.score))
        order = ARGUMENT if fmt != "critique" else ["method", "result", "implication",
                                                    "problem", "background", "limitation"]
        chosen.sort(key=lambda c: (order.index(c.role), c.order))
        out += chosen
    return out


def by_line(p: Passage, full: bool = False, lang: Lang | None = None) -> str:
    """"Title" by X and colleagues, from 2020 (`full` keeps the full title)."""
    lang = lang or pack()
    who = short_authors(p.source_authors, lang)
    parts = [f"\u201c{p.source_title if full else spoken_title(p.source_title, lang)}\u201d"]
    if who:
        parts.append(lang.text("by", who=who))
    if p.source_year:
        parts.append(lang.text("from", year=p.source_year))
    return " ".join(parts)


def group_sources(passages: list[Passage]) -> list[list[Passage]]:
    order: list[str] = []
    groups: dict[str, list[Passage]] = {}
    for p in passages:
        if p.source_id not in groups:
            order.append(p.source_id)
            groups[p.source_id] = []
        groups[p.source_id].append(p)
    return [sorted(groups[sid], key=lambda p: p.seq) for sid in order]


def build_script(inp: WriterInput, budget_words: int,
                 cands: list[Candidate] | None = None) -> list[Line]:
    """One deterministic script for a given word budget for content lines."""
    from agents import dialogue

    pool = cands if cands is not None else analyse(inp.passages, inp.brief.topic,
                                                   pack(inp.brief.language))
    chosen = select(pool, budget_words, inp.brief.format, bool(inp.brief.topic))
    lines = dialogue.compose(inp, chosen, group_sources(inp.passages))
    for i, line in enumerate(lines):
        line.seq = i
    return lines


def fit_length(inp: WriterInput, build: Callable[[WriterInput, int], list[Line]]) -> list[Line]:
    """Search the content budget whose script comes closest to the target duration."""
    avg_spw = sum(inp.seconds_per_word.values()) / max(1, len(inp.seconds_per_word))
    budget = max(10, int(inp.target_seconds / avg_spw * 0.8))
    best: list[Line] = []
    best_err = float("inf")
    lo, hi = 0, budget * 3
    for _ in range(16):
        lines = build(inp, budget)
        err = estimate_seconds(lines, inp) - inp.target_seconds
        if abs(err) < best_err:
            best, best_err = lines, abs(err)
        if abs(err) <= inp.target_seconds * 0.01:
            break
        if err > 0:
            hi = budget
        else:
            lo = budget
        new = (lo + hi) // 2
        if new == budget:
            break
        budget = new
    return best


async def write_extractive(inp: WriterInput) -> WriterOutput:
    """Offline writer: a grounded dialogue of source sentences, sized to the target length
    (CPU work with embeddings: run off the event loop, so a server stays responsive)."""
    return await asyncio.to_thread(_write_extractive, inp)


def _write_extractive(inp: WriterInput) -> WriterOutput:
    from agents import dialogue

    cands = analyse(inp.passages, inp.brief.topic, pack(inp.brief.language))
    lines = fit_length(inp, lambda i, b: build_script(i, b, cands))
    lines = dialogue.tighten(lines, inp)
    notes = []
    got = estimate_seconds(lines, inp)
    if got < inp.target_seconds * 0.9:
        notes.append(f"the sources hold about {got / 60:.1f} minutes of readable material, "
                     f"less than the {inp.target_seconds / 60:.1f} requested")
    cited = {c for line in lines for c in line.citations}
    left = {p.source_title for p in inp.passages} - {p.source_title for p in inp.passages
                                                     if p.chunk_id in cited}
    if left and inp.brief.topic:
        notes.append("left out as far from the topic: " + "; ".join(sorted(left)))
    return WriterOutput(lines=lines, writer="extractive", notes=notes)


def framing_words(lang: Lang | None = None) -> set[str]:
    """Every word the extractive writer's own templates can add in the language (they assert
    nothing)."""
    from agents import dialogue

    lang = lang or pack()
    texts = [lang["show_name"], *dialogue.framing_texts(lang), *rhetoric.framing_texts(lang)]
    texts += [name for name, _ in HOST_NAMES] + [lang.number(n) for n in range(11)]
    return {w for t in texts for w in re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", t.lower())}
