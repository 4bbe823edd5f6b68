"""Text to speech: Piper (real, offline), derived voices, cache, splitting, ElevenLabs (mocked)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import numpy as np
import pytest

from evals.metrics import median_f0, wer
from storage.errors import BadInput, ConfigError, Forbidden, Retryable
from storage.settings import load_settings
from tools import kokoro_voice, tts
from tools.audio import read_wav
from tools.transcribe import transcribe

SENTENCE = ("Welcome back to the show. Today we talk about how libraries keep old books safe for "
            "the next hundred years.")


def _voice(settings: Any, vid: str) -> tts.Voice:
    return next(v for v in tts.list_voices(settings) if v.id == vid)


def test_list_and_pick_voices(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    ids = [v.id for v in tts.list_voices(settings) if v.provider != "kokoro"]
    assert ids[:4] == ["piper:joe", "piper:joe-high", "piper:joe-low", "piper:joe-bright"]
    assert not any(i.startswith("elevenlabs:") for i in ids)
    assert [v.id for v in tts.pick_voices(3, None, settings)] == ids[:3]
    picked = tts.pick_voices(2, ["joe-high"], settings)
    assert [v.id for v in picked] == ["piper:joe-high", "piper:joe"]
    with pytest.raises(BadInput, match="available: .*piper:joe"):
        tts.pick_voices(1, ["nobody"], settings)
    with pytest.raises(BadInput):
        tts.pick_voices(5, None, settings)
    with pytest.raises(BadInput):
        tts.pick_voices(2, ["joe", "piper:joe"], settings)


def test_user_voice_is_listed_and_preferred(tmp_path: Path) -> None:
    voices = tmp_path / "voices"
    voices.mkdir()
    (voices / "en_GB-amy-medium.onnx").write_bytes(b"model")
    (voices / "en_GB-amy-medium.onnx.json").write_text(
        json.dumps({"audio": {"sample_rate": 16000}, "license": "CC-BY-4.0"}))
    (voices / "orphan.onnx").write_bytes(b"no config, not listed")
    settings = load_settings(home=tmp_path)
    amy = _voice(settings, "piper:en_GB-amy-medium")
    assert amy.sample_rate == 16000 and amy.licence == "CC-BY-4.0"
    assert "piper:orphan" not in [v.id for v in tts.list_voices(settings)]
    assert [v.id for v in tts.pick_voices(2, None, settings)] == ["piper:joe",
                                                                  "piper:en_GB-amy-medium"]


def test_synthesize_sentence(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    samples, rate = tts.synthesize("This is a short test sentence for the library.",
                                   _voice(settings, "piper:joe"), settings)
    assert rate == 22050 and samples.dtype == np.float32
    assert 1.5 < len(samples) / rate < 6.0
    assert 0.5 < float(np.abs(samples).max()) <= 1.0
    with pytest.raises(BadInput):
        tts.synthesize("   ", _voice(settings, "piper:joe"), settings)


def test_cache_hit_skips_synthesis(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(home=tmp_path)
    calls: list[str] = []

    def fake(text: str, voice: tts.Voice, settings: Any, **kw: Any) -> tuple[np.ndarray, int]:
        calls.append(text)
        return np.full(2205, 0.1, dtype=np.float32), 22050

    monkeypatch.setattr(tts, "synthesize", fake)
    joe, low = _voice(settings, "piper:joe"), _voice(settings, "piper:joe-low")
    first = tts.synthesize_to_file("Hello there.", joe, settings)
    again = tts.synthesize_to_file("Hello there.", joe, settings)
    other = tts.synthesize_to_file("Hello there.", low, settings)
    assert first == again != other and len(calls) == 2
    assert first.parent == settings.cache_dir / "tts" and first.stat().st_size > 4000
    assert not list(first.parent.glob(".tmp-*"))


def test_split_text_under_limit() -> None:
    sentence = "This sentence is about forty-seven characters. "
    text = sentence * 80
    chunks = tts.split_text(text, 1000)
    assert len(chunks) == 4 and all(len(c) <= 1000 for c in chunks)
    assert " ".join(chunks) == text.strip()
    long = "word " * 500  # no sentence punctuation at all
    chunks = tts.split_text(long, 300)
    assert all(len(c) <= 300 for c in chunks) and " ".join(chunks).split() == long.split()
    assert tts.split_text("x" * 250, 100) == ["x" * 100, "x" * 100, "x" * 50]


def test_long_text_is_synthesised_in_chunks(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(home=tmp_path)
    seen: list[int] = []

    class FakePiper:
        config = SimpleNamespace(length_scale=1.0)

        def synthesize(self, text: str, syn_config: Any = None) -> list[Any]:
            seen.append(len(text))
            return [SimpleNamespace(audio_float_array=np.full(100, 0.5, dtype=np.float32))]

    monkeypatch.setattr(tts, "_piper_voice", lambda model: FakePiper())
    samples, _ = tts.synthesize("A short sentence here. " * 150, _voice(settings, "piper:joe"),
                                settings)
    assert len(seen) == 4 and max(seen) <= tts.PIPER_MAX_CHARS
    assert len(samples) > 400


def test_derived_voices_distinct_and_intelligible(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path)
    f0: dict[str, float] = {}
    for vid in ("piper:joe-low", "piper:joe-high"):
        voice = _voice(settings, vid)
        path = tts.synthesize_to_file(SENTENCE, voice, settings)
        samples, rate = read_wav(path)
        f0[vid] = median_f0(samples, rate)
        text = transcribe(path, settings=settings).text
        assert wer(SENTENCE, text) <= 0.15, (vid, text)
    low, high = f0["piper:joe-low"], f0["piper:joe-high"]
    assert high > low * 1.15, f0


def _eleven_settings(tmp_path: Path) -> Any:
    return load_settings(home=tmp_path, elevenlabs_api_key="sk-test-0123456789")


def test_elevenlabs_success(tmp_path: Path) -> None:
    settings = _eleven_settings(tmp_path)
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        pcm = (np.sin(np.arange(22050) / 5) * 10000).astype("<i2").tobytes()
        return httpx.Response(200, content=pcm, headers={"content-type": "audio/pcm"})

    voice = _voice(settings, "elevenlabs:21m00Tcm4TlvDq8ikWAM")
    assert voice in tts.list_voices(settings)
    assert tts.pick_voices(1, None, settings)[0].provider == "piper"  # never by default
    pair = tts.pick_voices(2, ["Rachel"], settings)
    assert [v.provider for v in pair] == ["elevenlabs", "elevenlabs"]
    text = "First sentence of a long script. " * 200  # 6,600 chars: two requests
    samples, rate = tts.synthesize(text, voice, settings, transport=httpx.MockTransport(handler))
    assert rate == 22050 and len(samples) > 2 * 22050 and np.abs(samples).max() > 0.2
    assert len(requests) == 2
    req = requests[0]
    assert req.url.path == "/v1/text-to-speech/21m00Tcm4TlvDq8ikWAM"
    assert req.url.params["output_format"] == "pcm_22050"
    assert req.headers["xi-api-key"] == "sk-test-0123456789"
    body = json.loads(req.content)
    assert body["model_id"] == "eleven_multilingual_v2" and len(body["text"]) <= 4096


@pytest.mark.parametrize(("status", "error"), [(401, Forbidden), (429, Retryable),
                                               (500, Retryable), (503, Retryable)])
def test_elevenlabs_errors(tmp_path: Path, status: int, error: type[Exception]) -> None:
    settings = _eleven_settings(tmp_path)
    transport = httpx.MockTransport(lambda r: httpx.Response(status, json={"detail": "x"}))
    voice = _voice(settings, "elevenlabs:pNInz6obpgDQGcFmaJgB")
    with pytest.raises(error) as info:
        tts.synthesize("Hello.", voice, settings, transport=transport)
    if status == 401:
        assert "LIBRARIAN_ELEVENLABS_API_KEY" in str(info.value)
        assert "sk-test" not in str(info.value)


def test_elevenlabs_network_error(tmp_path: Path) -> None:
    settings = _eleven_settings(tmp_path)

    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("down", request=request)

    with pytest.raises(Retryable):
        tts.synthesize("Hello.", _voice(settings, "elevenlabs:pNInz6obpgDQGcFmaJgB"), settings,
                       transport=httpx.MockTransport(handler))


def test_words_per_minute_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_settings(home=tmp_path)
    calls: list[str] = []

    def fake(text: str, voice: tts.Voice, settings: Any, **kw: Any) -> tuple[np.ndarray, int]:
        calls.append(text)
        return np.zeros(22050 * 60, dtype=np.float32), 22050  # one minute

    monkeypatch.setattr(tts, "synthesize", fake)
    joe = _voice(settings, "piper:joe")
    words = len(tts.CALIBRATION_TEXT.split())
    assert 110 <= words <= 130
    assert tts.words_per_minute(joe, settings) == pytest.approx(words)
    assert tts.words_per_minute(joe, settings) == pytest.approx(words)
    assert len(calls) == 1 and (settings.cache_dir / "wpm.json").is_file()


def test_estimate() -> None:
    joe = tts.Voice(id="piper:joe", provider="piper", name="joe", model_path=None)
    eleven = tts.Voice(id="elevenlabs:x", provider="elevenlabs", name="x", model_path=None)
    est = tts.estimate(9600, joe)
    assert est["cost_usd"] == 0 and est["seconds"] == pytest.approx(600, rel=0.01)
    assert tts.estimate(10_000, eleven)["cost_usd"] == pytest.approx(3.0)
    assert tts.estimate(960, joe, wpm=80)["seconds"] == pytest.approx(120, rel=0.01)


def test_kokoro_is_the_default_engine_when_installed(tmp_path: Path) -> None:
    settings = load_settings(home=tmp_path, voice_engine="auto")
    assert kokoro_voice.available(settings.models_dir), kokoro_voice.INSTALL_MSG
    assert tts.default_engine(settings) == "kokoro"
    assert [v.id for v in tts.pick_voices(2, None, settings)] == ["kokoro:af_heart",
                                                                  "kokoro:am_michael"]
    four = tts.pick_voices(4, None, settings)
    assert len({v.name for v in four}) == 4 and {v.provider for v in four} == {"kokoro"}
    assert [v.id for v in tts.pick_voices(2, ["piper:joe"], settings)] == ["piper:joe",
                                                                           "piper:joe-high"]
    spanish = tts.pick_voices(2, None, settings, language="es")
    assert [v.name for v in spanish] == ["ef_dora", "em_alex"]
    fast = load_settings(home=tmp_path, voice_engine="piper")
    assert tts.pick_voices(1, None, fast)[0].id == "piper:joe"
    missing = load_settings(home=tmp_path, voice_engine="kokoro", models_dir=tmp_path / "none")
    with pytest.raises(ConfigError, match="kokoro"):
        tts.pick_voices(1, None, missing)


def test_kokoro_two_hosts_round_trip(tmp_path: Path) -> None:
    """Two different Kokoro speakers (one shared session), each understood by the recogniser."""
    settings = load_settings(home=tmp_path)
    f0 = {}
    for vid in ("kokoro:af_heart", "kokoro:am_michael"):
        path = tts.synthesize_to_file(SENTENCE, _voice(settings, vid), settings)
        samples, rate = read_wav(path)
        assert rate == 24000 and 3.0 < len(samples) / rate < 12.0
        f0[vid] = median_f0(samples, rate)
        text = transcribe(path, settings=settings, language="en").text
        assert wer(SENTENCE, text) <= 0.10, (vid, text)
    assert len(kokoro_voice._SESSION) == 1
    assert f0["kokoro:af_heart"] > f0["kokoro:am_michael"] * 1.3, f0
