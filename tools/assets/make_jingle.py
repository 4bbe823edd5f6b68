"""Generate `jingle.wav`: a ~6 s self-made intro/outro bed (soft pad chords plus bell tones).

Deterministic (no randomness, no samples from anywhere else), so the output is CC0 like this
script. Run: `python tools/assets/make_jingle.py` to rewrite `tools/assets/jingle.wav`.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

SAMPLE_RATE = 22050
BPM = 96.0
OUT = Path(__file__).with_name("jingle.wav")


def _hz(midi: float) -> float:
    return float(440.0 * 2 ** ((midi - 69) / 12))


def _pad(notes: list[int], start: float, length: float, total: int) -> np.ndarray:
    """A soft chord: detuned sine pairs with a slow attack and release."""
    out = np.zeros(total)
    a, n = int(start * SAMPLE_RATE), int(length * SAMPLE_RATE)
    t = np.arange(n) / SAMPLE_RATE
    env = np.minimum(1.0, t / 0.35) * np.minimum(1.0, (length - t) / 0.6).clip(0, 1)
    for note in notes:
        f = _hz(note)
        tone = np.sin(2 * np.pi * f * t) + np.sin(2 * np.pi * f * 1.003 * t)
        tone += 0.25 * np.sin(2 * np.pi * 2 * f * t)
        m = min(n, total - a)
        out[a : a + m] += (tone * env)[:m]
    return out


def _bell(note: int, start: float, total: int) -> np.ndarray:
    """A bell: inharmonic partials with exponential decay."""
    out = np.zeros(total)
    a = int(start * SAMPLE_RATE)
    n = min(total - a, int(2.5 * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    f = _hz(note)
    tone = np.zeros(n)
    for ratio, amp, decay in ((1.0, 1.0, 1.6), (2.0, 0.5, 1.0), (2.76, 0.35, 0.7),
                              (5.4, 0.15, 0.35)):
        tone += amp * np.exp(-t / decay) * np.sin(2 * np.pi * f * ratio * t)
    tone *= np.minimum(1.0, t / 0.004)
    out[a : a + n] = tone
    return out


def make() -> np.ndarray:
    """The jingle as float samples in [-1, 1]."""
    beat = 60.0 / BPM
    total = int(6.0 * SAMPLE_RATE)
    # I - vi - IV - V in C major, two beats each, then a held I
    chords = [[48, 55, 60, 64], [45, 52, 57, 60], [41, 48, 53, 57], [43, 50, 55, 59]]
    mix = np.zeros(total)
    for i, chord in enumerate(chords):
        mix += 0.12 * _pad(chord, i * 2 * beat, 2 * beat + 0.3, total)
    mix += 0.12 * _pad([48, 55, 60, 64, 67], 8 * beat, 6.0 - 8 * beat, total)
    melody = [72, 76, 79, 76, 72, 74, 77, 74, 79, 84]
    for i, note in enumerate(melody):
        mix += 0.22 * _bell(note, 0.1 + i * beat * (0.8 if i < 8 else 1.0), total)
    t = np.arange(total) / SAMPLE_RATE
    mix *= np.minimum(1.0, t / 0.4) * np.minimum(1.0, (6.0 - t) / 1.5)
    return mix / np.max(np.abs(mix)) * 10 ** (-3 / 20)


def main() -> None:
    data = (make() * 32767).round().astype("<i2")
    with wave.open(str(OUT), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(data.tobytes())
    print(f"wrote {OUT} ({len(data) / SAMPLE_RATE:.1f} s)")


if __name__ == "__main__":
    main()
