"""Speech to text with the bundled offline Whisper model."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.metrics import wer
from storage.errors import BadInput, ConfigError
from storage.settings import load_settings
from tools.transcribe import transcribe


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
    with pytest.raises(BadInput, match="English-only"):
        transcribe(clip, settings=load_settings(home=tmp_path), language="fr")
