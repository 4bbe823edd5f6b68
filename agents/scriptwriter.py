"""The scriptwriter: passages -> a dialogue for 1-4 hosts, every line citing the chunks it uses.

Two writers take the same `WriterInput`: the offline **extractive** writer here (default,
deterministic: it selects, orders and lightly frames source sentences, so every factual line is
grounded by construction) and the LLM writer in `agents.llm_writer`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from agents.script import Host, Line, Passage, WriterInput, WriterOutput, estimate_seconds, words
from tools.chunking import split_sentences

SHOW_NAME = "the Librarian podcast"
NUMBERS = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
NUMBERS += [str(n) for n in range(11, 100)]
HOST_NAMES = [("Alex", "host"), ("Sam", "co-host"), ("Jordan", "guest expert"),
              ("Riley", "guest expert")]

_BRACKET_CITE = re.compile(r"\s*\[(?:\d+(?:\s*[,–-]\s*\d+)*|[A-Z][^\]]{0,40}\d{4}[a-z]?)\]")
_PAREN_CITE = re.compile(r"\s*\((?:[^()]*?(?:et al\.|\d{4}[a-z]?)[^()]*?|see [^()]*|"
                         r"(?:Section|Sec\.|Figure|Fig\.|Table|Eq\.|Appendix)\s*[^()]*)\)")
_DEICTIC = re.compile(r"^(?:Below|Above|Here|As shown|As seen|In this (?:section|paper|work|"
                      r"figure|table)|In the following|See |Figure|Table|Fig\.|Finally, we )")
_BAD = re.compile(r"https?://|www\.|@|§|\(\)|\w\.\w+\(|\b(?:Fig\.|Figure|Table|Eq\.|Equation)\s*\d|[=<>{}\\^_|]|"
                  r"\b(?:https?|doi)\b|\.\.\.|…", re.I)
_SPEAK = [(re.compile(r"\be\.g\.,?", re.I), "for example,"), (re.compile(r"\bi\.e\.,?", re.I),
          "that is,"), (re.compile(r"\bet al\."), "and colleagues"), (re.compile(r"\bvs\.?\b"),
          "versus"), (re.compile(r"%"), " percent"), (re.compile(r"&"), " and "),
          (re.compile(r"(\d)\s?M\b"), r"\1 million"), (re.compile(r"(\d)\s?B\b"), r"\1 billion"),
          (re.compile(r"(\d)\s?[kK]\b"), r"\1 thousand"), (re.compile(r"~\s*"), "about "),
          (re.compile(r"(?<=[,;:])\s*\d{1,2}(?=\s+[a-z])"), ""),
          (re.compile(r"\s+([,.;:!?])"), r"\1"),
          (re.compile(r"\s{2,}"), " ")]


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


_VOICE = [(re.compile(r"^We\b"), "The authors"), (re.compile(r"\bwe\b"), "they"),
          (re.compile(r"^Our\b"), "Their"), (re.compile(r"\bour\b"), "their"),
          (re.compile(r"\bours\b"), "theirs"), (re.compile(r"\bwe’ve\b|\bwe've\b"), "they've"),
          (re.compile(r"\bus\b"), "them")]


def speakable(sentence: str) -> str:
    """A source sentence as a host says it: the authors' "we" becomes "they", citations go,
    abbreviations are spelled out."""
    text = _BRACKET_CITE.sub("", sentence)
    for pattern, repl in _VOICE:
        text = pattern.sub(repl, text)
    text = _PAREN_CITE.sub("", text)
    for pattern, repl in _SPEAK:
        text = pattern.sub(repl, text)
    return text.strip()


def readable(sentence: str) -> bool:
    """Whether a source sentence can stand alone as a spoken line."""
    n = words(sentence)
    if n < 8 or n > 48 or _BAD.search(sentence):
        return False
    if not sentence[0].isupper() or sentence[-1] not in ".!" or _DEICTIC.match(sentence):
        return False
    if sentence.count("(") != sentence.count(")") or sentence.count("[") != sentence.count("]"):
        return False
    digits = sum(ch.isdigit() for ch in sentence)
    return digits <= 8


@dataclass
class Candidate:
    passage: Passage
    sentence: str  # exact source text (the quote)
    spoken: str
    score: float
    order: tuple[int, int]  # (passage seq, sentence index)


def candidates(passage: Passage) -> list[Candidate]:
    out = []
    for i, sent in enumerate(split_sentences(passage.text)):
        sent = " ".join(sent.split())
        if sent not in " ".join(passage.text.split()) or not readable(sent):
            continue
        spoken = speakable(sent)
        if words(spoken) < 6:
            continue
        bonus = 0.08 if i == 0 else 0.0
        out.append(Candidate(passage, sent, spoken, passage.score + bonus - 0.01 * i,
                             (passage.seq, i)))
    return out


def theme_of(section: str) -> str:
    top = section.split(" > ")[0].strip() if section else ""
    return top or "Overview"


QUESTIONS: list[tuple[re.Pattern[str], list[str]]] = [
    (re.compile(r"abstract|overview", re.I), ["So what's this work about?",
                                               "What's the big idea here?"]),
    (re.compile(r"introduction|motivation", re.I), ["What problem are they tackling?",
                                                     "Why does this matter?"]),
    (re.compile(r"related|background|prior", re.I), ["What's the background here?",
                                                      "How does it fit with earlier work?"]),
    (re.compile(r"data|corpus|collection|dataset", re.I), ["What data are we talking about?",
                                                            "Tell me about the data."]),
    (re.compile(r"method|approach|model|system|design|architecture|implement|pipeline|"
                r"framework|algorithm", re.I), ["How does it work?", "How did they build it?"]),
    (re.compile(r"experiment|evaluat|result|analys|finding|performance|benchmark", re.I),
     ["What did they find?", "And how well does it work?"]),
    (re.compile(r"discussion|limitation", re.I), ["What are the caveats?",
                                                  "Where does it fall short?"]),
    (re.compile(r"conclusion|summary|future", re.I), ["What's the takeaway?",
                                                      "So where does that leave us?"]),
]


def question_for(theme: str, n: int, used: set[str] | None = None) -> str:
    """A host's question leading into a theme; never the same question twice in a source."""
    used = used if used is not None else set()
    name = re.sub(r"^[\dIVX]+(?:\.\d+)*\.?\s+", "", theme).strip()
    options: list[str] = []
    for pattern, opts in QUESTIONS:
        if pattern.search(name):
            options = opts[n % len(opts):] + opts[:n % len(opts)]
            break
    if name:
        options.append(f"What do they say about {name.lower()}?")
    options.append("What else do they say?")
    for q in options:
        if q not in used:
            used.add(q)
            return q
    return options[-1]


def short_authors(authors: list[str]) -> str:
    if not authors:
        return ""
    last = [a.split()[-1] for a in authors if a.split()]
    if len(last) == 1:
        return last[0]
    if len(last) == 2:
        return f"{last[0]} and {last[1]}"
    return f"{last[0]} and colleagues"


def spoken_title(title: str) -> str:
    """A title as said aloud: the short name before a colon when there is one."""
    head = title.split(":")[0].strip()
    return head if ":" in title and len(head.split()) <= 6 else title


def by_line(p: Passage, full: bool = False) -> str:
    who = short_authors(p.source_authors)
    parts = [f"\u201c{p.source_title if full else spoken_title(p.source_title)}\u201d"]
    if who:
        parts.append(f"by {who}")
    if p.source_year:
        parts.append(f"from {p.source_year}")
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


def build_script(inp: WriterInput, budget_words: int) -> list[Line]:
    """One deterministic script for a given word budget for content lines."""
    hosts = inp.hosts
    anchor = hosts[0].name
    others = [h.name for h in hosts[1:]] or [anchor]
    style = inp.brief.style
    sources = group_sources(inp.passages)
    lines: list[Line] = []
    asked: set[str] = set()  # no question twice in an episode

    def add(speaker: str, kind: str, text: str, cites: list[Passage], quote: str = "",
            section: str = "") -> None:
        lines.append(Line(speaker=speaker, kind=kind,  # type: ignore[arg-type]
                          text=text, citations=list(dict.fromkeys(p.chunk_id for p in cites)),
                          quote=quote,
                          section=section))

    firsts = [g[0] for g in sources]
    titles = "; ".join(by_line(p, full=len(firsts) == 1) for p in firsts)
    what = "one paper" if len(firsts) == 1 else f"{NUMBERS[len(firsts)]} papers"
    if len(hosts) == 1:
        welcome = f"Welcome to {SHOW_NAME}. I'm {anchor}, and today I'm reading through {what}: "
    else:
        names = ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]
        welcome = (f"Welcome to {SHOW_NAME}. I'm {anchor}, here with {names}, and today we're "
                   f"looking at {what}: ")
    # with several papers each is introduced at its turn; the intro only counts them
    intro = welcome + titles + "." if len(firsts) == 1 else welcome.rstrip(": ") + "."
    add(anchor, "intro", intro, firsts, section="Introduction")

    per_source = max(12, budget_words // max(1, len(sources)))
    turn = 0
    for si, group in enumerate(sources):
        pool = [c for p in group for c in candidates(p)]
        chosen: list[Candidate] = []
        used = 0
        for cand in sorted(pool, key=lambda c: (-c.score, c.order)):
            if used >= per_source:
                break
            chosen.append(cand)
            used += words(cand.spoken)
        chosen.sort(key=lambda c: c.order)
        head = group[0]
        chapter = head.source_title
        opener = "Let's start with" if si == 0 else ("Next up:" if si % 2 else "Now let's turn to")
        intro_line = f"{opener} {by_line(head)}."
        themes: list[tuple[str, list[Candidate]]] = []
        for cand in chosen:
            theme = theme_of(cand.passage.section)
            if not themes or themes[-1][0] != theme:
                themes.append((theme, []))
            themes[-1][1].append(cand)
        if not themes:
            add(anchor, "transition", intro_line, [head], section=chapter)
        for ti, (theme, cands) in enumerate(themes):
            answerer = others[turn % len(others)]
            turn += 1
            asker = anchor if style != "lecture" or len(hosts) == 1 else others[0]
            if style == "lecture":
                answerer = anchor
            q = question_for(theme, si + ti, asked)
            if len(hosts) == 1:
                q = q.replace("they", "the authors").replace("So what", "What")
            if ti == 0:
                speaker = asker if len(hosts) > 1 else anchor
                text = f"{intro_line} {q}" if len(hosts) > 1 else intro_line
                add(speaker, "transition", text, [head, cands[0].passage], section=chapter)
            elif len(hosts) > 1:
                add(asker, "question", q, [cands[0].passage], section=chapter)
            i = 0
            while i < len(cands):
                take = cands[i:i + 2] if words(cands[i].spoken) < 28 else cands[i:i + 1]
                speaker = answerer
                if style == "conversational" and len(hosts) > 1 and i > 0 and i % 3 == 2:
                    speaker = anchor if answerer != anchor else others[0]
                    take = cands[i:i + 1]
                text = " ".join(c.spoken for c in take)
                add(speaker, "content", text, list({c.passage.chunk_id: c.passage
                                                    for c in take}.values()),
                    quote=" ".join(c.sentence for c in take), section=chapter)
                i += len(take)
    said = [f"\u201c{spoken_title(p.source_title)}\u201d" for p in firsts]
    closing = said[0] if len(said) == 1 else ", ".join(said[:-1]) + " and " + said[-1]
    add(anchor, "outro", f"That's all for today. Everything you heard came from {closing}; "
        f"full references are in the show notes. Thanks for listening.", firsts,
        section="Credits")
    for i, line in enumerate(lines):
        line.seq = i
    return lines


def fit_length(inp: WriterInput, build: Callable[[WriterInput, int], list[Line]]) -> list[Line]:
    """Search the content budget whose script comes closest to the target duration."""
    avg_spw = sum(inp.seconds_per_word.values()) / max(1, len(inp.seconds_per_word))
    budget = max(60, int(inp.target_seconds / avg_spw * 0.8))
    best: list[Line] = []
    best_err = float("inf")
    lo, hi = 0, budget * 3
    for _ in range(14):
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
    """Offline writer: a grounded dialogue of source sentences, sized to the target length."""
    lines = fit_length(inp, build_script)
    notes = []
    got = estimate_seconds(lines, inp)
    if got < inp.target_seconds * 0.9:
        notes.append(f"the sources hold about {got / 60:.1f} minutes of readable material, "
                     f"less than the {inp.target_seconds / 60:.1f} requested")
    return WriterOutput(lines=lines, writer="extractive", notes=notes)


def framing_words() -> set[str]:
    """Every word the extractive writer's own templates can add (they assert nothing)."""
    texts = [SHOW_NAME, "Welcome I'm here with and today we're looking at papers paper reading "
             "through Let's start with Next up Now let's turn to by from That's all for today "
             "Everything you heard came Full references are in the show notes Thanks for "
             "listening the authors What do they say about else"]
    texts += [o for _, opts in QUESTIONS for o in opts]
    texts += [name for name, _ in HOST_NAMES] + NUMBERS[:11]
    return {w for t in texts for w in re.findall(r"[a-z']+", t.lower())}
