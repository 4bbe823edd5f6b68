"""Kokoro-82M (v1.0, int8 ONNX) voices through `kokoro-onnx`, fully offline.

The model and the voice style vectors are installed by `scripts/models.py kokoro` (run by
`make install`) into `settings.models_dir / "kokoro"`; nothing is ever fetched at run time. One
model session serves every voice of the process (both hosts share it), loaded on first use.
espeak-ng phonemes come through `phonemizer` + `espeakng-loader` (GPL-3), so the Python packages
are the optional `kokoro` extra, like Piper's `tts` extra.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from storage.errors import BadInput, ConfigError
from tools.chunking import split_text

MODEL_FILE = "kokoro-v1.0.int8.onnx"
VOICES_FILE = "voices-v1.0.npz"
SAMPLE_RATE = 24000
LICENCE = "Apache-2.0 (Kokoro-82M weights and voices, hexgrad); MIT (kokoro-onnx export)"
INSTALL_MSG = ("Kokoro voices need the 'kokoro' extra and its model: pip install "
               "'librarian[kokoro]' && python scripts/models.py kokoro (make install does both)")
SENTENCE_PAUSE_S = 0.2
# Kokoro's batch limit is 510 phonemes; ~300 characters of text stay well under it.
MAX_CHARS = 300


@dataclass(frozen=True)
class KokoroVoice:
    """One Kokoro voice style: its name, espeak language and a short description."""

    name: str
    lang: str
    label: str


# Most distinct English pair first (af_heart + am_michael, measured in issue 15), then further
# English speakers alternating gender, then the other languages' voices (issue 18).
VOICES: list[KokoroVoice] = [
    KokoroVoice("af_heart", "en-us", "female, US"),
    KokoroVoice("am_michael", "en-us", "male, US"),
    KokoroVoice("bf_emma", "en-gb", "female, UK"),
    KokoroVoice("bm_george", "en-gb", "male, UK"),
    KokoroVoice("af_bella", "en-us", "female, US"),
    KokoroVoice("am_fenrir", "en-us", "male, US"),
    KokoroVoice("ef_dora", "es", "female, Spanish"),
    KokoroVoice("em_alex", "es", "male, Spanish"),
    KokoroVoice("pf_dora", "pt-br", "female, Brazilian Portuguese"),
    KokoroVoice("pm_alex", "pt-br", "male, Brazilian Portuguese"),
    KokoroVoice("ff_siwis", "fr-fr", "female, French"),
    KokoroVoice("if_sara", "it", "female, Italian"),
    KokoroVoice("im_nicola", "it", "male, Italian"),
]

_SESSION: dict[Path, Any] = {}
_LOCK = threading.Lock()


def model_files(models_dir: Path) -> tuple[Path, Path]:
    kdir = models_dir / "kokoro"
    return kdir / MODEL_FILE, kdir / VOICES_FILE


def available(models_dir: Path) -> bool:
    """True when the Python packages and the installed model files are all present."""
    model, voices = model_files(models_dir)
    return (model.is_file() and voices.is_file()
            and importlib.util.find_spec("kokoro_onnx") is not None)


def engine(models_dir: Path) -> Any:
    """The process-wide `kokoro_onnx.Kokoro` (one ONNX session for every voice)."""
    model, voices = model_files(models_dir)
    with _LOCK:
        if model not in _SESSION:
            if not available(models_dir):
                raise ConfigError(INSTALL_MSG)
            from kokoro_onnx import Kokoro

            _SESSION[model] = Kokoro(str(model), str(voices))
        return _SESSION[model]


def synth(text: str, name: str, lang: str, models_dir: Path, speed: float = 1.0) -> np.ndarray:
    """float32 samples at 24 kHz of `text` spoken by voice `name` in espeak language `lang`."""
    kokoro = engine(models_dir)
    if name not in kokoro.voices:
        raise ConfigError(f"Kokoro voice {name!r} is not in the installed voices file; "
                          "re-run python scripts/models.py kokoro")
    gap = np.zeros(int(SENTENCE_PAUSE_S * SAMPLE_RATE), dtype=np.float32)
    parts: list[np.ndarray] = []
    for chunk in split_text(text, MAX_CHARS):
        try:
            audio, _ = kokoro.create(chunk, voice=name, speed=speed, lang=lang)
        except ValueError as exc:  # nothing phonemisable in the chunk
            raise BadInput(f"Kokoro cannot speak {chunk[:60]!r}: {exc}") from None
        if parts:
            parts.append(gap)
        parts.append(np.asarray(audio, dtype=np.float32))
    if not parts:
        raise BadInput("text has nothing to say")
    out = np.concatenate(parts)
    peak = float(np.max(np.abs(out))) if len(out) else 0.0
    return out / peak * 0.95 if peak > 1.0 else out
