"""What a source sentence does in its paper's argument, what it is about, and the question it
answers.

A sentence's rhetorical role (problem, method, result, limitation, implication, background) is
scored from general signals: cue phrases, numbers, its section heading and its position (the
abstract, the first sentence of a passage). Its key phrase is the run of content words that is
most specific to the source (rare across the paper, shared with the title, an acronym). The
question that leads into it is generated from that phrase and the role, so it names what the
answer talks about. Hand-written cue lists: no installed library tags scientific discourse roles.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable

ROLES = ["problem", "method", "result", "limitation", "implication", "background"]
_CUES: dict[str, re.Pattern[str]] = {
    "problem": re.compile(
        r"\b(?:challenge|problem|difficult|remains? (?:unclear|unknown|open)|little is known|"
        r"lack of|lacks?|gap|need for|needs? to|important|crucial|aim(?:s|ed)? (?:to|of|at)|"
        r"goal|objective|purpose|question|whether|hypothes[ie]s|motivat|costly|"
        r"limited (?:understanding|knowledge|data)|yet to be|increasingly|widely)\b", re.I),
    "method": re.compile(
        r"\b(?:propose[sd]?|present(?:s|ed)?|introduce[sd]?|develop(?:s|ed)?|design(?:s|ed)?|"
        r"implement|approach|method|framework|pipeline|algorithm|model(?:s|ed)?|architecture|"
        r"using|based on|we use|used|collect(?:s|ed)?|recruit|participants|sample[sd]?|"
        r"survey|interview|dataset|corpus|trained|conducted|measured|analy[sz]ed|estimated|"
        r"compared|systematic review|searched|cohort|randomi[sz]ed|protocol|tool|library)\b",
        re.I),
    "result": re.compile(
        r"\b(?:find|found|show(?:s|ed|n)?|reveal(?:s|ed)?|observ(?:e|ed)|result(?:s|ed)? in|"
        r"significant(?:ly)?|outperform|improve[sd]?|increase[sd]?|decrease[sd]?|reduce[sd]?|"
        r"higher|lower|more than|less than|achiev|accuracy|associated with|correlat|"
        r"effect|times|fold|percent|%|odds|ratio|rate|score)\b", re.I),
    "limitation": re.compile(
        r"\b(?:limitation|limited|caveat|however|although|but|only|not (?:able|possible|"
        r"clear)|cannot|could not|unable|bias|small sample|further (?:research|work|study)|"
        r"future (?:work|research)|remain|uncertain|may not|no (?:significant|evidence))\b",
        re.I),
    "implication": re.compile(
        r"\b(?:suggest|implication|conclude|conclusion|overall|these (?:findings|results)|"
        r"can be used|could (?:be|help)|enable|allow|recommend|should|potential|promis|"
        r"practice|policy|we hope|valuable|useful|benefit|support(?:s)? the)\b", re.I),
}
_SECTION_ROLE = [
    (re.compile(r"introduc|motivat|background|problem|related", re.I), "problem"),
    (re.compile(r"method|approach|material|design|data|system|model|implement|architecture|"
                r"framework|procedure|experimental setup|participants", re.I), "method"),
    (re.compile(r"result|finding|evaluat|experiment|analys|performance|outcome", re.I), "result"),
    (re.compile(r"limitation|threat|weakness", re.I), "limitation"),
    (re.compile(r"conclu|discussion|implication|future|summary|outlook", re.I), "implication"),
]
_NUMBER = re.compile(r"\d")
_FUTURE = re.compile(r"\b(?:further (?:research|work|stud)|future (?:work|research|stud)|"
                     r"remains to be|will need to|need(?:s|ed)? to be (?:confirmed|tested|"
                     r"validated))", re.I)
STOP = set("""a an the and or but if of to in on at by for with from as is are was were be been
being this that these those it its they them their we our you your he she his her i me my us
not no so than then there here what which who whom whose how why when where do does did done
can could would should may might will shall also such into over under about after before more
most less least very much many some any each every both all one two other only just like up
down out off again further once same own too however also while whether between among within
without across per via using used based show shows showed shown find found present presents
paper work study studies article authors results result data new well high low first second
use uses has have had number large small different several various main based including
perform performs allows allow consists consist provides provide capable enables enable requires
require includes include contains contain makes make takes take gives give remains remain becomes
appears seems leads lead helps help needs need aims aim offers offer supports support describes
describe proposes propose introduces introduce demonstrates demonstrate suggests suggest indicates
indicate reveals reveal yields yield achieves achieve improves improve reduces reduce increases
increase outperforms outperform exist exists address addresses evaluate evaluates possible able
likely often usually typically recently currently new novel""".split())
_TOKEN = re.compile(r"[A-Za-z][A-Za-z0-9'’-]*|\d+(?:[.,]\d+)?")


def role_scores(sentence: str, section: str, first: bool, in_abstract: bool) -> dict[str, float]:
    """A score per role from cues, numbers, heading and position."""
    scores = {r: 0.0 for r in ROLES}
    for role, pattern in _CUES.items():
        scores[role] += min(2, len(pattern.findall(sentence))) * 0.5
    digits = len(_NUMBER.findall(sentence))
    if digits:
        scores["result"] += 0.6 + min(0.6, digits * 0.1)
    for pattern, role in _SECTION_ROLE:
        if pattern.search(section):
            scores[role] += 0.7
            break
    if in_abstract and first:
        scores["problem"] += 0.5
    if _FUTURE.search(sentence):
        scores["limitation"] += 1.0
    scores["background"] = 0.4
    return scores


def role_of(sentence: str, section: str, first: bool = False, in_abstract: bool = False) -> str:
    scores = role_scores(sentence, section, first, in_abstract)
    return max(ROLES, key=lambda r: (scores[r], -ROLES.index(r)))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def document_frequency(texts: Iterable[str]) -> Counter[str]:
    """In how many of the texts each lowercased word occurs."""
    df: Counter[str] = Counter()
    for t in texts:
        df.update({w.lower() for w in tokens(t)})
    return df


def _phrases(sentence: str) -> list[list[str]]:
    """Runs of 1-4 content words (no stop word, verb-like ending or number inside)."""
    runs: list[list[str]] = []
    cur: list[str] = []
    for raw in re.split(r"[\s]+", sentence):
        w = raw.strip(",.;:!?()\u201c\u201d\"'")
        breaks = raw.endswith((",", ";", ":", ".", ")")) or raw.startswith("(")
        low = w.lower()
        plain = bool(w) and low not in STOP and not any(c.isdigit() for c in w) and len(w) > 2
        if plain and not (low.endswith(("ly", "ed", "ing")) and not w[:1].isupper()):
            cur.append(w)
        else:
            if cur:
                runs.append(cur)
            cur = []
        if breaks and cur:
            runs.append(cur)
            cur = []
    if cur:
        runs.append(cur)
    out: list[list[str]] = []
    for r in runs:
        if len(r) > 1 and _is_name(r[0]) and not any(_is_name(w) for w in r[1:]):
            out.append([r[0]])  # "VESPA consists" -> "VESPA"
            r = r[1:]
        out.append(r[-4:])
    return out


def _is_name(w: str) -> bool:
    """An acronym or a coined name (VESPA, SemEAGAT)."""
    return (w.isupper() and len(w) >= 2) or bool(re.search(r"[a-z][A-Z]", w))


def key_phrases(sentence: str, df: Counter[str], n_docs: int, title: str = "",
                k: int = 3) -> list[str]:
    """The sentence's most specific phrases, best first (rare in the source, in the title, an
    acronym or a name)."""
    title_words = {w.lower() for w in tokens(title)}
    scored: list[tuple[float, str]] = []
    for run in _phrases(sentence):
        weight = 0.0
        for w in run:
            idf = math.log((n_docs + 1) / (df.get(w.lower(), 0) + 0.5))
            weight += min(idf, 3.0) * 0.3 + (1.0 if w.lower() in title_words else 0.0)
            if w.isupper() and len(w) >= 3 or re.search(r"[a-z][A-Z]", w):
                weight += 1.2
        weight += 0.6 * min(len(run), 3) - (0.8 if len(run) == 1 and len(run[0]) < 5 else 0.0)
        phrase = " ".join(run)
        if phrase[:1].isupper() and not (run[0].isupper() or re.search(r"[a-z][A-Z]", run[0])) \
                and sentence.startswith(run[0]):
            phrase = phrase[:1].lower() + phrase[1:]
        scored.append((weight, phrase))
    scored.sort(key=lambda x: -x[0])
    return list(dict.fromkeys(p for _, p in scored))[:k]


QUESTION_TEMPLATES: dict[str, list[str]] = {
    "problem": ["What's the problem with {x}?", "Why does {x} matter?",
                "What's hard about {x}?"],
    "method": ["How did they go about {x}?", "So how does {x} work?",
               "What did they do with {x}?"],
    "result": ["What did they find about {x}?", "And what happened with {x}?",
               "What did {x} show?"],
    "number": ["How big is the effect on {x}?", "What numbers do they report for {x}?",
               "How much are we talking about with {x}?"],
    "limitation": ["Any caveats around {x}?", "Where does {x} fall short?",
                   "What's the catch with {x}?"],
    "implication": ["So what does {x} mean in practice?", "Why should we care about {x}?",
                    "What follows from {x}?"],
    "background": ["What's the background on {x}?", "Tell me about {x}.",
                   "Where does {x} come in?"],
}
FOLLOW_UPS = ["Can you say more about {x}?", "And {x}?", "What else about {x}?"]


def question_options(role: str, has_number: bool, phrases: list[str]) -> list[str]:
    """Questions that lead into an answer of this role about these phrases."""
    key = "number" if role == "result" and has_number else role
    out = []
    for phrase in phrases:
        for template in QUESTION_TEMPLATES[key]:
            out.append(template.format(x=phrase))
    return out


def framing_texts() -> list[str]:
    """The words the question templates add (they assert nothing about the sources)."""
    return [t.replace("{x}", "") for ts in QUESTION_TEMPLATES.values() for t in ts] + \
           [t.replace("{x}", "") for t in FOLLOW_UPS]
