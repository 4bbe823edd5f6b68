"""Voicing the chosen sentences: who says what, by style (conversational, interview, lecture)
and format (deep-dive, brief, critique, debate).

Turn-taking is strict by construction: `Script.say` never lets one speaker talk twice in a row
(a second line by the same speaker is merged into the first). Questions come from the answer
they introduce (`Candidate.questions`, ranked by embedding similarity to it); reactions restate
a number or key phrase of the previous answer and cite it. Titles are spoken once, at most ~8
words; the outro names the authors, not the title again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from agents.script import Line, Passage, WriterInput, estimate_seconds, words
from agents.spoken import Candidate, short_authors, spoken_title
from tools.lang import Lang, pack

SHORT_S = 50.0  # below this target the intro and outro are compact
MAX_ANSWER_WORDS = 45


def lang_of(inp: WriterInput) -> Lang:
    """The language the script is written in (its framing lines, questions, credits)."""
    return pack(inp.brief.language)


@lru_cache(maxsize=16)
def _span(code: str) -> re.Pattern[str]:
    """A number and the 1-3 words after it (what it counts)."""
    units = pack(code)["reaction_units"]
    return re.compile(r"(?<![\w.])(\d[\d.,]*\s*(?:" + units + r")?(?:\s+[^\W\d_][\w-]*){1,3})")


@dataclass
class Script:
    """Lines under construction, with strict turn-taking."""

    lang: Lang = field(default_factory=pack)
    lines: list[Line] = field(default_factory=list)
    asked: set[str] = field(default_factory=set)
    solo: bool = False  # one voice: its lines follow each other

    @property
    def last(self) -> str:
        return self.lines[-1].speaker if self.lines else ""

    def say(self, speaker: str, kind: str, text: str, cites: list[Passage], quote: str = "",
            section: str = "", **meta: str) -> None:
        ids = list(dict.fromkeys(p.chunk_id for p in cites))
        if self.lines and self.last == speaker and not self.solo:  # no two turns in a row
            prev = self.lines[-1]
            prev.text = f"{prev.text} {text}"
            prev.citations = list(dict.fromkeys(prev.citations + ids))
            prev.quote = " ".join(q for q in (prev.quote, quote) if q)
            if kind == "content":
                prev.kind = "content"
            return
        self.lines.append(Line(speaker=speaker, kind=kind,  # type: ignore[arg-type]
                               text=text, citations=ids, quote=quote, section=section,
                               meta=dict(meta)))

    def question(self, c: Candidate) -> str:
        """The most relevant unused question leading into c."""
        options = c.questions or [self.lang.text("what_about", x=c.phrases[0]) if c.phrases
                                  else self.lang.text("what_else")]
        for q in options:
            if q not in self.asked:
                self.asked.add(q)
                return q
        return options[0]


def segments(chosen: list[Candidate]) -> list[list[Candidate]]:
    """Answers of 1-2 sentences of one source and role, at most ~45 words."""
    out: list[list[Candidate]] = []
    for c in chosen:
        last = out[-1] if out else None
        if (last and len(last) < 2 and last[0].role == c.role
                and last[0].passage.source_id == c.passage.source_id
                and sum(words(x.spoken) for x in last) + words(c.spoken) <= MAX_ANSWER_WORDS):
            last.append(c)
        else:
            out.append([c])
    return out


def reaction(seg: list[Candidate], n: int, lang: Lang) -> str:
    """A short restatement of an answer: its first number with what it counts, else its key
    phrase (every word from the answer)."""
    text = " ".join(c.spoken for c in seg)
    found = _span(lang.code).search(text)
    stops = set(lang["reaction_stops"])
    openers = lang["framing"]["openers"]
    if found:
        span = found.group(1).split()
        while span and span[-1].lower() in stops:
            span.pop()
        restated = " ".join(span).rstrip(",.;:")
    else:
        restated = seg[0].phrases[0] if seg[0].phrases else ""
    if not restated or len(restated.split()) < 2 and not found:
        return ""
    return f"{openers[n % len(openers)]} {restated}."


def answer(script: Script, speaker: str, seg: list[Candidate], prefix: str = "") -> None:
    text = " ".join(c.spoken for c in seg)
    lang = script.lang
    if prefix == lang.text("and_word"):
        however = lang.text("however")
        if text.startswith(however):
            prefix, text = lang.text("but_word"), text[len(however):]
        if len(text) > 1 and text[1].islower():
            text = text[0].lower() + text[1:]
    script.say(speaker, "content", f"{prefix} {text}".strip(), [c.passage for c in seg],
               quote=" ".join(c.sentence for c in seg), section=seg[0].passage.source_title,
               role=seg[0].role)


def intro(script: Script, inp: WriterInput, firsts: list[Passage]) -> None:
    """Welcome, hosts, and (for one source) its short title, authors and year."""
    lang = script.lang
    hosts = [h.name for h in inp.hosts]
    fmt, anchor = inp.brief.format, hosts[0]
    one = len(firsts) == 1
    what = by_line_short(firsts[0], lang) if one else lang.text("papers",
                                                                 n=lang.number(len(firsts)))
    if inp.target_seconds < SHORT_S:
        key = "quick"
    elif len(hosts) == 1 or fmt == "brief" or inp.brief.style == "lecture":
        key = "solo"
    else:
        key = fmt if fmt in {"debate", "critique"} else "conversation"
    text = lang.text(f"intro.{key}", show=lang["show_name"], anchor=anchor, what=what,
                     other=hosts[1] if len(hosts) > 1 else "",
                     others=lang.join(hosts[1:]) if len(hosts) > 1 else "")
    script.say(anchor, "intro", text, firsts, section=lang.text("chapters.intro"))


def by_line_short(p: Passage, lang: Lang | None = None) -> str:
    """"Title" by X, from 2020 (in the language)."""
    lang = lang or pack()
    who = short_authors(p.source_authors, lang)
    out = f"\u201c{spoken_title(p.source_title, lang)}\u201d"
    if who:
        out += " " + lang.text("by", who=who)
    return out + (lang.text("from_short", year=p.source_year) if p.source_year else "")


def outro(script: Script, inp: WriterInput, firsts: list[Passage]) -> None:
    """Credits by authors (titles are not spoken again)."""
    lang = script.lang
    anchor = inp.hosts[0].name
    speaker = anchor if script.last != anchor or script.solo else inp.hosts[1].name
    who = [short_authors(p.source_authors, lang) for p in firsts]
    named = list(dict.fromkeys(w for w in who if w))
    credit = lang.text("outro.credit", names=lang.join(named)) if named else \
        lang.text("outro.sources")
    key = "quick" if inp.target_seconds < SHORT_S else "full"
    script.say(speaker, "outro", lang.text(f"outro.{key}", credit=credit), firsts,
               section=lang.text("chapters.credits"))


def compose(inp: WriterInput, chosen: list[Candidate], groups: list[list[Passage]]) -> list[Line]:
    """The script for the chosen sentences, voiced by style and format."""
    one_voice = len(inp.hosts) == 1 or inp.brief.style == "lecture" or inp.brief.format == "brief"
    lang = lang_of(inp)
    script = Script(lang=lang, solo=one_voice)
    handoffs = lang["framing"]["handoff"]
    spoken = [g for g in groups if any(c.passage.source_id == g[0].source_id for c in chosen)]
    firsts = [g[0] for g in spoken or groups]
    intro(script, inp, firsts)
    for si, group in enumerate(spoken):
        segs = segments([c for c in chosen if c.passage.source_id == group[0].source_id])
        handoff = ""
        if len(firsts) > 1:
            handoff = f"{handoffs[min(si, 2) if si < len(spoken) - 1 or si == 0 else 3]} " \
                      f"{by_line_short(group[0], lang)}."
        if one_voice:
            lecture(script, inp, segs, handoff, group[0])
        elif inp.brief.format == "debate":
            debate(script, inp, segs, handoff, group[0])
        else:
            dialogue(script, inp, segs, handoff, group[0], si)
    outro(script, inp, firsts)
    return script.lines


def lecture(script: Script, inp: WriterInput, segs: list[list[Candidate]], handoff: str,
            head: Passage) -> None:
    """One voice, signposted by role."""
    anchor = inp.hosts[0].name
    if handoff:
        script.lines.append(Line(speaker=anchor, kind="transition", text=handoff,
                                 citations=[head.chunk_id], section=head.source_title))
    prev = ""
    for seg in segs:
        role = seg[0].role
        post = script.lang.text(f"signposts.{role}") if role != prev and \
            inp.target_seconds >= SHORT_S else ""
        prev = role
        script.lines.append(Line(speaker=anchor, kind="content",
                                 text=f"{post} {' '.join(c.spoken for c in seg)}".strip(),
                                 citations=list(dict.fromkeys(c.passage.chunk_id for c in seg)),
                                 quote=" ".join(c.sentence for c in seg),
                                 section=head.source_title, meta={"role": role}))


def dialogue(script: Script, inp: WriterInput, segs: list[list[Candidate]], handoff: str,
             head: Passage, si: int) -> None:
    """Questions and answers: an interview's host only asks; conversational hosts take turns
    explaining; a critique weighs strengths, then weaknesses."""
    hosts = [h.name for h in inp.hosts]
    interview = inp.brief.style == "interview"
    guests = hosts[1:]
    critique = inp.brief.format == "critique"
    lang = script.lang
    said_weak = False
    prev: list[Candidate] | None = None
    for k, seg in enumerate(segs):
        if interview:
            asker, teller = hosts[0], guests[si % len(guests)]
        else:
            asker = hosts[0] if script.last != hosts[0] else hosts[1 + k % (len(hosts) - 1)]
            teller = next(h for h in hosts if h != asker) if len(hosts) == 2 else \
                hosts[1 + (k + si) % (len(hosts) - 1)] if asker == hosts[0] else hosts[0]
        lead = handoff if k == 0 else ""
        if critique and k == 0:
            lead += " " + lang.text("critique.strength")
        if critique and seg[0].role == "limitation" and not said_weak:
            lead += " " + lang.text("critique.weakness")
            said_weak = True
        react = reaction(prev, k, lang) if prev and k % 2 == 1 else ""
        tell = not interview and not critique and k % 3 == 2 and not lead and prev is not None
        if tell:  # the other host explains this one, picking up from the last answer
            answer(script, asker, seg, prefix=react or lang.text("and_word"))
        else:
            q = script.question(seg[0])
            text = " ".join(x for x in (react, lead.strip(), q) if x)
            cites = [seg[0].passage] + ([prev[0].passage] if react and prev else []) + \
                ([head] if lead else [])
            script.say(asker, "question" if not lead else "transition", text, cites,
                       section=head.source_title)
            answer(script, teller, seg)
        prev = seg


def debate(script: Script, inp: WriterInput, segs: list[list[Candidate]], handoff: str,
           head: Passage) -> None:
    """Two hosts argue: the first for (results, implications), the second against
    (limitations, problems, method doubts); every point is a cited source sentence."""
    pro_host, con_host = inp.hosts[0].name, inp.hosts[1].name
    pro = [s for s in segs if s[0].role in {"result", "implication", "background"}]
    con = [s for s in segs if s[0].role not in {"result", "implication", "background"}]
    if handoff:
        script.say(pro_host, "transition", handoff, [head], section=head.source_title)
    n = 0
    while pro or con:
        side_pro = script.last != pro_host
        queue = pro if side_pro else con
        if not queue:  # this side has no point left: the other asks for the next one
            other = con if side_pro else pro
            speaker = pro_host if side_pro else con_host
            seg = other.pop(0)
            script.say(speaker, "question", script.question(seg[0]), [seg[0].passage],
                       section=head.source_title)
            answer(script, con_host if side_pro else pro_host, seg)
            continue
        seg = queue.pop(0)
        lead = script.lang["framing"]["debate_for" if side_pro else "debate_against"][n % 3]
        n += 1
        answer(script, pro_host if side_pro else con_host, seg, prefix=lead)


def tighten(lines: list[Line], inp: WriterInput) -> list[Line]:
    """Drop reactions while the script runs long."""
    if estimate_seconds(lines, inp) <= inp.target_seconds * 1.02:
        return lines
    openers = tuple(lang_of(inp)["framing"]["openers"])
    for line in lines:
        if line.kind == "question" and line.text.startswith(openers):
            parts = re.split(r"(?<=\.)\s+", line.text, maxsplit=1)
            if len(parts) == 2:
                line.text = parts[1]
        if estimate_seconds(lines, inp) <= inp.target_seconds * 1.02:
            break
    return lines


def framing_texts(lang: Lang | None = None) -> list[str]:
    """Every text the dialogue templates add (they assert nothing about the sources)."""
    framing = (lang or pack())["framing"]

    def flat(node: object) -> list[str]:
        if isinstance(node, dict):
            return [t for v in node.values() for t in flat(v)]
        if isinstance(node, list):
            return [t for v in node for t in flat(v)]
        return [re.sub(r"\{\w+\}", " ", str(node))]

    return flat({k: v for k, v in framing.items() if k != "video"})
