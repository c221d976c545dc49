"""Training the learned reader of danger signs (``routing.sign_detector``); not on the runtime path.

Data: ``routing/data/signs/*.jsonl``, one phrasing a line (``sign``, ``danger``, ``text``,
``register``), written by independent writers from a description of each sign: for each sign,
stretches of speech that show it now and look-alikes that do not (denied, over, imagined, another
sense of the word). A phrasing that shows a sign is a positive of that sign and a negative of the
others; a look-alike is a negative of all. The stretches of calls that show no danger (an
independent call at P4, or at P3 in a category whose default is P3 or P4) are negatives too, so the
detector meets the everyday words of every category. One logistic regression per sign over
sublinear TF-IDF of the stretch's n-grams (``routing.sign_detector.stretch_terms``), seeded.

``python -m routing.sign_training`` prints precision, recall and F1 on the development fifth of
the phrasings (a hash of the text, as ``routing.dev_split.is_dev``) per threshold, and each sign's
figures at the shipped threshold.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from routing.danger import SIGNS, blank_denials
from routing.dev_split import is_dev
from routing.sign_detector import SHOWN_ABOVE, SignDetector, clauses, stretch_terms
from routing.text import normalise, segments

SIGNS_DIR: Final = Path(__file__).parent / "data" / "signs"
SIGN_PATHS: Final = tuple(sorted(SIGNS_DIR.glob("*.jsonl")))
SIGN_CODES: Final = tuple(sign.code for sign in SIGNS)
# Regularisation of each sign's logistic regression; chosen on the phrasings' development fifth.
SIGN_C: Final = 30.0
# A stretch of a call without danger weighs this much beside a written phrasing.
BACKGROUND_WEIGHT: Final = 0.1
SEED: Final = 110


@dataclass(frozen=True, slots=True)
class Phrasing:
    """One written stretch of speech: the sign it shows (or resembles) and whether it shows it."""

    sign: str
    danger: bool
    text: str


def load_phrasings(paths: Iterable[str | Path] = SIGN_PATHS) -> list[Phrasing]:
    """Every phrasing of ``paths``; an unknown sign is an error."""
    found: list[Phrasing] = []
    for path in paths:
        with open(path, encoding="utf-8") as lines:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if record["sign"] not in SIGN_CODES:
                    raise ValueError(f"{path}:{number}: unknown sign {record['sign']!r}")
                found.append(Phrasing(str(record["sign"]), bool(record["danger"]), str(record["text"])))
    return found


def _terms(stretch: str) -> list[str]:
    return [term for term, count in stretch_terms(stretch).items() for _ in range(count)]


def _joined(text: str) -> str:
    """A written phrasing read as one stretch: normalised, denials blanked, clauses kept apart."""
    return " ".join(segments(blank_denials(normalise(text))))


def train_sign_detector(
    phrasings: Sequence[Phrasing], background: Iterable[str] = (), *, c: float = SIGN_C
) -> SignDetector:
    """Fit the detector on ``phrasings`` plus the stretches of ``background`` call texts (which
    show no danger). Deterministic for given data."""
    texts = [_joined(p.text) for p in phrasings]
    labels = [p.sign if p.danger else "" for p in phrasings]
    weights = [1.0] * len(texts)
    for call in background:
        for stretch in clauses(normalise(call)):
            texts.append(stretch)
            labels.append("")
            weights.append(BACKGROUND_WEIGHT)
    vectorizer = TfidfVectorizer(analyzer=_terms, sublinear_tf=True, min_df=2, dtype=np.float32)
    matrix = vectorizer.fit_transform(texts)
    sample_weight = np.array(weights)
    columns: list[np.ndarray] = []
    intercepts: list[float] = []
    for code in SIGN_CODES:
        target = np.array([label == code for label in labels])
        if not target.any():
            columns.append(np.zeros(matrix.shape[1], dtype=np.float32))
            intercepts.append(-8.0)
            continue
        classifier = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
        classifier.fit(matrix, target, sample_weight=sample_weight)
        columns.append(np.asarray(classifier.coef_[0], dtype=np.float32))
        intercepts.append(float(classifier.intercept_[0]))
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    coef = np.stack(columns, axis=1).astype(np.float16).astype(np.float32)  # as stored
    return SignDetector(
        signs=SIGN_CODES,
        vocabulary=tuple(vocabulary),
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        coef=np.ascontiguousarray(coef),
        intercept=np.array(intercepts, dtype=np.float32),
        above=SHOWN_ABOVE,
    )


def sign_scores(detector: SignDetector, phrasings: Iterable[Phrasing]) -> dict[str, tuple[float, float, int]]:
    """Per sign, (precision, recall, positives) of ``detector`` on ``phrasings``, each read as a call."""
    tp: dict[str, int] = dict.fromkeys(SIGN_CODES, 0)
    guessed: dict[str, int] = dict.fromkeys(SIGN_CODES, 0)
    actual: dict[str, int] = dict.fromkeys(SIGN_CODES, 0)
    for p in phrasings:
        found = detector.detect(normalise(p.text))
        for code in found:
            guessed[code] += 1
        if p.danger:
            actual[p.sign] += 1
            tp[p.sign] += p.sign in found
    return {
        code: (_ratio(tp[code], guessed[code]), _ratio(tp[code], actual[code]), actual[code]) for code in SIGN_CODES
    }


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


THRESHOLD_GRID: Final = tuple(round(0.2 + 0.05 * i, 2) for i in range(9))  # 0.20 .. 0.60


def threshold_scores(detector: SignDetector, phrasings: Iterable[Phrasing]) -> dict[float, tuple[float, float, float]]:
    """Per threshold of ``THRESHOLD_GRID``, (precision, recall, F1) of every sign over
    ``phrasings``: a phrasing that shows a sign is found when its sign reaches the threshold;
    any other sign reaching it is a false alarm, as is any sign on a look-alike."""
    read = [(p, detector.probabilities(normalise(p.text))) for p in phrasings]
    scores: dict[float, tuple[float, float, float]] = {}
    for t in THRESHOLD_GRID:
        tp = fp = fn = 0
        for p, probabilities in read:
            found = {code for code, value in probabilities.items() if value >= t}
            if p.danger:
                tp += p.sign in found
                fn += p.sign not in found
                found.discard(p.sign)
            fp += len(found)
        precision, recall = _ratio(tp, tp + fp), _ratio(tp, tp + fn)
        scores[t] = (precision, recall, 2 * precision * recall / (precision + recall) if tp else 0.0)
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    """The detector fitted without the phrasings' development fifth, scored on it: precision,
    recall and F1 per threshold (``SHOWN_ABOVE`` is the one of best F1, ties to the higher),
    then each sign's precision and recall at ``SHOWN_ABOVE``."""
    from routing.training import no_danger_calls

    phrasings = load_phrasings()
    dev_part = [p for p in phrasings if is_dev(p.text)]
    detector = train_sign_detector([p for p in phrasings if not is_dev(p.text)], no_danger_calls())
    print(f"{len(phrasings)} phrasings, {len(dev_part)} in the development fifth; C={SIGN_C}")
    for t, (precision, recall, f1) in threshold_scores(detector, dev_part).items():
        print(f"  above {t:.2f}: precision {precision:.3f}  recall {recall:.3f}  F1 {f1:.3f}")
    print(f"per sign at {SHOWN_ABOVE}:")
    for code, (precision, recall, n) in sign_scores(detector, dev_part).items():
        print(f"  {code:18} precision {precision:.2f}  recall {recall:.2f}  ({n} phrasings)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
