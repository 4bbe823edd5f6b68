"""Podcast assembly: timing, music bed, loudness, MP3 encoding and ID3 chapters."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest
from mutagen.id3 import ID3

from storage.errors import BadInput
from tools import audio
from tools.audio import AudioMeta, LineAudio, assemble, integrated_loudness, read_wav
from tools.tts import write_wav

RATE = 22050


def _speechlike(seconds: float, f0: float, seed: int) -> np.ndarray:
    """A buzzy tone with syllable-rate amplitude modulation (stands in for speech)."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 8))
    env = np.clip(np.sin(2 * np.pi * 3.5 * t + seed), 0, None) ** 2
    noise = np.random.default_rng(seed).normal(0, 0.05, len(t))
    x = (tone * env + noise * env) * 0.3
    return x / np.abs(x).max() * 0.9


def _lines(tmp_path: Path) -> list[LineAudio]:
    lines = []
    for i, (sec, f0, pause) in enumerate([(2.0, 110, 0.35), (1.5, 180, 0.5), (2.5, 110, 1.0),
                                          (1.2, 180, 0.5)]):
        path = tmp_path / f"line{i}.wav"
        write_wav(path, _speechlike(sec, f0, i), RATE)
        lines.append(LineAudio(path=path, speaker="A" if f0 == 110 else "B", pause_after_s=pause))
    return lines


def _decode(path: Path) -> np.ndarray:
    out = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-i", str(path),
                          "-f", "f32le", "-ac", "1", "-ar", "44100", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(out, dtype="<f4")


def _ffmpeg_lufs(path: Path) -> float:
    err = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", "-nostats", "-i",
                          str(path), "-af", "ebur128", "-f", "null", "-"],
                         capture_output=True, text=True, check=True).stderr
    return float(re.findall(r"I:\s+(-?[\d.]+) LUFS", err)[-1])


META = AudioMeta(title="Episode one", artist="Joe, Joe (high)", album="Librarian",
                 comment="Sources: Smith 2020; Jones 2021",
                 chapters=[("Opening", 0), ("Discussion", 2)])


def test_assemble_with_music(tmp_path: Path) -> None:
    lines = _lines(tmp_path)
    out = tmp_path / "episode.mp3"
    result = assemble(lines, out, meta=META, wav_out=tmp_path / "episode.wav")
    speech = sum(len(read_wav(line.path)[0]) / RATE + line.pause_after_s for line in lines)
    expected = audio.INTRO_LEAD_S + speech + audio.OUTRO_S
    assert result.duration_s == pytest.approx(expected, abs=0.01)
    decoded = _decode(out)
    assert len(decoded) / 44100 == pytest.approx(result.duration_s, abs=0.06)
    # line times: monotonic, each as long as its WAV, separated by exactly the pauses
    assert result.line_times[0][0] == pytest.approx(audio.INTRO_LEAD_S)
    for (start, end), line in zip(result.line_times, lines, strict=True):
        assert end - start == pytest.approx(len(read_wav(line.path)[0]) / RATE, abs=1e-9)
    for (_, end), (start, _), line in zip(result.line_times, result.line_times[1:], lines,
                                          strict=False):
        assert start - end == pytest.approx(line.pause_after_s, abs=1 / RATE)
    # loudness, measured independently by ffmpeg on the MP3
    assert abs(_ffmpeg_lufs(out) - (-16.0)) <= 1.5
    assert abs(result.lufs - (-16.0)) <= 0.5 and result.peak_dbfs <= -1.0
    assert float(np.abs(decoded).max()) < 10 ** (-0.5 / 20)
    # music plays alone before the first line
    assert np.sqrt(np.mean(decoded[: int(2.0 * 44100)] ** 2)) > 0.01
    # tags and chapters
    tags = ID3(out)
    assert str(tags["TIT2"]) == "Episode one" and str(tags["TPE1"]) == "Joe, Joe (high)"
    assert str(tags["TALB"]) == "Librarian"
    assert tags.getall("COMM")[0].text[0] == META.comment
    toc = tags.getall("CTOC")[0]
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert toc.child_element_ids == [c.element_id for c in chaps]
    assert [str(c.sub_frames["TIT2"]) for c in chaps] == ["Opening", "Discussion"]
    assert chaps[0].start_time == 0
    assert chaps[1].start_time == round(result.line_times[2][0] * 1000)
    assert chaps[1].end_time == round(result.duration_s * 1000)
    assert result.chapters[0][2] == result.chapters[1][1]
    wav, rate = read_wav(tmp_path / "episode.wav")
    assert len(wav) / rate == pytest.approx(result.duration_s, abs=1e-9)


def test_assemble_without_music_is_sample_accurate(tmp_path: Path) -> None:
    lines = _lines(tmp_path)
    result = assemble(lines, tmp_path / "plain.mp3", meta=META, wav_out=tmp_path / "plain.wav",
                      music=False)
    wav, rate = read_wav(tmp_path / "plain.wav")
    assert result.line_times[0][0] == 0.0
    assert result.duration_s == pytest.approx(result.line_times[-1][1] + lines[-1].pause_after_s)
    for (_, end), (start, _) in zip(result.line_times, result.line_times[1:], strict=False):
        pause = wav[round(end * rate) : round(start * rate)]
        assert len(pause) > 0 and np.abs(pause).max() < 1e-3
    for start, end in result.line_times:
        assert np.abs(wav[round(start * rate) : round(end * rate)]).max() > 0.3
    assert integrated_loudness(wav, rate) == pytest.approx(-16.0, abs=0.5)


def test_assemble_rejects_bad_input(tmp_path: Path) -> None:
    lines = _lines(tmp_path)
    with pytest.raises(BadInput):
        assemble([], tmp_path / "x.mp3", meta=META)
    bad_meta = AudioMeta(title="t", artist="a", album="b", comment="c", chapters=[("x", 9)])
    with pytest.raises(BadInput):
        assemble(lines, tmp_path / "x.mp3", meta=bad_meta)
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF nonsense")
    with pytest.raises(BadInput):
        assemble([LineAudio(broken, "A", 0.3)], tmp_path / "x.mp3", meta=META)
    assert not (tmp_path / "x.mp3").exists()


def test_loudness_reference_tone() -> None:
    t = np.arange(5 * 48000) / 48000
    # BS.1770: a 0 dBFS 997 Hz sine in one channel reads -3.01 LUFS
    assert integrated_loudness(np.sin(2 * np.pi * 997 * t), 48000) == pytest.approx(-3.01,
                                                                                    abs=0.05)
    assert integrated_loudness(np.zeros(48000), 48000) == float("-inf")


def test_jingle_asset() -> None:
    jingle, rate = read_wav(audio.JINGLE)
    assert 5.0 < len(jingle) / rate < 7.0 and np.abs(jingle).max() > 0.3
