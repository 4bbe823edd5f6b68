"""What a source sentence does in its paper's argument, what it is about, and the question it
answers.

A sentence's rhetorical role (problem, method, result, limitation, implication, background) is
scored from general signals: cue phrases, numbers, its section heading and its position (the
abstract, the first sentence of a passage). Its key phrase is the run of content words that is
most specific to the source (rare across the paper, shared with the title, an acronym). The
question that leads into it is generated from that phrase and the role, so it names what the
answer talks about. Cue lists and question templates are per language, in tools/lang/*.yaml:
no installed library tags scientific discourse roles.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

from tools.lang import Lang, pack

ROLES = ["problem", "method", "result", "limitation", "implication", "background"]
_NUMBER = re.compile(r"\d")
_TOKEN = re.compile(r"[^\W\d_][^\W_'’-]*(?:['’-][^\W_]+)*|\d+(?:[.,]\d+)?")


@lru_cache(maxsize=16)
def _role_patterns(code: str) -> tuple[dict[str, re.Pattern[str]],
                                       list[tuple[re.Pattern[str], str]], re.Pattern[str]]:
    lang = pack(code)
    return lang.cues(), lang.section_roles(), re.compile(lang["future"], re.I)


def role_scores(sentence: str, section: str, first: bool, in_abstract: bool,
                lang: Lang | None = None) -> dict[str, float]:
    """A score per role from cues (of the sentence's language), numbers, heading and position."""
    cues, section_roles, future = _role_patterns((lang or pack()).code)
    scores = {r: 0.0 for r in ROLES}
    for role, pattern in cues.items():
        scores[role] += min(2, len(pattern.findall(sentence))) * 0.5
    digits = len(_NUMBER.findall(sentence))
    if digits:
        scores["result"] += 0.6 + min(0.6, digits * 0.1)
    for pattern, role in section_roles:
        if pattern.search(section):
            scores[role] += 0.7
            break
    if in_abstract and first:
        scores["problem"] += 0.5
    if future.search(sentence):
        scores["limitation"] += 1.0
    scores["background"] = 0.4
    return scores


def role_of(sentence: str, section: str, first: bool = False, in_abstract: bool = False,
            lang: Lang | None = None) -> str:
    scores = role_scores(sentence, section, first, in_abstract, lang)
    return max(ROLES, key=lambda r: (scores[r], -ROLES.index(r)))


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def document_frequency(texts: Iterable[str]) -> Counter[str]:
    """In how many of the texts each lowercased word occurs."""
    df: Counter[str] = Counter()
    for t in texts:
        df.update({w.lower() for w in tokens(t)})
    return df


def _phrases(sentence: str, lang: Lang) -> list[list[str]]:
    """Runs of 1-4 content words (no stop word, verb-like ending or number inside)."""
    stop, skip = lang.phrase_stop_words, tuple(lang["phrase_skip_suffixes"])
    runs: list[list[str]] = []
    cur: list[str] = []
    for raw in re.split(r"[\s]+", sentence):
        w = raw.strip(",.;:!?()\u201c\u201d\"'")
        breaks = raw.endswith((",", ";", ":", ".", ")")) or raw.startswith("(")
        low = w.lower()
        plain = bool(w) and low not in stop and not any(c.isdigit() for c in w) and len(w) > 2
        if plain and not (low.endswith(skip) and not w[:1].isupper()):
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
                k: int = 3, lang: Lang | None = None) -> list[str]:
    """The sentence's most specific phrases, best first (rare in the source, in the title, an
    acronym or a name)."""
    title_words = {w.lower() for w in tokens(title)}
    scored: list[tuple[float, str]] = []
    for run in _phrases(sentence, lang or pack()):
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


def question_options(role: str, has_number: bool, phrases: list[str],
                     lang: Lang | None = None) -> list[str]:
    """Questions (the language's templates) that lead into an answer of this role about these
    phrases."""
    key = "number" if role == "result" and has_number else role
    templates = (lang or pack())["question_templates"][key]
    return [template.format(x=phrase) for phrase in phrases for template in templates]


def framing_texts(lang: Lang | None = None) -> list[str]:
    """The words the question templates add (they assert nothing about the sources)."""
    lang = lang or pack()
    return [t.replace("{x}", "") for ts in lang["question_templates"].values() for t in ts] + \
           [t.replace("{x}", "") for t in lang["follow_ups"]]
