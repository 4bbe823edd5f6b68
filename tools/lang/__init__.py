"""Per-language text data: one YAML file per language (en, es, pt, fr, it, de) in this folder.

Each file holds what the offline writer, the grounding judge, sentence splitting and speech need
in that language: framing lines (intro, outro, questions, hand-offs, video titles, credits, the
AI disclosure), spoken forms of abbreviations and symbols, cue words of rhetorical roles,
boilerplate cues, abbreviations that do not end a sentence, stop words and the Snowball stemmer.
Stop words come from the file and, when it says `stop_words_package: true`, also from the
`stop-words` package (BSD-3); numbers are spelled by `num2words` (LGPL-2.1).

`pack(code)` gives the `Lang` of an ISO 639-1 code ("pt-BR" -> pt); a language without a file
is refused with a message naming the supported ones (narrating it would mix languages).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import yaml

from storage.errors import BadInput

FOLDER = Path(__file__).parent
DEFAULT = "en"


def base(code: str | None) -> str:
    """"pt-BR" -> "pt", "ES" -> "es", None -> ""."""
    return (code or "").strip().lower().replace("_", "-").split("-")[0]


def supported() -> list[str]:
    return sorted(p.stem for p in FOLDER.glob("*.yaml"))


def _alternatives(words: list[str] | str) -> str:
    """A regex alternation of a word list (or the alternation as written)."""
    return words if isinstance(words, str) else "|".join(words)


@dataclass(frozen=True)
class Lang:
    """One language's text data (the parsed YAML) with compiled patterns."""

    code: str
    data: dict[str, Any] = field(repr=False)

    def __getitem__(self, key: str) -> Any:
        return self.data[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)

    @property
    def name(self) -> str:
        """The language's English name ("Spanish"), as prompts name it."""
        return str(self.data["name"])

    @property
    def espeak(self) -> str:
        """espeak-ng language of its voices ("es", "pt-br", "fr-fr")."""
        return str(self.data["espeak"])

    def text(self, key: str, **values: Any) -> str:
        """A framing template filled in ("intro.welcome", x="...")."""
        node: Any = self.data["framing"]
        for part in key.split("."):
            node = node[part]
        return str(node).format(**values)

    def number(self, n: int) -> str:
        """A small count as a word ("dos", "three"): `numbers` of the file, else num2words."""
        words = self.data.get("numbers") or []
        if 0 <= n < len(words):
            return str(words[n])
        from num2words import num2words

        try:
            return str(num2words(n, lang=self.data.get("num2words", self.code)))
        except NotImplementedError:
            return str(n)

    def join(self, names: list[str]) -> str:
        """"A, B and C" in this language."""
        if not names:
            return ""
        conj = self.text("and")
        return ", ".join(names[:-1]) + (f" {conj} " if len(names) > 1 else "") + names[-1]

    @cached_property
    def stop_words(self) -> frozenset[str]:
        words = set(self.data.get("stop_words") or [])
        if self.data.get("stop_words_package"):
            from stop_words import get_stop_words

            words |= {w.lower() for w in get_stop_words(self.code)}
        return frozenset(words)

    @cached_property
    def phrase_stop_words(self) -> frozenset[str]:
        """Stop words plus the verbs and generic nouns a key phrase should not hold."""
        return self.stop_words | set(self.data.get("phrase_stop_words") or [])

    @cached_property
    def _stemmer(self) -> Any:
        import snowballstemmer

        return snowballstemmer.stemmer(self.data["stemmer"]) if self.data.get("stemmer") else None

    def stem(self, word: str) -> str:
        """The file's suffix list when it has one (English keeps its light stemmer), else
        Snowball in this language."""
        suffixes = self.data.get("stem_suffixes")
        if suffixes:
            for suffix in suffixes:
                if len(word) > len(suffix) + 3 and word.endswith(suffix):
                    return word[: -len(suffix)]
            return word
        return str(self._stemmer.stemWord(word)) if self._stemmer else word

    def rules(self, key: str) -> list[tuple[re.Pattern[str], str]]:
        return _rules(self.code, key)

    def pattern(self, key: str, flags: int = re.I) -> re.Pattern[str]:
        """A `\\b(?:a|b|c)\\b`-style pattern of a word list, or the file's regex as given."""
        return _pattern(self.code, key, flags)

    def cues(self) -> dict[str, re.Pattern[str]]:
        """Cue-word pattern per rhetorical role."""
        return {role: re.compile(r"\b(?:" + _alternatives(words) + r")\b", re.I)
                for role, words in self.data["role_cues"].items()}

    def section_roles(self) -> list[tuple[re.Pattern[str], str]]:
        return [(re.compile(_alternatives(words), re.I), role)
                for role, words in self.data["section_roles"].items()]


@lru_cache(maxsize=64)
def _rules(code: str, key: str) -> list[tuple[re.Pattern[str], str]]:
    out = []
    for rule in pack(code).data.get(key) or []:
        pattern, repl = rule
        flags = re.I if pattern.startswith("(?i)") else 0
        out.append((re.compile(pattern.removeprefix("(?i)"), flags), repl))
    return out


@lru_cache(maxsize=64)
def _pattern(code: str, key: str, flags: int) -> re.Pattern[str]:
    value = pack(code).data[key]
    if isinstance(value, list):
        return re.compile(r"\b(?:" + _alternatives(value) + r")\b", flags)
    return re.compile(str(value), flags)


@lru_cache(maxsize=16)
def _load(code: str) -> Lang:
    path = FOLDER / f"{code}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Lang(code=code, data=data)


def pack(code: str | None = None) -> Lang:
    """The text data of a language (English when None or empty)."""
    key = base(code) or DEFAULT
    if not (FOLDER / f"{key}.yaml").is_file():
        raise BadInput(f"narration in {code!r} is not supported; supported languages: "
                       + ", ".join(supported()))
    return _load(key)


def is_supported(code: str | None) -> bool:
    return (FOLDER / f"{base(code) or DEFAULT}.yaml").is_file()

