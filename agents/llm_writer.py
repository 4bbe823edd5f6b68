"""The LLM scriptwriter: map (key points per section) -> reduce (dialogue) -> one length revision.

Passages are shown to the model as short ids P1..Pn; every id the model returns is checked
against that table and mapped back to chunk ids here, so a citation can only name a passage the
model was actually shown. The ids are only hints: `ground` assigns each line's citations in
code, keeping the passages that state every number and name the line says, moving the
citation to a passage of the run that does, or dropping the line when none does. Nothing is
truncated: long inputs are split into map batches (one call per section group) and, when the
key points are still too long, into one reduce call per source.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field
from pydantic.json_schema import JsonDict

from agents.script import Host, Line, LineKind, Passage, WriterInput, WriterOutput, estimate_seconds
from storage.errors import BadInput
from storage.settings import Settings
from tools.chunking import split_sentences
from tools.llm import StructuredMethod, chat_model, prompt_hash, structured_call

MAP_BUDGET_CHARS = 24_000  # ~6k tokens of passage text per map call
REDUCE_BUDGET_CHARS = 48_000  # above this much key-point text, one reduce call per source
WORDS_PER_LINE = 30  # typical spoken line, used to turn seconds into a word budget
LENGTH_TOLERANCE = 0.10
MAP_CONCURRENCY = 4

SYSTEM = (
    "You write podcast scripts grounded in source passages. Use only facts stated in the "
    "passages; do not invent numbers, names or results. If the passages do not say something, "
    "leave it out. Cite passages only by the ids given (P1, P2, ...)."
)

MAP_PROMPT = """Source: {source}

List the key points a listener should learn from the passages below: claims, findings, methods,
definitions, numbers, limitations. At most {max_points} points; skip boilerplate (acknowledgements,
references, layout).

Rules:
- Use only facts stated in the passages; do not invent numbers, names or results.
- Each point is one or two plain sentences.
- Each point cites the 1-3 passage ids that state it, exactly as shown (e.g. ["P3"]).

Passages:
{passages}"""

REDUCE_PROMPT = """Write {part} of a podcast script, in {language}.

Speakers (use exactly these names):
{hosts}
Style: {style}: {style_note}
{focus}
Length: about {words} words of speech{part_scope}, roughly {lines} lines. Keep to this budget.

Structure:
{structure}

Rules:
- Use only facts stated in the key points; do not invent numbers, names or results.
- Every line cites 1-3 passage ids taken from the key points it uses (e.g. ["P3", "P7"]);
  intro, transition and outro lines cite the first passage id of each source they name.
- kind is one of intro, transition, question, content, summary, outro.
- section is the title of the segment the line belongs to.
- Write for the ear: short sentences, no citation marks, URLs or formulas.

Sources:
{sources}

Key points by source and section, with the passages that state them:
{points}"""

REVISE_PROMPT = """The podcast script below has about {got_words} words (~{got_s} s of speech).
The target is about {want_words} words (~{want_s} s). {direction}

Return the whole revised script in the same format. Keep the speaker names, the intro and the
outro that credits the sources by title, authors and year. Every line cites 1-3 passage ids from
the key points. Use only facts stated in the key points; do not invent numbers, names or results.

Key points:
{points}

Script:
{script}"""

LENGTHEN = ("Lengthen it by about {delta} words: add content lines for key points not yet used "
            "and develop the others with more of their detail.")
SHORTEN = ("Shorten it by about {delta} words: drop the least important content lines and "
           "tighten the wording.")

STYLE_NOTES = {
    "conversational": "the speakers discuss the material as peers, ask each other questions and "
                      "react briefly to what the other says.",
    "interview": "{first} interviews the others, who explain the material; questions come from "
                 "{first}.",
    "lecture": "{first} lectures and speaks most lines; the others, if any, ask occasional "
               "short questions.",
}

STRUCTURES = {
    "whole": "- intro: {first} welcomes listeners, introduces the speakers and the sources.\n"
             "- segments: one per theme, each opened by a transition or a question, then content "
             "lines.\n- outro: credit each source by title, authors and year, then sign off.",
    "first": "- intro: {first} welcomes listeners, introduces the speakers and all the sources.\n"
             "- segments: one per theme, each opened by a transition or a question.\n"
             "- no outro: later parts continue the episode.",
    "middle": "- open with a transition to this source; no intro, no outro.\n"
              "- segments: one per theme, each opened by a transition or a question.",
    "last": "- open with a transition to this source; no intro.\n"
            "- segments: one per theme, each opened by a transition or a question.\n"
            "- outro: credit every source of the episode by title, authors and year, then sign "
            "off.",
}

LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian",
             "pt": "Portuguese", "nl": "Dutch", "pl": "Polish", "sv": "Swedish", "da": "Danish",
             "fi": "Finnish", "no": "Norwegian", "cs": "Czech", "ru": "Russian", "uk": "Ukrainian",
             "tr": "Turkish", "ar": "Arabic", "hi": "Hindi", "zh": "Chinese", "ja": "Japanese",
             "ko": "Korean"}

PROMPT_HASHES = {"map": prompt_hash(SYSTEM + MAP_PROMPT),
                 "reduce": prompt_hash(SYSTEM + REDUCE_PROMPT + json.dumps(STYLE_NOTES)
                                       + json.dumps(STRUCTURES)),
                 "revise": prompt_hash(SYSTEM + REVISE_PROMPT + LENGTHEN + SHORTEN)}

_PID = re.compile(r"^\s*\[?\s*P?\s*(\d+)\s*\]?\s*$", re.I)
_MARK = re.compile(r"\s*[\[(]\s*P\d+(?:\s*[,;]\s*P\d+)*\s*[\])]", re.I)  # "[P1, P2]" said
_WORD = re.compile(r"[a-z0-9]+")
_STOP_WORDS = (
    "the and for are was were that this with from have has had not but they their them its "
    "which what who how why when where you your our can will would could should also into than "
    "then there these those been being such more most some any all one two about over just "
    "very lets here now well yes okay really")
_STOP = frozenset(_STOP_WORDS.split())


M = TypeVar("M", bound=BaseModel)


# maxLength is only in the JSON schema, never validated: servers that turn the schema into a
# grammar (llama.cpp) stop a small model's runaway string there; others read it as a hint.
def _at_most(chars: int) -> JsonDict:
    return {"maxLength": chars}


class KeyPoint(BaseModel):
    point: str = Field(description="one fact from the passages, in one or two sentences",
                       json_schema_extra=_at_most(300))
    passage_ids: list[str] = Field(description="ids of the passages stating it, e.g. ['P3']")


class KeyPoints(BaseModel):
    """The key points of a batch of passages."""

    points: list[KeyPoint]


class ScriptLine(BaseModel):
    speaker: str = Field(description="one of the speaker names given")
    kind: LineKind
    text: str = Field(description="what is said, written for the ear, without citation marks",
                      json_schema_extra=_at_most(400))
    section: str = Field(description="title of the segment this line belongs to",
                         json_schema_extra=_at_most(80))
    passage_ids: list[str] = Field(description="1-3 passage ids the line rests on, e.g. ['P3']")


class Script(BaseModel):
    """A podcast script: a title and its spoken lines in order."""

    title: str = Field(json_schema_extra=_at_most(120))
    lines: list[ScriptLine]


@dataclass
class Point:
    source_id: str
    section: str
    text: str
    pids: list[int]


@dataclass
class Run:
    """State shared by the calls of one writing run."""

    inp: WriterInput
    model: BaseChatModel
    settings: Settings
    method: StructuredMethod
    passages: list[Passage]  # index i is shown as P{i+1}
    by_chunk: dict[str, int]
    firsts: dict[str, int]  # source id -> index of its first passage, sources in order
    usage: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_usage(self, usage: dict[str, int]) -> None:
        self.usage["calls"] = self.usage.get("calls", 0) + 1
        for key, value in usage.items():
            self.usage[key] = self.usage.get(key, 0) + value

    async def ask(self, schema: type[M], prompt: str) -> M:
        messages: list[BaseMessage] = [SystemMessage(SYSTEM), HumanMessage(prompt)]
        parsed, usage = await structured_call(self.model, schema, messages, method=self.method,
                                              settings=self.settings)
        self.add_usage(usage)
        return parsed


def pid(i: int) -> str:
    return f"P{i + 1}"


def parse_pids(ids: list[str], n: int, allowed: set[int] | None = None) -> list[int]:
    """Indexes of the valid ids among `ids` (deduplicated, in order); invented ids are dropped."""
    out: list[int] = []
    for raw in ids:
        m = _PID.match(str(raw))
        if not m:
            continue
        i = int(m.group(1)) - 1
        if 0 <= i < n and (allowed is None or i in allowed) and i not in out:
            out.append(i)
    return out


def source_label(p: Passage) -> str:
    who = ", ".join(p.source_authors[:3]) + (" et al." if len(p.source_authors) > 3 else "")
    bits = [f"\u201c{p.source_title or p.source_id}\u201d"]
    if who:
        bits.append(f"by {who}")
    if p.source_year:
        bits.append(f"({p.source_year})")
    return " ".join(bits)


def map_batches(run: Run) -> list[list[int]]:
    """Passage indexes grouped by (source, section), packed per source under the map budget."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, p in enumerate(run.passages):
        groups.setdefault((p.source_id, p.section), []).append(i)
    rank = {sid: k for k, sid in enumerate(run.firsts)}
    ordered = sorted(groups.items(), key=lambda kv: (
        rank[kv[0][0]], min(run.passages[i].seq for i in kv[1])))
    batches: list[list[int]] = []
    current: list[int] = []
    size = 0
    source = None
    for (sid, _section), idxs in ordered:
        for i in sorted(idxs, key=lambda i: run.passages[i].seq):
            n = len(run.passages[i].text)
            if current and (sid != source or size + n > MAP_BUDGET_CHARS):
                batches.append(current)
                current, size = [], 0
            current.append(i)
            size += n
            source = sid
    if current:
        batches.append(current)
    return batches


async def map_batch(run: Run, batch: list[int], sem: asyncio.Semaphore) -> list[Point]:
    head = run.passages[batch[0]]
    shown = []
    for i in batch:
        p = run.passages[i]
        where = ", ".join(x for x in (f"section: {p.section}" if p.section else "",
                                      f"page {p.page}" if p.page is not None else "") if x)
        shown.append(f"[{pid(i)}]{' (' + where + ')' if where else ''}\n{p.text.strip()}")
    prompt = MAP_PROMPT.format(source=source_label(head),
                               max_points=max(3, min(12, len(batch) * 2)),
                               passages="\n\n".join(shown))
    async with sem:
        result = await run.ask(KeyPoints, prompt)
    points = []
    allowed = set(batch)
    dropped = 0
    for kp in result.points:
        ids = parse_pids(kp.passage_ids, len(run.passages), allowed)[:3]
        if not ids or not kp.point.strip():
            dropped += 1
            continue
        first = run.passages[ids[0]]
        points.append(Point(first.source_id, first.section, kp.point.strip(), ids))
    if dropped:
        run.notes.append(f"map: dropped {dropped} key point(s) of {source_label(head)} "
                         "citing no passage it was shown")
    return points


def render_points(run: Run, points: list[Point]) -> str:
    out: list[str] = []
    source = section = None
    for pt in points:
        if pt.source_id != source:
            first = run.passages[run.firsts[pt.source_id]]
            out.append(f"## {source_label(first)}")
            source, section = pt.source_id, None
        if pt.section != section:
            out.append(f"### {pt.section or 'Main text'}")
            section = pt.section
        out.append(f"- {pt.text} [{', '.join(pid(i) for i in pt.pids)}]")
    return "\n".join(out)


def first_passages(passages: list[Passage]) -> dict[str, int]:
    """Each source's first passage (lowest seq), in the order the sources appear."""
    firsts: dict[str, int] = {}
    for i, p in enumerate(passages):
        j = firsts.get(p.source_id)
        if j is None or p.seq < passages[j].seq:
            firsts[p.source_id] = i
    return firsts


def pace(inp: WriterInput) -> float:
    """Average seconds per word over the hosts (or all measured voices)."""
    known = [inp.seconds_per_word[h.name] for h in inp.hosts if h.name in inp.seconds_per_word]
    values = known or list(inp.seconds_per_word.values())
    return sum(values) / len(values) if values else 0.4


def word_budget(inp: WriterInput, seconds: float) -> tuple[int, int]:
    """(words, lines) that fill `seconds` at the hosts' pace with the pause between lines."""
    spw = pace(inp)
    lines = max(4, round(seconds / (WORDS_PER_LINE * spw + inp.pause_s)))
    return max(40, round((seconds - lines * inp.pause_s) / spw)), lines


def style_note(inp: WriterInput) -> str:
    first = inp.hosts[0].name
    if len(inp.hosts) == 1:
        return f"a single-voice monologue by {first}."
    return STYLE_NOTES[inp.brief.style].format(first=first)


def reduce_prompt(run: Run, points: list[Point], part: str, seconds: float,
                  sources: list[str]) -> str:
    inp = run.inp
    words, lines = word_budget(inp, seconds)
    firsts = run.firsts
    focus = [f"Topic: {inp.brief.topic}." if inp.brief.topic else "",
             f"Audience: {inp.brief.audience}." if inp.brief.audience else "",
             f"Episode title: {inp.brief.title}." if inp.brief.title else "",
             f"Tone: {inp.brief.tone}." if inp.brief.tone else "",
             "Never use these words: " + ", ".join(inp.brief.avoid_words) + "."
             if inp.brief.avoid_words else ""]
    labels = {"whole": "the whole episode", "first": "the opening part",
              "middle": "a middle part", "last": "the closing part"}
    return REDUCE_PROMPT.format(
        part=labels[part], language=LANGUAGES.get(inp.brief.language.lower(),
                                                  f"the language {inp.brief.language!r}"),
        hosts="\n".join(f"- {h.name} ({h.role})" for h in inp.hosts),
        style=inp.brief.style, style_note=style_note(inp),
        focus=" ".join(f for f in focus if f),
        words=words, lines=lines, part_scope="" if part == "whole" else " for this part",
        structure=STRUCTURES[part].format(first=inp.hosts[0].name),
        sources="\n".join(f"- {source_label(run.passages[firsts[s]])}; first passage "
                          f"{pid(firsts[s])}" for s in sources),
        points=render_points(run, points))


async def reduce(run: Run, points: list[Point]) -> tuple[str, list[ScriptLine]]:
    """One dialogue call, or one per source when the key points are too long for one call."""
    order = list(run.firsts)
    text = render_points(run, points)
    if len(text) <= REDUCE_BUDGET_CHARS or len(order) == 1:
        script = await run.ask(Script, reduce_prompt(run, points, "whole",
                                                     run.inp.target_seconds, order))
        return script.title, script.lines
    per_source = {s: [p for p in points if p.source_id == s] for s in order}
    parts = [s for s in order if per_source[s]]
    total = sum(len(per_source[s]) for s in parts) or 1
    prompts = []
    for k, s in enumerate(parts):
        role = "first" if k == 0 else "last" if k == len(parts) - 1 else "middle"
        seconds = run.inp.target_seconds * len(per_source[s]) / total
        prompts.append(reduce_prompt(run, per_source[s], role, seconds,
                                     order if role != "middle" else [s]))
    run.notes.append(f"reduce: key points too long for one call; wrote {len(parts)} parts")
    scripts = await asyncio.gather(*(run.ask(Script, p) for p in prompts))
    title = ""
    lines: list[ScriptLine] = []
    for script in scripts:
        title = title or script.title
        lines.extend(script.lines)
    return title, lines


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(text.lower()))


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in _STOP}


def mentioned_sources(run: Run, text: str) -> list[int]:
    """First passages of the sources a line names (by title, short title or first author)."""
    norm = f" {_norm(text)} "
    said = set(norm.split())
    found = []
    for i in run.firsts.values():
        p = run.passages[i]
        title = _norm(p.source_title)
        short = _norm(p.source_title.split(":")[0])
        surname = _norm(p.source_authors[0].split()[-1]) if p.source_authors and \
            p.source_authors[0].split() else ""
        if (title and f" {title} " in norm) or (len(short.split()) >= 2 and f" {short} " in norm) \
                or (len(surname) >= 3 and surname in said):
            found.append(i)
    return found


def best_quote(run: Run, text: str, idxs: list[int]) -> str:
    """The sentence of the cited passages that shares the most content words with the line."""
    want = _content_words(text)
    best, best_key = "", (-1, 0)
    for i in idxs:
        for sent in split_sentences(run.passages[i].text):
            key = (len(want & _content_words(sent)), -len(sent.split()))
            if key > best_key:
                best, best_key = sent, key
    return best


def resolve_speakers(raw: list[ScriptLine], hosts: list[Host], notes: list[str]
                     ) -> dict[str, str]:
    """Model speaker name -> host name (exact, case-insensitive, prefix, else round-robin)."""
    names = [h.name for h in hosts]
    lower = {n.lower(): n for n in names}
    mapping: dict[str, str] = {}
    unknown = 0
    for sl in raw:
        said = sl.speaker.strip()
        if said in mapping:
            continue
        hit = lower.get(said.lower()) or next(
            (n for n in names if re.match(rf"{re.escape(n.lower())}\b", said.lower())), None)
        if hit is None:
            hit = names[unknown % len(names)]
            unknown += 1
            notes.append(f"speaker {said!r} is not a host; mapped to {hit}")
        mapping[said] = hit
    return mapping


_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NAME = re.compile(r"(?<![\w.])[A-Z][\w\-]*")


def facts_of(text: str, hosts: list[Host]) -> set[str]:
    """The numbers and names a line says: digits, acronyms and capitalised words that do not
    open a sentence (host names and stop words excepted), lower-cased."""
    own = {h.name.lower() for h in hosts}
    out = {m.group(0).rstrip(".,") for m in _NUMBER.finditer(text)}
    for m in _NAME.finditer(text):
        word = m.group(0)
        before = text[:m.start()].rstrip()
        opens = not before or before[-1] in ".!?:;\"\u201c("
        if word.lower() in own or word.lower() in _STOP or (opens and not word[1:].isupper()
                                                             and not any(c.isdigit()
                                                                         for c in word)):
            continue
        out.add(word.lower())
    return out


def _support_text(run: Run, i: int) -> str:
    p = run.passages[i]
    return " ".join([p.text, p.source_title or "", " ".join(p.source_authors),
                     str(p.source_year or ""), p.section or ""]).lower()


def supported(run: Run, facts: set[str], idxs: list[int]) -> bool:
    text = " ".join(_support_text(run, i) for i in idxs)
    return all(f in text for f in facts)


def ground(run: Run, text: str, ids: list[int]) -> list[int] | None:
    """Citations for a line, assigned here: the hinted passages when they state every number and
    name of the line, else the one passage of the run (same source first) that does and shares
    the most words with it; None when no passage supports the line."""
    facts = facts_of(text, run.inp.hosts)
    if not facts or supported(run, facts, ids):
        return ids
    want = _content_words(text)
    sources = {run.passages[i].source_id for i in ids}
    best, best_key = None, (False, -1)
    for i, p in enumerate(run.passages):
        if supported(run, facts, [i]):
            key = (p.source_id in sources, len(want & _content_words(p.text)))
            if key > best_key:
                best, best_key = i, key
    return None if best is None else [best]


_ENDED = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*(?=\s+[A-Z\u201c\"(])")


def whole_sentences(text: str) -> str:
    """The text without an unfinished last sentence (a reply cut at the schema's maxLength
    or max_tokens ends mid-clause); a text with no sentence end is kept as it is."""
    if not text or _ENDED.search(text):
        return text
    ends = list(_SENTENCE_END.finditer(text))
    return text[:ends[-1].end()] if ends else text


def finalize(run: Run, raw: list[ScriptLine]) -> tuple[list[Line], list[str]]:
    """Validated lines: hosts as speakers, citations as chunk ids, a quote from a cited passage.

    Returns the lines and the notes on what was repaired or dropped.
    """
    notes: list[str] = []
    speakers = resolve_speakers(raw, run.inp.hosts, notes)
    n = len(run.passages)
    cites = [parse_pids(sl.passage_ids, n)[:3] for sl in raw]
    firsts = list(run.firsts.values())
    lines: list[Line] = []
    for k, sl in enumerate(raw):
        marks = re.findall(r"P\d+", " ".join(_MARK.findall(sl.text)), re.I)
        text = whole_sentences(" ".join(_MARK.sub("", sl.text).split()))
        if not text:
            continue
        ids = cites[k] or parse_pids(marks, n)[:3]
        fallback = False
        if not ids and sl.kind in ("intro", "outro", "transition"):
            fallback = True
            ids = mentioned_sources(run, text)[:3]
            if not ids and sl.kind == "transition":
                ids = next((c[:1] for c in cites[k + 1:] if c), [])
            if not ids and sl.kind in ("intro", "outro"):
                ids = firsts[:3]
            if ids:
                notes.append(f"{sl.kind} line {k} had no valid citation; cited "
                                 f"{', '.join(pid(i) for i in ids)}")
        if not ids:
            notes.append(f"dropped {sl.kind} line {k} ({sl.speaker}): no valid citation")
            continue
        grounded = ground(run, text, ids)
        if grounded is None:
            notes.append(f"dropped {sl.kind} line {k} ({sl.speaker}): a number or name in it "
                         "is in no passage")
            continue
        if grounded != ids:
            notes.append(f"{sl.kind} line {k}: citation moved to {pid(grounded[0])}, the "
                         "passage that states its numbers and names")
        ids = grounded
        lines.append(Line(speaker=speakers[sl.speaker.strip()], kind=sl.kind, text=text,
                          citations=[run.passages[i].chunk_id for i in ids],
                          quote=best_quote(run, text, ids), section=sl.section.strip(),
                          meta={"fallback_citation": True} if fallback else {}))
    if not any(line.kind == "outro" for line in lines) and lines:
        lines.append(credits_line(run))
        notes.append("the script had no outro; added one crediting the sources")
    for i, line in enumerate(lines):
        line.seq = i
    return lines, notes


def credits_line(run: Run) -> Line:
    firsts = list(run.firsts.values())
    named = "; ".join(source_label(run.passages[i]) for i in firsts)
    text = f"That's all for today. Everything you heard came from {named}. Thanks for listening."
    return Line(speaker=run.inp.hosts[0].name, kind="outro", text=text,
                citations=[run.passages[i].chunk_id for i in firsts[:3]],
                quote=best_quote(run, text, firsts[:1]), section="Credits",
                meta={"fallback_citation": True})


def render_script(run: Run, title: str, lines: list[Line]) -> str:
    rows = [{"speaker": ln.speaker, "kind": ln.kind, "text": ln.text, "section": ln.section,
             "passage_ids": [pid(run.by_chunk[c]) for c in ln.citations if c in run.by_chunk]}
            for ln in lines]
    return json.dumps({"title": title, "lines": rows}, ensure_ascii=False, indent=1)


async def revise(run: Run, title: str, lines: list[Line], notes: list[str], points: list[Point]
                 ) -> tuple[str, list[Line], list[str]]:
    """One call to lengthen or shorten the draft; returns the accepted version and its notes."""
    inp = run.inp
    got_s = estimate_seconds(lines, inp)
    got_words = sum(len(ln.text.split()) for ln in lines)
    want_words, _ = word_budget(inp, inp.target_seconds)
    delta = abs(want_words - got_words)
    direction = (LENGTHEN if got_s < inp.target_seconds else SHORTEN).format(delta=delta)
    prompt = REVISE_PROMPT.format(got_words=got_words, got_s=round(got_s),
                                  want_words=want_words, want_s=round(inp.target_seconds),
                                  direction=direction, points=render_points(run, points),
                                  script=render_script(run, title, lines))
    script = await run.ask(Script, prompt)
    revised, revised_notes = finalize(run, script.lines)
    if not revised:
        return title, lines, [*notes, "revise: the revision had no usable lines; kept the draft"]
    return script.title or title, revised, revised_notes


def trim(run: Run, lines: list[Line]) -> list[Line]:
    """Drop trailing body lines (never the intro or the outro) until the script fits."""
    limit = run.inp.target_seconds * (1 + LENGTH_TOLERANCE)
    lines = list(lines)
    dropped = 0

    def last_body() -> int | None:
        return next((i for i in range(len(lines) - 1, -1, -1)
                     if lines[i].kind not in ("intro", "outro")), None)

    while estimate_seconds(lines, run.inp) > limit:
        i = last_body()
        if i is None:
            break
        del lines[i]
        dropped += 1
    while dropped and (i := last_body()) is not None and lines[i].kind in ("question",
                                                                           "transition"):
        del lines[i]  # no dangling question or transition before the outro
        dropped += 1
    if dropped:
        run.notes.append(f"trimmed {dropped} trailing line(s) to fit the target length")
    for k, line in enumerate(lines):
        line.seq = k
    return lines


async def write_with_llm(inp: WriterInput, settings: Settings,
                         model: BaseChatModel | None = None, *,
                         method: StructuredMethod = "function_calling") -> WriterOutput:
    """Write a cited dialogue with the configured LLM (or `model`), sized to the target length."""
    if not inp.passages:
        raise BadInput("no passages to write a script from")
    if not 1 <= len(inp.hosts) <= 4:
        raise BadInput(f"a script needs 1-4 hosts, got {len(inp.hosts)}")
    model = model or chat_model(settings)
    by_chunk: dict[str, int] = {}
    for i, p in enumerate(inp.passages):
        by_chunk.setdefault(p.chunk_id, i)
    passages = list(inp.passages)
    run = Run(inp=inp, model=model, settings=settings, method=method, passages=passages,
              by_chunk=by_chunk, firsts=first_passages(passages))

    sem = asyncio.Semaphore(MAP_CONCURRENCY)
    mapped = await asyncio.gather(*(map_batch(run, b, sem) for b in map_batches(run)))
    points = [pt for batch in mapped for pt in batch]
    if not points:
        raise BadInput("the LLM found no citable key points in the selected passages")

    title, raw = await reduce(run, points)
    lines, draft_notes = finalize(run, raw)
    got = estimate_seconds(lines, inp)
    if not lines or abs(got - inp.target_seconds) > inp.target_seconds * LENGTH_TOLERANCE:
        run.notes.append(f"revise: first draft ~{got:.0f}s for a {inp.target_seconds:.0f}s target")
        title, lines, draft_notes = await revise(run, title, lines, draft_notes, points)
    run.notes.extend(draft_notes)
    if not lines:
        raise BadInput("the LLM script had no line citing a passage it was shown")
    lines = trim(run, lines)
    got = estimate_seconds(lines, inp)
    if got < inp.target_seconds * (1 - LENGTH_TOLERANCE):
        run.notes.append(f"the script runs ~{got / 60:.1f} min, short of the "
                         f"{inp.target_seconds / 60:.1f} min requested")
    if title.strip():
        lines[0].meta["episode_title"] = title.strip()
    name = settings.llm_model or getattr(model, "model_name", None) or getattr(model, "model", None)
    return WriterOutput(lines=lines, writer="llm", model=str(name) if name else None,
                        prompt_hashes=dict(PROMPT_HASHES), usage=run.usage, notes=run.notes)
