"""A learned reader of danger signs: the fifteen signs of ``routing.danger``, found by a model.

The readable lists of ``routing.danger`` find the words they list; a caller who says it another
way ("司机压底下了", "叫他也不应") is missed. This detector is a logistic regression per sign over
the character n-grams of a short stretch of speech, trained on phrasings of each sign written by
independent writers, and on look-alikes that show no danger (``routing.sign_training``). It reads
a call stretch by stretch: every clause (after denials and imagined dangers are blanked, as for
the lists), every two neighbouring clauses, and windows of a long unpunctuated run; a sign's
probability is its highest over the stretches.

A sign it finds becomes an indicator of the priority and assisting heads (``?trapped``, beside the
lists' ``!trapped``), so those heads learn how far to trust it; it sets no floor of its own.
Inference is a few numpy operations over one array of n-grams. Pure: no I/O.
"""

from __future__ import annotations

import functools
import itertools
from collections import Counter
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt

from routing.danger import blank_denials
from routing.text import NGRAM_MAX, NGRAM_MIN, ngrams, segments

FloatArray = npt.NDArray[np.float32]

# A run of speech longer than this (a transcript without punctuation) is read in windows of this
# many characters, each starting half a window after the previous one.
WINDOW: Final = 16
STEP: Final = 8
# The probability from which a sign counts as shown, unless the detector names its own: of 0.20,
# 0.25 … 0.60 the one of best F1 (two decimals; ties to the higher) on the phrasings' development
# fifth (``python -m routing.sign_training``).
SHOWN_ABOVE: Final = 0.3


def clauses(normalised: str) -> list[str]:
    """The clauses of a normalised text the detector reads: runs of letters, digits and CJK
    characters after denials and imagined dangers are blanked, long runs cut into overlapping
    windows."""
    pieces: list[str] = []
    for run in segments(blank_denials(normalised)):
        if len(run) <= WINDOW:
            pieces.append(run)
            continue
        last = len(run) - WINDOW
        starts = list(range(0, last + 1, STEP))
        if starts[-1] != last:
            starts.append(last)
        pieces.extend(run[i : i + WINDOW] for i in starts)
    return pieces


def stretch_terms(stretch: str) -> Counter[str]:
    """The features of one stretch of speech as training reads it: the character n-grams of
    ``routing.text.ngrams`` (``SignDetector.probabilities`` forms the same n-grams clause by
    clause)."""
    return ngrams(stretch)


@dataclass(frozen=True, eq=False)
class SignDetector:
    """Weights of the sign detector: TF-IDF over n-grams, one logistic regression per sign."""

    signs: tuple[str, ...]  # sign codes, one column each
    vocabulary: tuple[str, ...]
    idf: FloatArray  # (n_features,)
    coef: FloatArray  # (n_features, n_signs)
    intercept: FloatArray  # (n_signs,)
    above: float = SHOWN_ABOVE
    index: dict[str, int] = field(init=False, repr=False)
    _weighted: FloatArray = field(init=False, repr=False)  # idf × coef, row by row
    _idf_squared: FloatArray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n, k = len(self.vocabulary), len(self.signs)
        if self.idf.shape != (n,) or self.coef.shape != (n, k) or self.intercept.shape != (k,):
            raise ValueError("the sign detector's vocabulary, weights and signs disagree")
        object.__setattr__(self, "index", {term: i for i, term in enumerate(self.vocabulary)})
        object.__setattr__(self, "_weighted", np.ascontiguousarray(self.idf[:, None] * self.coef, dtype=np.float32))
        object.__setattr__(self, "_idf_squared", (self.idf * self.idf).astype(np.float32))

    def probabilities(self, normalised: str) -> dict[str, float]:
        """Each sign's probability in a normalised text: its highest over the text's stretches,
        a stretch being one clause or two neighbouring ones (whose n-gram weights are added: an
        n-gram found in both counts twice)."""
        pieces = clauses(normalised)
        sizes = range(NGRAM_MIN, NGRAM_MAX + 1)
        grams = [piece[i : i + n] for piece in pieces for n in sizes for i in range(len(piece) - n + 1)]
        n_terms = len(self.vocabulary)
        # Each n-gram's row in the vocabulary (-1 when unknown) and the number of its clause.
        rows = np.fromiter(map(self.index.get, grams, itertools.repeat(-1)), dtype=np.int64, count=len(grams))
        per_clause = [sum(max(len(p) - n + 1, 0) for n in sizes) for p in pieces]
        clause_number = np.repeat(np.arange(len(pieces), dtype=np.int64), per_clause)
        known = rows >= 0
        if not known.any():
            return self._sigmoids(self.intercept)
        # One key per (clause, term): counted, they are each clause's term frequencies, in order.
        found = np.unique(clause_number[known] * n_terms + rows[known], return_counts=True)
        unique: npt.NDArray[np.int64] = np.asarray(found[0])
        counts: npt.NDArray[np.int64] = np.asarray(found[1])
        at = np.remainder(unique, n_terms)
        clause_of = np.floor_divide(unique, n_terms)
        tf = 1.0 + np.log(counts.astype(np.float32))  # sublinear term frequency; × idf below
        changes = np.ones(len(clause_of), dtype=np.bool_)
        changes[1:] = clause_of[1:] != clause_of[:-1]
        begin = np.flatnonzero(changes)
        square = np.add.reduceat(tf * tf * self._idf_squared[at], begin)  # per clause
        raw = np.add.reduceat(tf[:, None] * self._weighted[at], begin, axis=0)  # per clause, per sign
        if len(begin) > 1:  # and each two neighbouring clauses (that both have known n-grams)
            square = np.concatenate([square, square[:-1] + square[1:]])
            raw = np.concatenate([raw, raw[:-1] + raw[1:]])
        return self._sigmoids((raw / np.sqrt(square)[:, None]).max(axis=0) + self.intercept)

    def _sigmoids(self, scores: FloatArray) -> dict[str, float]:
        return dict(zip(self.signs, (1.0 / (1.0 + np.exp(-scores))).tolist(), strict=True))

    def detect(self, normalised: str) -> dict[str, float]:
        """The signs shown in a normalised text (probability at least ``above``), most likely first."""
        return dict(_detected(self, normalised))


# The priority head, the assisting head and the reasons all ask about one text: read once.
@functools.lru_cache(maxsize=4096)
def _detected(detector: SignDetector, normalised: str) -> tuple[tuple[str, float], ...]:
    found = [(code, p) for code, p in detector.probabilities(normalised).items() if p >= detector.above]
    return tuple(sorted(found, key=lambda item: -item[1]))
