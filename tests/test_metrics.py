"""Unit tests for evals.metrics."""

from __future__ import annotations

import numpy as np
import pytest

from evals.metrics import median_f0, normalise_words, wer


def test_normalise_words() -> None:
    assert normalise_words("Don't STOP, now! (well-known)") == ["don't", "stop", "now", "well",
                                                               "known"]
    assert normalise_words("  ...  ") == []


def test_wer() -> None:
    assert wer("the cat sat", "The cat, sat.") == 0.0
    assert wer("the cat sat on the mat", "the cat sat on mat") == pytest.approx(1 / 6)
    assert wer("a b c d", "a x c") == 0.5  # one substitution, one deletion
    assert wer("a b", "a b c d") == 1.0  # two insertions over two reference words
    assert wer("", "") == 0.0
    assert wer("", "word") == 1.0


@pytest.mark.parametrize("f0", [75.0, 110.0, 180.0, 320.0])
def test_median_f0_harmonic_tone(f0: float) -> None:
    sr = 22050
    t = np.arange(sr) / sr
    x = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 7))
    x = x + 0.02 * np.random.default_rng(0).normal(size=len(t))
    assert median_f0(x, sr) == pytest.approx(f0, rel=0.02)


def test_median_f0_ignores_silence_and_noise() -> None:
    sr = 16000
    assert median_f0(np.zeros(sr), sr) == 0.0
    assert median_f0(np.zeros(10), sr) == 0.0
    tone = np.sin(2 * np.pi * 150 * np.arange(sr // 2) / sr)
    x = np.concatenate([np.zeros(sr), tone, np.zeros(sr)])
    assert median_f0(x, sr) == pytest.approx(150, rel=0.02)
