"""Assemble a podcast from per-line WAVs: pauses, music bed, loudness, MP3 + ID3 chapters.

Everything happens on one float array at the lines' sample rate, so `line_times` are exact
sample counts. Loudness is measured with ITU-R BS.1770-4 (K-weighting, 400 ms blocks, -70 LUFS
absolute and -10 LU relative gates) in numpy, normalised to -16 LUFS and peak limited to -2 dBFS
(about -1.5 dBFS in the MP3) by a look-ahead limiter; ffmpeg (from imageio-ffmpeg) encodes
128 kbps mono MP3 at 44.1 kHz and mutagen writes the ID3 tags (TIT2, TPE1, TALB, COMM, CTOC and
one CHAP per chapter).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import wave
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

from storage.errors import BadInput, ConfigError
from tools.tts import resample, write_wav

JINGLE = Path(__file__).parent / "assets" / "jingle.wav"
TARGET_LUFS = -16.0
PEAK_LIMIT_DB = -2.0
LAME_GAIN = 1 / 0.95  # ffmpeg's libmp3lame encodes float input 0.45 dB quieter (measured)
INTRO_LEAD_S = 3.0  # jingle alone before the first line
OUTRO_S = 4.0  # jingle after the last line (and its pause)
MUSIC_BELOW_SPEECH_DB = 6.0  # music level relative to speech when alone
DUCK_DB = 16.0  # further attenuation while speech plays over it
MP3_RATE = 44100
MP3_BITRATE = "128k"


@dataclass(frozen=True)
class LineAudio:
    """One spoken line: its WAV, who speaks it and the silence that follows it."""

    path: Path
    speaker: str
    pause_after_s: float


@dataclass(frozen=True)
class AudioMeta:
    """ID3 metadata; chapters are (title, index of the chapter's first line)."""

    title: str
    artist: str
    album: str
    comment: str
    chapters: list[tuple[str, int]] = field(default_factory=list)


@dataclass(frozen=True)
class AssemblyResult:
    """Timing of the final file (seconds) and its measured loudness."""

    duration_s: float
    line_times: list[tuple[float, float]]
    chapters: list[tuple[str, float, float]]
    lufs: float
    peak_dbfs: float


# ------------------------------------------------------------------------------------- reading

def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float32 samples of a PCM WAV (8/16/24/32-bit integer)."""
    try:
        with wave.open(str(path), "rb") as w:
            rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
            raw = w.readframes(w.getnframes())
    except FileNotFoundError:
        raise BadInput(f"line audio missing: {path}") from None
    except (wave.Error, EOFError) as exc:
        raise BadInput(f"not a PCM WAV file: {path.name} ({exc})") from None
    if width == 1:
        x = (np.frombuffer(raw, dtype=np.uint8).astype(np.float32) - 128) / 128
    elif width == 2:
        x = np.frombuffer(raw, dtype="<i2").astype(np.float32) / 32768
    elif width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        x = (np.where(v >= 1 << 23, v - (1 << 24), v) / float(1 << 23)).astype(np.float32)
    else:
        x = np.frombuffer(raw, dtype="<i4").astype(np.float32) / 2**31
    if channels > 1:
        x = x[: len(x) // channels * channels].reshape(-1, channels).mean(axis=1)
    return x, rate


# ------------------------------------------------------------------------------------ loudness

def _biquad_response(b: list[float], a: list[float], w: np.ndarray) -> np.ndarray:
    z = np.exp(-1j * w)
    return (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)


@lru_cache(maxsize=8)
def _k_weighting_ir(rate: int) -> np.ndarray:
    """Impulse response of the BS.1770 K-weighting filter (shelf + high-pass) at `rate`."""
    f0, gain, q = 1681.974450955533, 3.999843853973347, 0.7071752369554196
    k = np.tan(np.pi * f0 / rate)
    vh = 10 ** (gain / 20)
    vb = vh**0.4996667741545416
    a0 = 1 + k / q + k * k
    b1 = [(vh + vb * k / q + k * k) / a0, 2 * (k * k - vh) / a0, (vh - vb * k / q + k * k) / a0]
    a1 = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    f0, q = 38.13547087602444, 0.5003270373238773
    k = np.tan(np.pi * f0 / rate)
    a0 = 1 + k / q + k * k
    b2 = [1.0, -2.0, 1.0]
    a2 = [1.0, 2 * (k * k - 1) / a0, (1 - k / q + k * k) / a0]
    n = 1 << int(np.ceil(np.log2(rate)))  # ~1 s: the response has decayed long before
    w = 2 * np.pi * np.arange(n // 2 + 1) / n
    h = _biquad_response(b1, a1, w) * _biquad_response(b2, a2, w)
    return np.fft.irfft(h, n=n)[: n // 2]


def _convolve(x: np.ndarray, h: np.ndarray, block: int = 1 << 18) -> np.ndarray:
    """Linear convolution by FFT overlap-add, in blocks (output has len(x) samples)."""
    n = 1 << int(np.ceil(np.log2(block + len(h) - 1)))
    hf = np.fft.rfft(h, n)
    out = np.zeros(len(x) + len(h) - 1)
    for start in range(0, len(x), block):
        seg = x[start : start + block]
        y = np.fft.irfft(np.fft.rfft(seg, n) * hf, n)[: len(seg) + len(h) - 1]
        out[start : start + len(y)] += y
    return out[: len(x)]


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS) of mono audio per ITU-R BS.1770-4; -inf for silence."""
    y = _convolve(np.asarray(samples, dtype=np.float64), _k_weighting_ir(rate))
    size, step = int(0.4 * rate), int(0.1 * rate)
    if len(y) < size:
        return float("-inf")
    csum = np.concatenate([[0.0], np.cumsum(y * y)])
    starts = np.arange(0, len(y) - size + 1, step)
    z = (csum[starts + size] - csum[starts]) / size
    z = z[-0.691 + 10 * np.log10(np.maximum(z, 1e-20)) > -70.0]
    if not len(z):
        return float("-inf")
    rel = -0.691 + 10 * np.log10(z.mean()) - 10.0
    z = z[-0.691 + 10 * np.log10(z) > rel]
    return float(-0.691 + 10 * np.log10(z.mean()))


def _sliding_min(x: np.ndarray, width: int) -> np.ndarray:
    """Centred running minimum over `width` samples (van Herk / Gil-Werman, O(n))."""
    half = width // 2
    padded = np.concatenate([np.ones(half), x, np.ones(width)])
    k = int(np.ceil(len(padded) / width))
    padded = np.concatenate([padded, np.ones(k * width - len(padded))]).reshape(k, width)
    pre = np.minimum.accumulate(padded, axis=1).ravel()
    suf = np.minimum.accumulate(padded[:, ::-1], axis=1)[:, ::-1].ravel()
    i = np.arange(len(x))
    return np.minimum(suf[i], pre[i + width - 1])


def limit_peaks(samples: np.ndarray, rate: int, ceiling_db: float = PEAK_LIMIT_DB) -> np.ndarray:
    """Look-ahead peak limiter: a smooth gain that keeps every sample under the ceiling."""
    ceiling = 10 ** (ceiling_db / 20)
    peak = np.abs(samples)
    if peak.max(initial=0.0) <= ceiling:
        return samples
    width = max(3, int(0.008 * rate)) | 1
    gain = _sliding_min(np.minimum(1.0, ceiling / np.maximum(peak, 1e-12)), width)
    padded = np.concatenate([np.ones(width // 2 + 1), gain, np.ones(width // 2)])
    csum = np.cumsum(padded)
    gain = (csum[width:] - csum[:-width]) / width  # centred moving average, same length
    return np.clip(samples * gain, -ceiling, ceiling)


def normalise(samples: np.ndarray, rate: int, target: float = TARGET_LUFS) -> np.ndarray:
    """Gain to `target` LUFS with peak limiting, re-measured until within 0.05 LU."""
    src = samples.astype(np.float64)
    out, gain = src, 1.0
    for _ in range(5):
        lufs = integrated_loudness(out, rate)
        if not np.isfinite(lufs) or abs(lufs - target) < 0.05:
            break
        gain *= 10 ** ((target - lufs) / 20)
        out = limit_peaks(src * gain, rate)
    return out


# --------------------------------------------------------------------------------------- music

def _music(rate: int, speech_rms: float) -> np.ndarray:
    jingle, jrate = read_wav(JINGLE)
    if jrate != rate:
        jingle = resample(jingle, jrate / rate)
    jrms = float(np.sqrt(np.mean(jingle**2))) or 1.0
    return jingle * (speech_rms * 10 ** (-MUSIC_BELOW_SPEECH_DB / 20) / jrms)


def _fade(n: int, length: int, out: bool) -> np.ndarray:
    ramp = np.ones(n)
    length = min(n, length)
    shape = 0.5 - 0.5 * np.cos(np.linspace(0, np.pi, length))
    if out:
        ramp[n - length :] = shape[::-1]
    else:
        ramp[:length] = shape
    return ramp


# ------------------------------------------------------------------------------------ encoding

def _ffmpeg() -> str:
    try:
        import imageio_ffmpeg

        exe = imageio_ffmpeg.get_ffmpeg_exe()
    except (ImportError, RuntimeError) as exc:
        raise ConfigError(f"ffmpeg not available (imageio-ffmpeg): {exc}") from None
    return str(exe)


@lru_cache(maxsize=1)
def _check_mp3_encoder(exe: str) -> None:
    out = subprocess.run([exe, "-hide_banner", "-encoders"], capture_output=True, text=True,
                         check=False).stdout
    if "libmp3lame" not in out:
        raise ConfigError(f"ffmpeg at {exe} has no libmp3lame MP3 encoder")


def encode_mp3(samples: np.ndarray, rate: int, out_mp3: Path) -> None:
    """Encode mono float samples to a 128 kbps MP3 (atomically replacing `out_mp3`)."""
    exe = _ffmpeg()
    _check_mp3_encoder(exe)
    out_mp3.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out_mp3.parent, prefix=".tmp-", suffix=".mp3")
    os.close(fd)
    cmd = [exe, "-hide_banner", "-loglevel", "error", "-y", "-f", "f32le", "-ar", str(rate),
           "-ac", "1", "-i", "pipe:0", "-ar", str(MP3_RATE), "-c:a", "libmp3lame",
           "-b:a", MP3_BITRATE, "-id3v2_version", "0", "-write_id3v1", "0", "-f", "mp3", tmp]
    try:
        pcm = (samples * LAME_GAIN).astype("<f4").tobytes()
        proc = subprocess.run(cmd, input=pcm, capture_output=True, check=False)
        if proc.returncode != 0:
            raise ConfigError("ffmpeg failed to encode MP3: "
                              + proc.stderr.decode("utf-8", "replace")[-300:])
        os.replace(tmp, out_mp3)
    finally:
        Path(tmp).unlink(missing_ok=True)


def write_tags(out_mp3: Path, meta: AudioMeta, chapters: list[tuple[str, float, float]]) -> None:
    """ID3v2.3 tags: title, hosts, album, sources comment, and CTOC/CHAP chapter frames."""
    from mutagen.id3 import CHAP, COMM, CTOC, ID3, TALB, TCON, TIT2, TPE1, CTOCFlags

    tags = ID3()
    tags.add(TIT2(encoding=3, text=[meta.title]))
    tags.add(TPE1(encoding=3, text=[meta.artist]))
    tags.add(TALB(encoding=3, text=[meta.album]))
    tags.add(TCON(encoding=3, text=["Podcast"]))
    tags.add(COMM(encoding=3, lang="eng", desc="sources", text=[meta.comment]))
    if chapters:
        ids = [f"chp{i}" for i in range(len(chapters))]
        tags.add(CTOC(element_id="toc", flags=CTOCFlags.TOP_LEVEL | CTOCFlags.ORDERED,
                      child_element_ids=ids, sub_frames=[TIT2(encoding=3, text=["Chapters"])]))
        for cid, (title, start, end) in zip(ids, chapters, strict=True):
            tags.add(CHAP(element_id=cid, start_time=int(round(start * 1000)),
                          end_time=int(round(end * 1000)), start_offset=0xFFFFFFFF,
                          end_offset=0xFFFFFFFF, sub_frames=[TIT2(encoding=3, text=[title])]))
    tags.save(out_mp3, v2_version=3)


# ------------------------------------------------------------------------------------ assembly

def assemble(lines: list[LineAudio], out_mp3: Path, *, meta: AudioMeta,
             wav_out: Path | None = None, music: bool = True) -> AssemblyResult:
    """Concatenate the lines with their pauses (and music), normalise, encode and tag.

    `line_times[i]` is where line i's WAV (including the few ms of silence TTS leaves at its
    edges) sits in the final file. With music, the jingle plays alone for INTRO_LEAD_S seconds,
    then ducks under the first line; OUTRO_S seconds of it close the episode.
    """
    if not lines:
        raise BadInput("a podcast needs at least one line")
    for title, first in meta.chapters:
        if not 0 <= first < len(lines):
            raise BadInput(f"chapter {title!r} starts at line {first}, but there are "
                           f"{len(lines)} lines")
    clips = [read_wav(line.path) for line in lines]
    rate = max(r for _, r in clips)
    clips = [(x if r == rate else resample(x, r / rate), rate) for x, r in clips]
    lead = int(round(INTRO_LEAD_S * rate)) if music else 0
    positions: list[int] = []
    pos = lead
    for (x, _), line in zip(clips, lines, strict=True):
        if line.pause_after_s < 0:
            raise BadInput(f"negative pause after line {len(positions)}")
        positions.append(pos)
        pos += len(x) + int(round(line.pause_after_s * rate))
    speech_end = pos
    outro = int(round(OUTRO_S * rate)) if music else 0
    mix = np.zeros(speech_end + outro)
    for (x, _), at in zip(clips, positions, strict=True):
        mix[at : at + len(x)] += x
    if music:
        voiced = np.concatenate([x for x, _ in clips])
        speech_rms = float(np.sqrt(np.mean(voiced**2))) or 0.1
        bed = _music(rate, speech_rms)
        intro = bed[: len(mix)].copy()
        gain = np.ones(len(intro))
        ramp = int(0.5 * rate)
        duck = 10 ** (-DUCK_DB / 20)
        t0 = max(0, lead - ramp)
        gain[t0:lead] = np.linspace(1.0, duck, lead - t0)[: len(gain[t0:lead])]
        gain[lead:] = duck
        mix[: len(intro)] += intro * gain
        tail = bed[:outro] * _fade(min(outro, len(bed)), int(1.5 * rate), out=True)
        mix[speech_end : speech_end + len(tail)] += tail
    mix = normalise(mix, rate)
    lufs = integrated_loudness(mix, rate)
    peak = float(20 * np.log10(max(np.abs(mix).max(), 1e-9)))
    duration = len(mix) / rate
    line_times = [(p / rate, (p + len(x)) / rate)
                  for p, (x, _) in zip(positions, clips, strict=True)]
    chapters: list[tuple[str, float, float]] = []
    marks = sorted(meta.chapters, key=lambda c: c[1])
    for i, (title, first) in enumerate(marks):
        start = 0.0 if i == 0 else line_times[first][0]
        end = line_times[marks[i + 1][1]][0] if i + 1 < len(marks) else duration
        chapters.append((title, start, end))
    encode_mp3(mix, rate, out_mp3)
    write_tags(out_mp3, meta, chapters)
    if wav_out is not None:
        write_wav(wav_out, mix, rate)
    return AssemblyResult(duration_s=duration, line_times=line_times, chapters=chapters,
                          lufs=round(lufs, 2), peak_dbfs=round(peak, 2))
