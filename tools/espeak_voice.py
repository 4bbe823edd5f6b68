"""espeak-ng voices (Debian package `espeak-ng`, GPL-3.0): formant synthesis, offline.

Used where no natural offline voice speaks the language (German: Kokoro v1.0 has none): the
result says the voice is synthetic-robotic, and a configured ElevenLabs key takes over
(`tools.tts`). Each language of tools/lang gets a male and a female variant ("espeak:de",
"espeak:de+f3"), so two hosts stay distinct. The `espeak-ng` program is run per line; it is
installed by scripts/system_libs.sh (make install).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import wave
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from storage.errors import BadInput, ConfigError
from tools.chunking import split_text

SAMPLE_RATE = 22050
WPM = 150  # espeak's default (175) is hurried for narration
MAX_CHARS = 2000
LICENCE = "GPL-3.0-or-later (espeak-ng)"
INSTALL_MSG = ("install espeak-ng (apt-get install espeak-ng; make install does it) or set "
               "LIBRARIAN_ELEVENLABS_API_KEY for a natural cloud voice")
NOTE = ("{voice}: espeak-ng's synthetic (robotic-sounding) voice: no natural offline "
        "voice speaks this language here; set LIBRARIAN_ELEVENLABS_API_KEY for a natural one")
LANGS = ["de", "en", "es", "fr", "it", "pt"]  # the languages of tools/lang
VARIANTS = [("", "male"), ("+f3", "female")]


@dataclass(frozen=True)
class EspeakVoice:
    id: str  # "espeak:de+f3"
    name: str
    lang: str


def program() -> str | None:
    return shutil.which("espeak-ng")


def voices() -> list[EspeakVoice]:
    """Every espeak-ng voice offered (none when the program is missing)."""
    if program() is None:
        return []
    return [EspeakVoice(f"espeak:{lang}{suffix}", f"{lang} {label} (espeak-ng)", lang)
            for lang in LANGS for suffix, label in VARIANTS]


@lru_cache(maxsize=1)
def version() -> str:
    exe = program()
    if exe is None:
        return "missing"
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False)
    return out.stdout.strip().split(" ")[3] if len(out.stdout.split(" ")) > 3 else "unknown"


def synth(text: str, voice: str) -> np.ndarray:
    """float32 samples at 22.05 kHz of `text` spoken by espeak-ng voice `voice` ("de+f3")."""
    exe = program()
    if exe is None:
        raise ConfigError("espeak-ng is not installed: " + INSTALL_MSG)
    parts: list[np.ndarray] = []
    for chunk in split_text(text, MAX_CHARS):
        proc = subprocess.run([exe, "-v", voice, "-s", str(WPM), "--stdout", chunk],
                              capture_output=True, check=False, timeout=120)
        if proc.returncode != 0 or not proc.stdout:
            raise BadInput(f"espeak-ng cannot speak {chunk[:60]!r} with voice {voice!r}: "
                           f"{proc.stderr.decode(errors='replace')[:200]}")
        with wave.open(io.BytesIO(proc.stdout)) as w:
            rate, frames = w.getframerate(), w.readframes(w.getnframes())
        if rate != SAMPLE_RATE:
            raise BadInput(f"espeak-ng wrote {rate} Hz audio, expected {SAMPLE_RATE}")
        parts.append(np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0)
    if not parts:
        raise BadInput("text has nothing to say")
    return np.concatenate(parts)
