"""The offline request parser: a chat message (+ attachments, + thread context) -> Request.

Deterministic and dependency-free: typos are fixed against a small vocabulary by edit distance,
numbers may be digits or words, units vary ("5 min", "five minutes", "~300 seconds", "90s",
"half an hour"), and "these"/"them"/"it"/"again" refer to the attachments or the thread's
last request. It understands what the library can do; anything else becomes `help`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from agents.script import BRIEF_MAX_MINUTES

Action = Literal["make", "ask", "status", "list", "help"]
FORMATS = ["podcast", "video", "report", "ebook", "flashcards", "quiz", "newsletter", "slides"]
DOCUMENTS = {"report", "ebook", "flashcards", "quiz", "newsletter", "slides"}  # written exports
RUNNABLE = {"podcast", "video"} | DOCUMENTS
LANGUAGES = {"english": "en", "french": "fr", "german": "de", "spanish": "es", "italian": "it",
             "portuguese": "pt", "dutch": "nl", "japanese": "ja", "chinese": "zh"}

NUMBERS = {"zero": 0, "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5,
           "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
           "fifteen": 15, "twenty": 20, "thirty": 30, "forty": 40, "forty-five": 45,
           "fifty": 50, "sixty": 60, "ninety": 90, "couple": 2, "single": 1, "half": 0.5,
           "a couple of": 2, "a few": 3}
NUM = r"(\d+(?:\.\d+)?|" + "|".join(sorted((k for k in NUMBERS if " " not in k),
                                           key=len, reverse=True)) + r")"

# words the typo fixer may produce, and where they lead
VOCAB = ["podcast", "podcasts", "video", "videos", "report", "ebook", "flashcards", "newsletter",
         "quiz", "slides", "presentation",
         "minutes", "minute", "seconds", "second", "hours", "hour", "hosts", "host", "speakers",
         "speaker", "voices", "narrator", "interview", "lecture", "conversational",
         "conversation", "monologue", "please", "make", "create", "generate", "produce", "papers",
         "paper", "these", "again", "library", "status", "commercial", "focus", "about",
         "episode", "three", "short", "summary", "dialogue", "french", "german", "spanish",
         "landscape", "vertical", "portrait", "sources", "articles", "progress", "thanks"]
# real words that must never be "fixed" into a vocabulary word
KEEP = {"most", "post", "cost", "lost", "ghost", "sort", "part", "port", "these", "those",
        "there", "their", "then", "than", "make", "made", "take", "mode", "more", "mine",
        "minus", "sure", "shot", "shirt", "sport", "reports", "record", "second", "hour",
        "your", "four", "pages", "page", "video", "them", "they", "thee", "here", "where",
        "were", "what", "that", "paper", "papers", "speaker", "voice", "voices", "hosted",
        "posts", "hours", "ours", "our", "about", "above", "podcast", "free", "three", "tree",
        "theses", "short", "shorts", "statue", "static", "states", "state", "focus", "locus",
        "again", "gain", "agains", "also", "ask", "asks", "task", "talk", "walk", "with",
        "within", "without", "minute", "minutes", "seconds", "lecture", "lectures", "host",
        "hosts", "news", "book", "books", "cards", "card", "summary", "summaries", "from",
        "form", "forms", "into", "onto", "show", "shows", "slow", "list", "last"}

FORMAT_WORDS = {"podcast": "podcast", "podcasts": "podcast", "pod": "podcast",
                "episode": "podcast", "audio": "podcast", "video": "video", "videos": "video",
                "clip": "video", "reel": "video", "reels": "video", "tiktok": "video",
                "short": "video", "shorts": "video", "report": "report", "ebook": "ebook",
                "e-book": "ebook", "book": "ebook", "flashcards": "flashcards",
                "flashcard": "flashcards", "cards": "flashcards", "newsletter": "newsletter",
                "reports": "report", "briefing": "report", "ebooks": "ebook", "quiz": "quiz",
                "quizzes": "quiz", "newsletters": "newsletter", "digest": "newsletter",
                "slides": "slides", "deck": "slides", "presentation": "slides",
                "powerpoint": "slides", "pptx": "slides", "epub": "ebook", "anki": "flashcards"}
DOC_COUNTS = {"cards": "cards", "flashcards": "cards", "questions": "questions",
              "slides": "slides", "items": "items", "words": "words", "chapters": "chapters",
              "sections": "sections", "stories": "items"}
MAKE_VERBS = {"make", "create", "generate", "produce", "turn", "convert", "build", "record",
              "do", "render", "prepare", "give", "want", "need", "redo", "remake", "again",
              "write", "put", "whip", "cook", "craft", "compose", "like"}
CONTEXT_REFS = {"these", "them", "it", "those", "this", "that", "again", "same", "attached",
                "attachments", "above", "they", "both"}
STOP_REF = {"the", "a", "an", "my", "our", "these", "those", "this", "that", "paper", "papers",
            "article", "articles", "pdf", "pdfs", "document", "documents", "source", "sources",
            "one", "ones", "file", "files", "study", "work", "please", "pls", "plz", "thanks",
            "thank", "you", "now", "all", "both", "attached", "here", "kindly", "also", "just",
            "same", "two", "three", "few", "some", "following"}
NOT_A_REF = re.compile(r"\b\d+(?:\.\d+)?\b|~|\b(?:minutes?|mins?|seconds?|hours?|hosts?|"
                       r"speakers?|voices?|elevenlabs|kokoro|piper|style|long|length|"
                       r"commercial|use)\b")
QUESTION_START = ("what", "how", "why", "who", "which", "when", "where", "does", "do", "is",
                  "are", "can", "could", "did", "explain", "summarize", "summarise", "tell me",
                  "according", "define", "describe", "was", "were", "should", "find")


@dataclass
class Request:
    """What the user wants, before sources are resolved against the library."""

    action: Action = "help"
    format: str | None = None
    sources: list[str] = field(default_factory=list)  # attachments, URLs, library ids: exact
    refs: list[str] = field(default_factory=list)  # names / authors / topics to resolve
    from_context: bool = False  # "these"/"it"/"again": the thread's attachments or last sources
    params: dict[str, Any] = field(default_factory=dict)
    question: str | None = None
    job_id: str | None = None
    text: str = ""
    by: str = "parser"  # who understood it: "parser" or "llm"

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "format": self.format, "sources": list(self.sources),
                "refs": list(self.refs), "from_context": self.from_context,
                "params": dict(self.params), "question": self.question, "job_id": self.job_id,
                "by": self.by}

    @property
    def runnable(self) -> bool:
        return self.format in RUNNABLE


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Damerau-Levenshtein (optimal string alignment) distance, capped at `limit`."""
    if abs(len(a) - len(b)) >= limit:
        return limit
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return min(prev[-1], limit)


def fix_word(word: str) -> str:
    """The vocabulary word a typo stands for ("podcst" -> "podcast"), else the word itself."""
    if len(word) < 4 or word in KEEP or word in VOCAB or not word.isalpha():
        return word
    allowed = 1 if len(word) < 7 else 2
    best, best_d = word, allowed + 1
    for v in VOCAB:
        d = edit_distance(word, v, allowed + 1)
        if d < best_d:
            best, best_d = v, d
    return best


def normalise(text: str) -> str:
    """Lower case, tidy spacing, typos fixed word by word (URLs and ids left alone)."""
    out = []
    for token in re.split(r"(\s+)", text.strip()):
        if not token or token.isspace() or "://" in token or ":" in token.strip(":"):
            out.append(token)
            continue
        m = re.fullmatch(r"([\"'(\[]*)(.*?)([.,!?;:\"')\]]*)", token)
        assert m is not None
        lead, core, trail = m.groups()
        lower = core.lower()
        fixed = "-".join(fix_word(p) for p in lower.split("-"))
        out.append(lead + fixed + trail)
    return "".join(out)


def number(word: str) -> float | None:
    word = word.strip().lower()
    if re.fullmatch(r"\d+(?:\.\d+)?", word):
        return float(word)
    return float(NUMBERS[word]) if word in NUMBERS else None


def parse_minutes(text: str) -> float | None:
    """Length in minutes from '5 min', 'five minutes', '~300 seconds', '90s', 'half an hour'."""
    t = text.replace("~", " ").replace("\u2011", "-")
    if re.search(r"\bhalf(?: an| a)? hour\b|\b30-minute\b", t):
        return 30.0
    if re.search(r"\b(?:a )?quarter(?: of)?(?: an)? hour\b", t):
        return 15.0
    if re.search(r"\b(?:an|one|1)[ -]hour\b", t):
        return 60.0
    m = re.search(NUM + r"(?: and a half|\.5)?[ -]?(?:minutes?|mins?|m)\b(?! and)", t)
    m_half = re.search(NUM + r"[ -]and[ -]a[ -]half[ -]minutes?", t)
    if m_half and (n := number(m_half.group(1))) is not None:
        return n + 0.5
    if re.search(r"\ba minute and a half\b", t):
        return 1.5
    m_sec = re.search(NUM + r"[ -]?(?:seconds?|secs?|s)\b", t)
    if m_sec and (n := number(m_sec.group(1))) is not None and n >= 10:
        return round(n / 60.0, 3)
    if m and (n := number(m.group(1))) is not None:
        if m.group(0).startswith(m.group(1)) and "and a half" in m.group(0):
            n += 0.5
        return n
    m_hours = re.search(NUM + r"[ -]?(?:hours?|hrs?|h)\b", t)
    if m_hours and (n := number(m_hours.group(1))) is not None:
        return n * 60
    return None


def parse_hosts(text: str) -> int | None:
    if re.search(r"\b(?:solo|monologue|single[ -](?:host|speaker|narrator|voice)|"
                 r"one[ -](?:host|speaker|person)|1[ -](?:host|speaker)|just one (?:host|voice)|"
                 r"by myself|one narrator|a narrator)\b", text):
        return 1
    m = re.search(NUM + r"[ -](?:hosts?|speakers?|people|persons?|presenters?|narrators?|"
                  r"voices|person|participants)\b", text)
    if m and (n := number(m.group(1))) is not None and n == int(n) and m.group(1) not in {
            "a", "an", "half"}:
        return int(n)
    if re.search(r"\b(?:duo|two-person|between two|pair of hosts|dialogue)\b", text):
        return 2
    return None


def parse_style(text: str) -> str | None:
    if re.search(r"\binterview", text):
        return "interview"
    if re.search(r"\b(?:lecture|monologue|talk by one|lesson)\b", text):
        return "lecture"
    if re.search(r"\b(?:conversational|conversation|casual|chatty|discussion|dialogue)\b", text):
        return "conversational"
    return None


def parse_episode_format(text: str) -> str | None:
    """NotebookLM-like formats: "a debate", "a critique", "a brief" (not a "briefing")."""
    if re.search(r"\b(?:debate|argue|for and against|pros and cons)\b", text):
        return "debate"
    if re.search(r"\b(?:critique|critical review|strengths and weaknesses|critically)\b", text):
        return "critique"
    if re.search(r"\b(?:brief|quick overview|in a nutshell|tl;?dr)\b", text):
        return "brief"
    if re.search(r"\bdeep[- ]?dive\b", text):
        return "deep-dive"
    return None


def wants_review(text: str) -> bool:
    """"let me review/edit/check the script first", "review before audio"."""
    return bool(re.search(r"\b(?:review|edit|check|approve|see|read)\b[\w\s]{0,20}\bscript\b"
                          r"|\bbefore (?:any )?(?:audio|narrat\w*|recording)\b", text))


def parse_voices(raw: str) -> list[str]:
    return list(dict.fromkeys(m.group(0) for m in re.finditer(
        r"\b(?:kokoro|piper|elevenlabs|openai):[A-Za-z0-9_\-]+", raw)))


def parse_topic(text: str) -> str | None:
    m = re.search(r"\b(?:focus(?:ing|ed)? on|focussing on|concentrat\w* on|about|"
                  r"on the topic of|covering|centred on|centered on)\s+(.+?)"
                  r"(?=\s+(?:with|using|in \d|for|from|as|and make|please|thanks|in (?:"
                  + "|".join(LANGUAGES) + r"))\b|[.,;!?]|$)", text)
    if not m:
        return None
    topic = m.group(1).strip()
    if re.match(r"[\d~]|(?:" + "|".join(k for k in NUMBERS if " " not in k) + r")\b", topic):
        return None  # "about 10 minutes": an approximation, not a topic
    topic = re.sub(r"^(?:the|a|an)\s+", "", topic)
    if not topic or topic in CONTEXT_REFS or re.fullmatch(
            r"(?:(?:the|these|those|this|that|my)\s+)?(?:papers?|articles?|sources?)", topic):
        return None
    return topic


def about_source(topic: str) -> str | None:
    """'the LongEval paper' named with 'about' is a source, not a topic."""
    m = re.fullmatch(r"(?:the\s+)?(.+?)\s+(?:paper|papers|article|pdf|study)", topic)
    return m.group(1) if m else None


def split_refs(chunk: str) -> list[str]:
    parts = re.split(r"\s*(?:,|\band\b|&|\bplus\b)\s*", chunk)
    out = []
    for part in parts:
        words = [w for w in part.strip(" .!?'\"").split() if w]
        while words and words[0] in STOP_REF:
            words.pop(0)
        while words and words[-1] in STOP_REF:
            words.pop()
        ref = " ".join(words)
        if ref and ref not in CONTEXT_REFS and not NOT_A_REF.search(ref):
            out.append(ref)
    return out


PARAM_BOUNDARY = (r"(?=\s+(?:with|using|in\s+(?:\d|" + "|".join(LANGUAGES) + r")|for|as|"
                  r"into|that|which|focus\w*|about|please|thanks|thank|lasting|of\s+\d|"
                  r"make it|and make|in\s+(?:a|an)\s+\w+\s+style|in\s+interview|"
                  r"interview|lecture)\b|[.,;!?](?:\s|$)|$)")


def parse_refs(text: str) -> list[str]:
    """Names of sources in the text: 'from the S2ORC paper', 'turn LongEval into', 'by Lo'."""
    refs: list[str] = []
    m = re.search(r"\b(?:turn|convert|transform|make)\s+(?!a\b|an\b|me\b|it\b|them\b|these\b|"
                  r"this\b|that\b|those\b|one\b|another\b|the same\b)(.+?)\s+into\b", text)
    if m:
        refs += split_refs(m.group(1))
    for m in re.finditer(r"\b(?:from|of|based on|using|out of|summari[sz]ing|on)\s+(.+?)"
                         + PARAM_BOUNDARY, text):
        chunk = m.group(1)
        if re.match(r"(?:\d|a |an |my library|the library|this|these|those|them|it\b|"
                    + "|".join(f"{w}\\b" for w in NUMBERS if " " not in w) + ")", chunk):
            continue
        if re.fullmatch(r"(?:the\s+)?(?:same\s+)?(?:papers?|sources?|articles?)", chunk):
            continue
        refs += split_refs(chunk)
    m = re.search(r"\bby\s+(?!\d)([a-z][\w\-']+(?:\s+(?:and|&)\s+[a-z][\w\-']+)?)"
                  + PARAM_BOUNDARY, text)
    if m and m.group(1) not in CONTEXT_REFS:
        refs += [f"by {r}" for r in split_refs(m.group(1))]
    return list(dict.fromkeys(refs))


def find_urls(raw: str) -> list[str]:
    return [u.rstrip(".,;!?)") for u in re.findall(r"https?://\S+", raw)]


def find_format(words: list[str], text: str) -> str | None:
    if re.search(r"\bflash ?cards?\b", text):
        return "flashcards"
    if re.search(r"\be-?books?\b", text):
        return "ebook"
    if re.search(r"\b(?:study guide|literature review|lit review|briefing doc\w*)\b", text):
        return "report"
    if re.search(r"\bslide ?decks?\b", text):
        return "slides"
    found = [FORMAT_WORDS[w] for w in words if w in FORMAT_WORDS]
    if "short" in found and len(set(found)) > 1:  # "a short podcast": short is an adjective
        found = [f for f, w in zip(found, [w for w in words if w in FORMAT_WORDS], strict=True)
                 if w != "short"]
    return found[0] if found else None


def document_params(text: str) -> dict[str, Any]:
    """Counts ("20 flashcards", "ten questions", "12 slides") and report styles."""
    out: dict[str, Any] = {}
    for m in re.finditer(NUM + r"[ -](?:\w+[ -])?(" + "|".join(DOC_COUNTS) + r")\b", text):
        n = number(m.group(1))
        if n is not None and n == int(n) and m.group(1) not in {"a", "an", "half"}:
            out[DOC_COUNTS[m.group(2)]] = int(n)
    if re.search(r"\bstudy guide\b", text):
        out["style"] = "study-guide"
    elif re.search(r"\b(?:literature|lit) review\b", text):
        out["style"] = "literature-review"
    elif re.search(r"\bbriefing\b", text):
        out["style"] = "briefing"
    return out


def parse(message: str, attachments: list[str] | None = None) -> Request:
    """One message -> Request (the thread context is applied by `merge`)."""
    raw = message.strip()
    text = normalise(raw)
    words = re.findall(r"[a-z0-9][a-z0-9\-]*", text)
    wordset = set(words)
    req = Request(text=raw)
    urls = find_urls(raw)
    req.sources = list(attachments or []) + urls
    stripped = text
    for u in urls:
        stripped = stripped.replace(u.lower(), " ")
    fmt = find_format(words, stripped)
    if not _action(req, text, wordset, fmt):
        return req
    req.format = fmt
    _make_params(req, fmt, stripped, raw)
    topic = parse_topic(stripped)
    refs = parse_refs(stripped)
    if topic:
        named = about_source(topic)
        if named:
            refs += [r for r in split_refs(named) if r not in refs]
        else:
            req.params["topic"] = topic
            refs = [r for r in refs if r not in topic and topic not in r]
    req.refs = refs
    req.from_context = bool(wordset & CONTEXT_REFS) and not req.refs and not urls
    return req


def _action(req: Request, text: str, wordset: set[str], fmt: str | None) -> bool:
    """Set the request's action (help, status, list, ask or make); True when it is "make",
    whose parameters are read next."""
    if re.fullmatch(r"(?:help|\?|what can you do\??|how does this work\??|commands|hi|hello)"
                    r"[.!]*", text):
        return False
    job = re.search(r"\b(?:job|status of)\s+([0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12})", text)
    if re.search(r"\b(?:status|progress|is it (?:done|ready|finished)|how(?:'s| is) (?:it|my|the)"
                 r" \w+ (?:going|coming)|still running|how far)\b", text) and not re.search(
            r"\bwhat does\b", text):
        req.action = "status"
        req.job_id = job.group(1) if job else None
        return False
    if re.search(r"\b(?:list|show)\s+(?:me\s+)?(?:my|the|all)?\s*(?:sources|papers|library|"
                 r"documents|articles|content)\b|\bwhat(?:'s| is) in (?:my|the) library\b|"
                 r"\bwhat (?:papers|sources|documents) do i have\b", text):
        req.action = "list"
        return False

    make_verb = bool(wordset & MAKE_VERBS) or bool(re.search(r"\b(?:can|could|would) (?:you|i)"
                                                            r" (?:get|have)\b", text))
    is_question = text.rstrip().endswith("?") or text.startswith(QUESTION_START)
    again = bool(wordset & {"again", "another", "redo", "remake"}) and not text.endswith("?")
    if fmt and (make_verb or not is_question or req.sources) or again:
        req.action = "make"
    elif is_question or re.search(r"\b(?:say|says|said|mean|means)\b", text):
        req.action = "ask"
        req.question = req.text
        return False
    elif fmt is None and (req.sources or make_verb):
        req.action = "make"  # "import these"/"do it again" without a format: keep the last one
        if re.search(r"\b(?:import|add|upload|ingest)\b", text):
            req.params["import_only"] = True
    else:
        return False
    return True


def _make_params(req: Request, fmt: str | None, stripped: str, raw: str) -> None:
    """The parameters a "make" request states: counts and styles of written kinds, video
    shape, minutes, hosts, style, episode format, review, voices, language, commercial use."""
    if fmt in DOCUMENTS:
        req.params.update(document_params(stripped))
    if fmt == "video":
        req.params.update(video_shape(stripped))
    minutes = parse_minutes(stripped)
    if minutes is not None:
        req.params["minutes"] = minutes
    hosts = parse_hosts(stripped)
    if hosts is not None:
        req.params["hosts"] = hosts
    style = parse_style(stripped)
    if style is not None:
        req.params["style"] = style
    if fmt in ("podcast", "video"):
        _narrated_params(req, fmt, stripped, minutes)
    voices = parse_voices(raw)
    if voices:
        req.params["voices"] = voices
    elif re.search(r"\belevenlabs\b", stripped):
        req.params["voice_provider"] = "elevenlabs"
    for name, code in LANGUAGES.items():
        if re.search(rf"\bin {name}\b", stripped):
            req.params["language"] = code
    if re.search(r"\bcommercial(?:ly)?\b", stripped) and not re.search(
            r"\bnon-?commercial\b", stripped):
        req.params["commercial"] = True


def _narrated_params(req: Request, fmt: str, stripped: str, minutes: float | None) -> None:
    """A podcast's episode format ("a debate", "a brief"), and review before audio."""
    shape = parse_episode_format(stripped) if fmt == "podcast" else None
    if shape is not None and not (shape == "brief" and (minutes or 0) > BRIEF_MAX_MINUTES):
        req.params["episode_format"] = shape  # "a brief 10-minute podcast" means short
    if wants_review(stripped):
        req.params["review"] = True


def video_shape(text: str) -> dict[str, Any]:
    """Aspect ("vertical", "a short", "16:9") and whether a short is meant."""
    out: dict[str, Any] = {}
    if re.search(r"\b(?:short|shorts|reel|reels|tiktok|vertical|portrait|9:16)\b", text):
        out["aspect"] = "9:16"
    if re.search(r"\b(?:shorts?|reels?|tiktok)\b", text):
        out["short"] = True
    if re.search(r"\b(?:landscape|widescreen|16:9|horizontal)\b", text):
        out["aspect"] = "16:9"
    return out


@dataclass
class Context:
    """What earlier turns of the thread established."""

    format: str | None = None
    sources: list[str] = field(default_factory=list)  # resolved: library ids (or names in evals)
    params: dict[str, Any] = field(default_factory=dict)
    attachments: list[str] = field(default_factory=list)
    job_id: str | None = None

    @classmethod
    def of(cls, data: dict[str, Any] | None) -> Context:
        data = data or {}
        return cls(format=data.get("format"), sources=list(data.get("sources") or []),
                   params=dict(data.get("params") or {}),
                   attachments=list(data.get("attachments") or []), job_id=data.get("job_id"))


def merge(req: Request, ctx: Context) -> Request:
    """Fill what the message leaves out from the thread: format, sources, and for "again" the
    parameters of the last request (changed ones override)."""
    if req.action == "status" and req.job_id is None:
        req.job_id = ctx.job_id
    if req.action != "make":
        return req
    again = bool(re.search(r"\b(?:again|same|another|redo|remake|one more)\b",
                           normalise(req.text)))
    if req.format is None:
        req.format = ctx.format or "podcast"
    if not req.sources and not req.refs:
        req.sources = list(ctx.attachments) if ctx.attachments and not ctx.sources else []
        if not req.sources and ctx.sources:
            req.sources = list(ctx.sources)
            req.from_context = True
    if again:
        req.params = {**{k: v for k, v in ctx.params.items() if k != "topic" or
                         "topic" not in req.params}, **req.params}
    return req


def understand(message: str, attachments: list[str] | None = None,
               context: dict[str, Any] | None = None) -> Request:
    """Parse a message and apply the thread context."""
    return merge(parse(message, attachments), Context.of(context))
