"""The offline support judge (lexical + embedding, as in the grounding check) and its calibration.

`judge_support` scores a claim against the passages it cites with the same blend the podcast
graph's grounding check uses, then caps it by the claim's weakest clause: a true sentence with
an invented clause appended ("..., which NASA funded in 1969") keeps most of its words
supported, but that clause has none. `calibrate` picks the threshold that best separates
hand-labelled supported from unsupported pairs (evals/datasets/support_pairs.yaml).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from agents.grounding import LEXICAL_WEIGHT, content_words, lexical_support
from tools.embed import embed
from tools.lang import Lang

CLAUSE_FLOOR = 0.4  # the cap when a clause has none of its content words in the passages
_CLAUSE = re.compile(r",\s+(?=(?:which|who|and|but|mostly|because|while|although|so)\b)"
                     r"|;\s+|\s+[-\u2013\u2014]\s+")


def weakest_clause(claim: str, evidence: str, lang: Lang | None = None) -> float:
    """Lexical support of the claim's least supported clause (1.0 for a single clause)."""
    parts = [c for c in _CLAUSE.split(claim) if len(content_words(c, lang=lang)) >= 3]
    if len(parts) < 2:
        return 1.0
    return min(lexical_support(c, evidence, lang=lang) for c in parts)


def judge_support(claim: str, passages: Sequence[str]) -> float:
    """Support in [0, 1] of a claim by its passages (0.0 when it cites none)."""
    return judge_many([(claim, list(passages))])[0]


def judge_many(items: Sequence[tuple[str, Sequence[str]]],
               lang: Lang | None = None) -> list[float]:
    """`judge_support` for many (claim, passages) items, embedding everything in one batch;
    words are compared with the stop words and stemmer of the claims' language."""
    texts: list[str] = []
    for claim, passages in items:
        texts += [claim, *passages]
    vecs = embed(texts) if texts else np.zeros((0, 384))
    scores: list[float] = []
    i = 0
    for claim, passages in items:
        claim_vec, passage_vecs = vecs[i], vecs[i + 1: i + 1 + len(passages)]
        i += 1 + len(passages)
        if not passages:
            scores.append(0.0)
            continue
        evidence = "\n".join(passages)
        lex = lexical_support(claim, evidence, lang=lang)
        cos = max(0.0, float(np.max(passage_vecs @ claim_vec)))
        blend = LEXICAL_WEIGHT * lex + (1 - LEXICAL_WEIGHT) * cos
        cap = CLAUSE_FLOOR + (1 - CLAUSE_FLOOR) * weakest_clause(claim, evidence, lang)
        scores.append(round(min(blend, cap), 4))
    return scores


@dataclass(frozen=True)
class Calibration:
    threshold: float
    accuracy: float
    precision: float
    recall: float
    pairs: int


def confusion(scores: Sequence[float], labels: Sequence[bool],
              threshold: float) -> tuple[float, float, float]:
    """Accuracy, precision and recall of "score >= threshold means supported"."""
    pred = [s >= threshold for s in scores]
    tp = sum(1 for p, y in zip(pred, labels, strict=True) if p and y)
    fp = sum(1 for p, y in zip(pred, labels, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(pred, labels, strict=True) if not p and y)
    correct = sum(1 for p, y in zip(pred, labels, strict=True) if p == y)
    return (correct / max(1, len(labels)), tp / (tp + fp) if tp + fp else 1.0,
            tp / (tp + fn) if tp + fn else 1.0)


def calibrate(scores: Sequence[float], labels: Sequence[bool]) -> Calibration:
    """The threshold with the best accuracy; ties go to the best precision, then the highest.

    Candidates are the midpoints between consecutive distinct scores (and the ends).
    """
    if not scores or len(scores) != len(labels):
        raise ValueError("calibrate needs as many labels as scores, at least one")
    distinct = sorted(set(scores))
    cands = [distinct[0]] + [round((a + b) / 2, 4) for a, b in zip(distinct, distinct[1:],
                                                                    strict=False)]
    cands.append(distinct[-1] + 1e-4)
    best: tuple[float, float, float] | None = None
    chosen = Calibration(cands[0], 0.0, 0.0, 0.0, len(scores))
    for t in cands:
        acc, prec, rec = confusion(scores, labels, t)
        key = (acc, prec, t)
        if best is None or key > best:
            best = key
            chosen = Calibration(round(t, 4), round(acc, 4), round(prec, 4), round(rec, 4),
                                 len(scores))
    return chosen
