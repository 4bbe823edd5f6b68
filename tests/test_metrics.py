"""Unit tests for evals.metrics."""

from __future__ import annotations

import numpy as np
import pytest

from evals.metrics import (
    attribution_coverage,
    caption_recall,
    heading_recall,
    invented_sources,
    length_error,
    median_f0,
    normalise_words,
    reference_count_error,
    support_rate,
    title_exact,
    transcript_wer,
    voice_distinctness,
    wer,
)


def test_normalise_words() -> None:
    assert normalise_words("Don't STOP, now! (well-known)") == ["do", "not", "stop", "now",
                                                               "well", "known"]
    assert normalise_words("They're here; let's see what's new") == [
        "they", "are", "here", "let", "us", "see", "what", "is", "new"]
    assert normalise_words("  ...  ") == []


def test_wer() -> None:
    assert wer("the cat sat", "The cat, sat.") == 0.0
    assert wer("the cat sat on the mat", "the cat sat on mat") == pytest.approx(1 / 6)
    assert wer("a b c d", "a x c") == 0.5  # one substitution, one deletion
    assert wer("a b", "a b c d") == 1.0  # two insertions over two reference words
    assert wer("", "") == 0.0
    assert wer("", "word") == 1.0
    assert wer("two", "") == 1.0
    # what speech cannot carry is not an error: compound boundaries, apostrophes
    assert wer("new datasets of transformers", "new data sets of transformer's") == 0.0
    assert wer("the data sets", "the datasets") == 0.0
    assert wer("the data sets", "the data") == pytest.approx(1 / 3)


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


# --- generated content and imports ---------------------------------------------------------------



def test_attribution_coverage() -> None:
    valid = {"c1", "c2"}
    assert attribution_coverage([["c1"], ["c2", "x"], ["x"], []], valid) == 0.5
    assert attribution_coverage([["c1"]], valid) == 1.0
    assert attribution_coverage([], valid) == 0.0


def test_support_rate() -> None:
    assert support_rate([0.9, 0.6, 0.59, 0.1], 0.6) == 0.5
    assert support_rate([], 0.6) == 1.0


def test_invented_sources() -> None:
    assert invented_sources(["c1", "ghost", "ghost", "c2", "other"], {"c1", "c2"}) == 2
    assert invented_sources([], {"c1"}) == 0


def test_length_error() -> None:
    assert length_error(108, 120) == pytest.approx(0.1)
    assert length_error(132, 120) == pytest.approx(0.1)
    with pytest.raises(ValueError):
        length_error(10, 0)


def test_voice_distinctness() -> None:
    assert voice_distinctness({"Alex": 100.0}) is None
    assert voice_distinctness({"a": 100.0, "b": 150.0, "c": 110.0}) == pytest.approx(10 / 110)
    assert voice_distinctness({"a": 100.0, "b": 0.0}) == 0.0


def test_extraction_scores() -> None:
    assert title_exact("S2ORC:  The Corpus", "S2ORC: The Corpus") == 1.0
    assert title_exact("Duck - Wikipedia", "Duck") == 0.0
    heads = ["1  Introduction", "2.1 Processing PDFs", "3 Data"]
    assert heading_recall(["1 Introduction", "2.1 Processing PDFs"], heads) == pytest.approx(2 / 3)
    assert heading_recall([], []) == 1.0
    assert reference_count_error(50, 56) == pytest.approx(6 / 56)
    assert reference_count_error(0, 0) == 0.0
    got = {"Figure 1": "Figure 1: Inline citations and references", "Table 1": "Other text"}
    want = {"Figure 1": "Inline citations", "Table 1": "A comparison", "Table 2": "Stats"}
    assert caption_recall(got, want) == pytest.approx(1 / 3)


def test_transcript_wer_ignores_timestamps_and_channel_labels() -> None:
    ref = "[0.0-4.0] Shakespeare on Scenery\n[5.28-9.96] This is a recording."
    assert transcript_wer(ref, "Shakespeare on scenery. This is a recording.") == 0.0
    assert transcript_wer("LEFT channel: one two\nRIGHT channel: three", "one two three") == 0.0
