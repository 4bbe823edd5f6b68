"""A source's language from its text, offline: py3langid (97 languages, model in the package).

Only running text counts (paragraphs, list items, transcripts: not references, captions or
headings, which are often in English in papers written in other languages), sampled across
the document. A declared language (HTML `lang`, PDF metadata) is kept when there is too little
text to judge or the detector is unsure; the text decides otherwise.
"""

from __future__ import annotations

import math
import threading
from functools import lru_cache
from typing import Any

from tools.hygiene import junk_reason

TEXT_KINDS = {"paragraph", "list", "quote", "transcript"}
MIN_CHARS = 100  # letters; below this the text is too short to judge (keep what is declared)
SAMPLE_CHARS = 20_000
MIN_CONFIDENCE = 0.9
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str) -> tuple[str, float] | None:
    """(ISO 639-1 code, probability) of a text, or None when it is too short to judge."""
    if sum(ch.isalpha() for ch in text) < MIN_CHARS:
        return None
    with _lock:  # the identifier is not documented as thread-safe; loading takes seconds
        lang, prob = _identifier().classify(text)
    return str(lang), float(prob)


def sample(blocks: list[Any]) -> str:
    """Running text of the document: every k-th paragraph, about SAMPLE_CHARS in all, so the
    body outweighs a front matter that may be in another language."""
    texts = [b.text for b in blocks if b.kind in TEXT_KINDS and b.text.strip()
             and junk_reason(b.text, b.kind) is None]
    step = max(1, math.ceil(sum(len(t) for t in texts) / SAMPLE_CHARS))
    return "\n".join(texts[::step])[:2 * SAMPLE_CHARS]


def apply_language(doc: Any) -> None:
    """Set `doc.language` from its running text (kept as declared when unsure)."""
    got = detect(sample(doc.blocks))
    if got is None:
        return
    lang, prob = got
    if prob >= MIN_CONFIDENCE or not doc.language:
        doc.language = lang
