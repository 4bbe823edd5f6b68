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

from agents.script import Line, Passage, WriterInput, estimate_seconds, words
from agents.spoken import NUMBERS, SHOW_NAME, Candidate, short_authors, spoken_title

SHORT_S = 50.0  # below this target the intro and outro are compact
MAX_ANSWER_WORDS = 45
SIGNPOSTS = {"problem": "Let's start with the problem.",
             "background": "Some background first.",
             "method": "Here's how they went about it.",
             "result": "Now to what they found.",
             "limitation": "There is a caveat.",
             "implication": "And here's why it matters."}
OPENERS = ["Right,", "Okay,", "Got it,", "Interesting,"]
HANDOFF = ["Let's start with", "Next up,", "Now let's turn to", "And finally,"]
DEBATE_FOR = ["I'd say the case is strong.", "Look at the evidence.", "Here's my side."]
DEBATE_AGAINST = ["I'm not convinced.", "But there's a weak spot.", "Not so fast."]
CRITIQUE = {"strength": "Let's weigh the strengths first.", "weakness": "Now the weaknesses."}
_SPAN = re.compile(r"(?<![\w.])(\d[\d.,]*\s*(?:percent|million|billion|thousand)?"
                   r"(?:\s+[A-Za-z][\w-]*){1,3})")
_STOPS = set("and or but of to in on at by for with from as is are was were the a an that "
             "which who than".split())


@dataclass
class Script:
    """Lines under construction, with strict turn-taking."""

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
        options = c.questions or [f"What about {c.phrases[0]}?" if c.phrases else
                                  "What else do they report?"]
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


def reaction(seg: list[Candidate], n: int) -> str:
    """A short restatement of an answer: its first number with what it counts, else its key
    phrase (every word from the answer)."""
    text = " ".join(c.spoken for c in seg)
    found = _SPAN.search(text)
    if found:
        span = found.group(1).split()
        while span and span[-1].lower() in _STOPS:
            span.pop()
        restated = " ".join(span).rstrip(",.;:")
    else:
        restated = seg[0].phrases[0] if seg[0].phrases else ""
    if not restated or len(restated.split()) < 2 and not found:
        return ""
    return f"{OPENERS[n % len(OPENERS)]} {restated}."


def answer(script: Script, speaker: str, seg: list[Candidate], prefix: str = "") -> None:
    text = " ".join(c.spoken for c in seg)
    if prefix == "And":
        if text.startswith("However, "):
            prefix, text = "But", text[len("However, "):]
        if len(text) > 1 and text[1].islower():
            text = text[0].lower() + text[1:]
    script.say(speaker, "content", f"{prefix} {text}".strip(), [c.passage for c in seg],
               quote=" ".join(c.sentence for c in seg), section=seg[0].passage.source_title,
               role=seg[0].role)


def names_of(others: list[str]) -> str:
    return ", ".join(others[:-1]) + (" and " if len(others) > 1 else "") + others[-1]


def intro(script: Script, inp: WriterInput, firsts: list[Passage]) -> None:
    """Welcome, hosts, and (for one source) its short title, authors and year."""
    hosts = [h.name for h in inp.hosts]
    fmt, anchor = inp.brief.format, hosts[0]
    one = len(firsts) == 1
    what = by_line_short(firsts[0]) if one else f"{NUMBERS[len(firsts)]} papers"
    if inp.target_seconds < SHORT_S:
        text = f"I'm {anchor}, and this is a quick look at {what}."
    elif len(hosts) == 1 or fmt == "brief" or inp.brief.style == "lecture":
        text = f"Welcome to {SHOW_NAME}. I'm {anchor}, and today I'm walking you through {what}."
    elif fmt == "debate":
        text = (f"Welcome to {SHOW_NAME}. I'm {anchor}, here with {hosts[1]}, and today we "
                f"debate {what}. I'll make the case for it, {hosts[1]} the case against.")
    elif fmt == "critique":
        text = (f"Welcome to {SHOW_NAME}. I'm {anchor}, here with {names_of(hosts[1:])}, and "
                f"today we weigh the strengths and weaknesses of {what}.")
    else:
        text = (f"Welcome to {SHOW_NAME}. I'm {anchor}, here with {names_of(hosts[1:])}, and "
                f"today we're looking at {what}.")
    script.say(anchor, "intro", text, firsts, section="Introduction")


def by_line_short(p: Passage) -> str:
    who = short_authors(p.source_authors)
    out = f"\u201c{spoken_title(p.source_title)}\u201d"
    if who:
        out += f" by {who}"
    return out + (f", from {p.source_year}" if p.source_year else "")


def outro(script: Script, inp: WriterInput, firsts: list[Passage]) -> None:
    """Credits by authors (titles are not spoken again)."""
    anchor = inp.hosts[0].name
    speaker = anchor if script.last != anchor or script.solo else inp.hosts[1].name
    who = [short_authors(p.source_authors) for p in firsts]
    named = list(dict.fromkeys(w for w in who if w))
    credit = ("the work of " + names_of(named)) if named else "the sources"
    if inp.target_seconds < SHORT_S:
        text = f"That was {credit}; references are in the show notes."
    else:
        text = (f"That's all for today. Everything you heard came from {credit}; full "
                f"references are in the show notes. Thanks for listening.")
    script.say(speaker, "outro", text, firsts, section="Credits")


def compose(inp: WriterInput, chosen: list[Candidate], groups: list[list[Passage]]) -> list[Line]:
    """The script for the chosen sentences, voiced by style and format."""
    one_voice = len(inp.hosts) == 1 or inp.brief.style == "lecture" or inp.brief.format == "brief"
    script = Script(solo=one_voice)
    spoken = [g for g in groups if any(c.passage.source_id == g[0].source_id for c in chosen)]
    firsts = [g[0] for g in spoken or groups]
    intro(script, inp, firsts)
    for si, group in enumerate(spoken):
        segs = segments([c for c in chosen if c.passage.source_id == group[0].source_id])
        handoff = ""
        if len(firsts) > 1:
            handoff = f"{HANDOFF[min(si, 2) if si < len(spoken) - 1 or si == 0 else 3]} " \
                      f"{by_line_short(group[0])}."
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
        post = SIGNPOSTS[role] if role != prev and inp.target_seconds >= SHORT_S else ""
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
            lead += " " + CRITIQUE["strength"]
        if critique and seg[0].role == "limitation" and not said_weak:
            lead += " " + CRITIQUE["weakness"]
            said_weak = True
        react = reaction(prev, k) if prev and k % 2 == 1 else ""
        tell = not interview and not critique and k % 3 == 2 and not lead and prev is not None
        if tell:  # the other host explains this one, picking up from the last answer
            answer(script, asker, seg, prefix=react or "And")
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
        lead = (DEBATE_FOR if side_pro else DEBATE_AGAINST)[n % 3]
        n += 1
        answer(script, pro_host if side_pro else con_host, seg, prefix=lead)


def tighten(lines: list[Line], inp: WriterInput) -> list[Line]:
    """Drop reactions while the script runs long."""
    if estimate_seconds(lines, inp) <= inp.target_seconds * 1.02:
        return lines
    for line in lines:
        if line.kind == "question" and re.match(r"^(?:Right|Okay|Got it|Interesting),", line.text):
            parts = re.split(r"(?<=\.)\s+", line.text, maxsplit=1)
            if len(parts) == 2:
                line.text = parts[1]
        if estimate_seconds(lines, inp) <= inp.target_seconds * 1.02:
            break
    return lines


def framing_texts() -> list[str]:
    """Every text the dialogue templates add (they assert nothing about the sources)."""
    return [*SIGNPOSTS.values(), *OPENERS, *HANDOFF, *DEBATE_FOR, *DEBATE_AGAINST,
            *CRITIQUE.values(), "Welcome I'm here with and today we're looking at papers paper "
            "walking you through a quick look at That's all for today Everything you heard "
            "came from the work of the sources full references are in the show notes Thanks "
            "for listening That was colleagues I'll make the case for it the case against we "
            "debate weigh the strengths and weaknesses of Can you say more about What about "
            "What else do they report And by from"]
