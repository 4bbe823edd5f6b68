"""Small, pure evaluation metrics: word error rate and a pitch estimate for voice distinctness."""

from __future__ import annotations

import re

import numpy as np

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z0-9]+)*")


def normalise_words(text: str) -> list[str]:
    """Lowercase words with punctuation removed ("Don't, stop!" -> ["don't", "stop"])."""
    text = text.lower().replace("\u2019", "'").replace("-", " ")
    return _WORD.findall(text)


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate: word-level edit distance divided by the number of reference words.

    An empty reference gives 0.0 when the hypothesis is empty too, else 1.0.
    """
    ref, hyp = normalise_words(reference), normalise_words(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    prev = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        cur = [i] + [0] * len(hyp)
        for j, h in enumerate(hyp, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (r != h))
        prev = cur
    return prev[-1] / len(ref)


def median_f0(samples: np.ndarray, sample_rate: int, fmin: float = 60.0,
              fmax: float = 400.0) -> float:
    """Median fundamental frequency (Hz) of the voiced frames, by normalised autocorrelation.

    Frames are 40 ms with a 10 ms hop; a frame counts as voiced when it is no more than 35 dB
    below the loudest frame and its autocorrelation peak is at least 0.5. Returns 0.0 when no
    frame is voiced.
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.ndim != 1 or sample_rate <= 0:
        raise ValueError("median_f0 needs mono samples and a positive sample rate")
    frame, hop = int(0.04 * sample_rate), int(0.01 * sample_rate)
    if len(x) < frame:
        return 0.0
    count = 1 + (len(x) - frame) // hop
    idx = np.arange(frame)[None, :] + hop * np.arange(count)[:, None]
    frames = x[idx]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames**2).sum(axis=1)
    loud = energy > energy.max() * 10 ** (-35 / 10)
    frames, energy = frames[loud], energy[loud]
    if not len(frames):
        return 0.0
    n = 1 << (2 * frame - 1).bit_length()
    spec = np.fft.rfft(frames * np.hanning(frame), n=n, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, n=n, axis=1)[:, :frame]
    # undo the window's own autocorrelation taper so long lags are not penalised
    wac = np.fft.irfft(np.abs(np.fft.rfft(np.hanning(frame), n=n)) ** 2, n=n)[:frame]
    ac = ac / np.maximum(wac[None, :], 1e-9 * wac[0])
    ac = ac / np.maximum(ac[:, :1], 1e-12)
    lo, hi = int(sample_rate / fmax), min(int(sample_rate / fmin), frame - 2)
    seg = ac[:, lo : hi + 1]
    best = seg.max(axis=1)
    f0s: list[float] = []
    for row, peak in zip(seg, best, strict=True):
        if peak < 0.5:
            continue
        # the shortest lag whose local peak is near the best one avoids octave-down errors
        is_peak = np.r_[False, (row[1:-1] >= row[:-2]) & (row[1:-1] >= row[2:]), False]
        cands = np.nonzero(is_peak & (row >= 0.9 * peak))[0]
        k = int(cands[0]) if len(cands) else int(np.argmax(row))
        shift = 0.0
        if 0 < k < len(row) - 1:
            a, b, c = row[k - 1], row[k], row[k + 1]
            denom = a - 2 * b + c
            shift = 0.5 * (a - c) / denom if denom else 0.0
        f0s.append(sample_rate / (lo + k + shift))
    return float(np.median(f0s)) if f0s else 0.0
