"""Small, pure evaluation metrics: what the evals score, each a plain function.

Word error rate, a pitch estimate for voice distinctness, attribution, support, invented
sources, length, and extraction accuracy of imports.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence, Set

import numpy as np

_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")
# contractions are spelled out on both sides, as Whisper's own English normaliser does
_CONTRACTIONS = [(re.compile(p), r) for p, r in [
    (r"\bcan't\b", "can not"), (r"\bwon't\b", "will not"), (r"n't\b", " not"),
    (r"'re\b", " are"), (r"'ve\b", " have"), (r"'ll\b", " will"), (r"'d\b", " would"),
    (r"'m\b", " am"), (r"\blet's\b", "let us"),
    (r"\b(it|that|there|what|here|who|he|she)'s\b", r"\1 is")]]


def fold(text: str) -> str:
    """Diacritics removed ("información" -> "informacion"): speech does not carry them."""
    return "".join(c for c in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(c))


def normalise_words(text: str) -> list[str]:
    """Lowercase words with punctuation and diacritics removed, any script
    ("Don't, stop!" -> ["don't", "stop"], "¿Qué pasó?" -> ["que", "paso"])."""
    text = fold(text.lower()).replace("\u2019", "'").replace("-", " ")
    for pattern, repl in _CONTRACTIONS:
        text = pattern.sub(repl, text)
    return _WORD.findall(text)


_TERM = re.compile(r"\w+(?:[-'’]\w+)*")


def distinctive_terms(text: str, limit: int = 40) -> list[str]:
    """Words a general recogniser is unlikely to know: with a digit or a capital after the first
    letter ("S2ORC", "PaperMage", "LONGEVAL"), in order of first use, at most `limit`."""
    seen: dict[str, None] = {}
    for word in _TERM.findall(text):
        if any(c.isdigit() for c in word) or any(c.isupper() for c in word[1:]):
            seen.setdefault(word, None)
    return list(seen)[:limit]


def _spoken(text: str) -> list[str]:
    """Normalised words with apostrophes dropped: a possessive and a plural sound the same."""
    return [w.replace("'", "") for w in normalise_words(text)]


def _join_compounds(words: list[str], vocabulary: Set[str]) -> list[str]:
    """Merge runs of 2-3 adjacent words whose concatenation is a word of `vocabulary`
    ("data sets" -> "datasets" when the other side says "datasets")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in (3, 2):
            joined = "".join(words[i:i + n])
            if i + n <= len(words) and joined in vocabulary:
                out.append(joined)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out


def wer(reference: str, hypothesis: str) -> float:
    """Word error rate of what was heard against what was meant (edit distance by jiwer).

    Differences that speech cannot carry are not errors: word boundaries of compounds
    ("data sets" for "datasets") and apostrophes ("transformer's" for "transformers").
    An empty reference gives 0.0 when the hypothesis is empty too, else 1.0.
    """
    import jiwer

    ref, hyp = _spoken(reference), _spoken(hypothesis)
    if not ref:
        return 0.0 if not hyp else 1.0
    hyp = _join_compounds(hyp, set(ref))
    ref = _join_compounds(ref, set(hyp))
    if not hyp:
        return 1.0
    return float(jiwer.wer(" ".join(ref), " ".join(hyp)))


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


# --- generated content: attribution, support, sources, length, voices --------------------------

def attribution_coverage(segments: Sequence[Sequence[str]], valid_chunk_ids: Set[str]) -> float:
    """Share of segments (each given by its cited chunk ids) with at least one valid citation.

    No segments gives 0.0: an empty script attributes nothing.
    """
    if not segments:
        return 0.0
    return sum(1 for cites in segments if any(c in valid_chunk_ids for c in cites)) / len(segments)


def support_rate(scores: Sequence[float], threshold: float) -> float:
    """Share of support scores at or above the threshold (1.0 when nothing was scored)."""
    if not scores:
        return 1.0
    return sum(1 for s in scores if s >= threshold) / len(scores)


def invented_sources(citations: Iterable[str], library_chunk_ids: Set[str]) -> int:
    """Number of distinct cited ids that are not chunks of the library."""
    return len({c for c in citations if c not in library_chunk_ids})


def length_error(actual_s: float, requested_s: float) -> float:
    """Relative length error |actual - requested| / requested."""
    if requested_s <= 0:
        raise ValueError("requested length must be positive")
    return abs(actual_s - requested_s) / requested_s


def voice_distinctness(f0_by_host: Mapping[str, float]) -> float | None:
    """Smallest pairwise relative F0 difference |a - b| / max(a, b) between hosts.

    None for a single host (nothing to tell apart); 0.0 when a host has no voiced F0.
    """
    values = list(f0_by_host.values())
    if len(values) < 2:
        return None
    out = 1.0
    for i, a in enumerate(values):
        for b in values[i + 1:]:
            top = max(a, b)
            out = min(out, abs(a - b) / top if top > 0 and min(a, b) > 0 else 0.0)
    return out


# --- imports: extraction accuracy ----------------------------------------------------------------

def squash(text: str) -> str:
    """Lowercase letters and digits only, compatibility-decomposed ("Ｓ2ORC: a" -> "s2orca")."""
    text = unicodedata.normalize("NFKD", text).lower()
    return re.sub(r"[^a-z0-9]+", "", text)


def title_exact(got: str, want: str) -> float:
    """1.0 when the titles match after whitespace normalisation, else 0.0."""
    return float(" ".join(got.split()) == " ".join(want.split()))


def heading_recall(got: Iterable[str], want: Sequence[str]) -> float:
    """Share of expected headings found among the extracted ones (letters and digits compared)."""
    if not want:
        return 1.0
    found = {squash(h) for h in got}
    return sum(1 for h in want if squash(h) in found) / len(want)


def reference_count_error(got: int, want: int) -> float:
    """Relative error of the number of bibliography entries."""
    if want <= 0:
        return float(got > 0)
    return abs(got - want) / want


def caption_recall(got: Mapping[str, str], want: Mapping[str, str]) -> float:
    """Share of expected figure/table labels found whose caption starts as expected.

    `got` and `want` map labels ("Figure 1") to captions (`want` holds the first words only);
    a few characters of slack allow for a label echo or stray mark before the caption text.
    """
    if not want:
        return 1.0
    ok = 0
    for label, start in want.items():
        caption = squash(got.get(label, ""))
        if label in got and squash(start) in caption[: len(squash(start)) + 20]:
            ok += 1
    return ok / len(want)


def transcript_wer(reference: str, hypothesis: str) -> float:
    """WER of a transcript against a reference; `[0.0-4.0]`-style timestamps are ignored."""
    strip = re.compile(r"\[\d+(?:\.\d+)?-\d+(?:\.\d+)?\]|\b(?:LEFT|RIGHT) channel:")
    return wer(strip.sub(" ", reference), strip.sub(" ", hypothesis))
