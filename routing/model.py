"""The shipped linear text classifier: TF-IDF over character n-grams, logistic regression heads.

One feature vector (``routing.text.features``: n-grams, lexicon concepts, danger signs) feeds
three heads: the category (multinomial, with a calibration temperature), the priority
(multinomial over P1..P4) and the assisting agencies (one binary logistic regression per
agency). The weights live in a plain ``.npz`` file (vocabulary, idf, coefficient matrices,
intercepts, class codes, JSON metadata) loaded with ``allow_pickle=False``; inference is one
sparse dot product and a softmax or sigmoid per head in numpy, so no scikit-learn object is
ever unpickled at run time. A format-1 file (category head only) still loads; its priority
and assisting agencies then come from the rules alone.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from routing.sign_detector import SHOWN_ABOVE, SignDetector
from routing.text import features

DEFAULT_MODEL_PATH: Final[Path] = Path(__file__).parent / "model" / "classifier.npz"
FORMAT_VERSION: Final = 2
KNOWN_FORMATS: Final = frozenset({1, 2})

FloatArray = npt.NDArray[np.float32]


class ModelFormatError(ValueError):
    """The model file is missing arrays, has inconsistent shapes or an unknown format version."""


@dataclass(frozen=True, slots=True)
class Prediction:
    """Class probabilities for one text, plus what the winning class's score was made of."""

    classes: tuple[str, ...]
    probabilities: tuple[float, ...]
    # (n-gram, contribution to the winning class's score relative to the mean class), largest first.
    evidence: tuple[tuple[str, float], ...]
    # The priority head: probabilities of P1..P4 (empty when the model has no such head).
    priorities: tuple[tuple[str, float], ...] = ()
    # The assisting head: agency → probability that it must assist (empty without the head).
    assisting: tuple[tuple[str, float], ...] = ()
    # The priority head's scores from the text alone (before the rule and default indicators).
    priority_scores: tuple[float, ...] = ()
    # The assisting head's scores from the text alone (before its indicators).
    assist_scores: tuple[float, ...] = ()

    @property
    def best(self) -> str:
        """The most probable class."""
        return self.classes[self.best_index]

    @property
    def best_index(self) -> int:
        """Index of the most probable class."""
        return max(range(len(self.probabilities)), key=self.probabilities.__getitem__)

    def ranked(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable classes with their probabilities, best first."""
        order = sorted(range(len(self.classes)), key=lambda i: -self.probabilities[i])
        return [(self.classes[i], self.probabilities[i]) for i in order[:k]]


@dataclass(frozen=True, slots=True)
class Head:
    """A linear head over the shared features: ``classes`` columns of weights and intercepts."""

    classes: tuple[str, ...]
    coef: FloatArray  # (n_features, n_classes)
    intercept: FloatArray  # (n_classes,)
    # Weights of indicator features outside the text's normalisation: for the priority head, the
    # priority the readable rules give (P1..P4), the category's default (P1..P4), then one row
    # per name of the model's ``priority_indicators`` (danger signs and urgency cues).
    extra: FloatArray | None = None


@dataclass(frozen=True, eq=False)
class Model:
    """Weights of a trained classifier; build with :func:`load_model` or ``routing.training.train``."""

    classes: tuple[str, ...]
    vocabulary: tuple[str, ...]
    idf: FloatArray  # (n_features,)
    coef: FloatArray  # (n_features, n_classes)
    intercept: FloatArray  # (n_classes,)
    meta: dict[str, Any] = field(default_factory=dict)
    priority: Head | None = None  # multinomial over P1..P4
    assist: Head | None = None  # one sigmoid per agency
    signs: SignDetector | None = None  # the learned reader of danger signs (``?trapped`` …)
    index: dict[str, int] = field(init=False, repr=False)
    weights: FloatArray = field(init=False, repr=False)  # every head's columns side by side
    bias: FloatArray = field(init=False, repr=False)
    _indicator_rows: dict[str, int] = field(init=False, repr=False)
    # Per agency, the assisting probability from which it assists (``assist_above`` in the
    # metadata, chosen on development examples at training time); others use the default.
    assist_above: dict[str, float] = field(init=False, repr=False)
    _assist_rows: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_features, n_classes = self.coef.shape
        if len(self.vocabulary) != n_features or self.idf.shape != (n_features,):
            raise ModelFormatError("vocabulary, idf and coefficient rows disagree")
        if len(self.classes) != n_classes or self.intercept.shape != (n_classes,):
            raise ModelFormatError("classes, intercepts and coefficient columns disagree")
        for head in (self.priority, self.assist):
            if head is not None and (
                head.coef.shape != (n_features, len(head.classes)) or head.intercept.shape != (len(head.classes),)
            ):
                raise ModelFormatError("a head's weights disagree with the vocabulary or its classes")
        object.__setattr__(self, "index", {term: i for i, term in enumerate(self.vocabulary)})
        heads = [h for h in (self.priority, self.assist) if h is not None]
        weights = np.hstack([self.coef, *(h.coef for h in heads)]).astype(np.float32)
        bias = np.concatenate([self.intercept, *(h.intercept for h in heads)]).astype(np.float32)
        object.__setattr__(self, "weights", np.ascontiguousarray(weights))
        object.__setattr__(self, "bias", bias)
        object.__setattr__(
            self, "_assist_rows", {name: i for i, name in enumerate(self.meta.get("assist_indicators", ()))}
        )
        thresholds = {str(a): float(t) for a, t in self.meta.get("assist_above", {}).items()}
        object.__setattr__(self, "assist_above", thresholds)
        # The priority head's extra rows: rule P1..P4, default P1..P4, then the named indicators.
        object.__setattr__(
            self, "_indicator_rows", {name: 8 + i for i, name in enumerate(self.meta.get("priority_indicators", ()))}
        )

    @property
    def temperature(self) -> float:
        """The calibration temperature of the category head (1.0: uncalibrated)."""
        return float(self.meta.get("temperature", 1.0))

    @property
    def uncertain_below(self) -> float:
        """Calibrated category probability under which a suggestion is flagged uncertain."""
        return float(self.meta.get("uncertain_below", 0.5))

    def predict(self, text: str, evidence: int = 5) -> Prediction:
        """Probabilities of every head for a raw text, and the n-grams that pushed the category most.

        Category probabilities are calibrated: the scores are divided by the model's temperature
        before the softmax (the ranking does not change).
        """
        terms = features(text)
        # Each term's row in the vocabulary (-1 when unknown), looked up in one pass.
        found_at = np.fromiter(map(self.index.get, terms, itertools.repeat(-1)), dtype=np.int64, count=len(terms))
        known = found_at >= 0
        rows = found_at[known]
        n_classes = len(self.classes)
        if len(rows):
            # sublinear tf (1 + ln count, as scikit-learn's sublinear_tf) times idf, computed in float64
            counts = np.fromiter(terms.values(), dtype=np.float64, count=len(terms))[known]
            w = ((1.0 + np.log(counts)) * self.idf[rows].astype(np.float64)).astype(np.float32)
            w /= np.float32(math.sqrt(float(w @ w)))
            block = self.weights[rows]  # (k, all columns)
            scores = self.bias + w @ block
        else:
            w = np.zeros(0, dtype=np.float32)
            block = np.zeros((0, self.weights.shape[1]), dtype=np.float32)
            scores = self.bias.copy()
        category_scores = scores[:n_classes] / np.float32(self.temperature)
        shifted = np.exp(category_scores - category_scores.max())
        probs = shifted / shifted.sum()
        best = int(np.argmax(probs))
        found: list[tuple[str, float]] = []
        if len(rows) and evidence > 0:
            # Contribution to the winner beyond the average class: what singles the winner out.
            cat_block = block[:, :n_classes]
            contrib = w * (cat_block[:, best] - cat_block.mean(axis=1))
            for k in np.argsort(-contrib)[:evidence]:
                if contrib[k] > 0:
                    found.append((self.vocabulary[int(rows[k])], float(contrib[k])))
        priorities: tuple[tuple[str, float], ...] = ()
        assisting: tuple[tuple[str, float], ...] = ()
        p_raw: tuple[float, ...] = ()
        a_raw: tuple[float, ...] = ()
        at = n_classes
        if self.priority is not None:
            p_scores = scores[at : at + len(self.priority.classes)]
            p_raw = tuple(float(x) for x in p_scores)
            at += len(self.priority.classes)
            priorities = self._priority_probabilities(p_scores)
        if self.assist is not None:
            a_scores = scores[at : at + len(self.assist.classes)]
            a_raw = tuple(float(x) for x in a_scores)
            assisting = _sigmoid(self.assist.classes, a_scores)
        return Prediction(
            self.classes, tuple(float(p) for p in probs), tuple(found), priorities, assisting, p_raw, a_raw
        )

    @property
    def ordinal_priority(self) -> bool:
        """Whether the priority head is ordinal: one sigmoid per cut, P(priority at least as
        urgent as P1), (… as P2), (… as P3), instead of a softmax over classes."""
        return self.meta.get("priority_target") == "ordinal"

    def _priority_probabilities(self, scores: FloatArray) -> tuple[tuple[str, float], ...]:
        assert self.priority is not None
        if not self.ordinal_priority:
            return _softmax(self.priority.classes, scores)
        return _cumulative(scores)

    @property
    def priority_indicators(self) -> tuple[str, ...]:
        """Names of the priority head's indicators beyond the rule and default ones (danger
        signs ``!name`` and urgency cues ``~name``); empty for a model trained without them."""
        return tuple(str(name) for name in self.meta.get("priority_indicators", ()))

    def priority_given(
        self, prediction: Prediction, rule: int, default: int, active: Iterable[str] = ()
    ) -> tuple[tuple[str, float], ...]:
        """The priority head's probabilities once it knows what the readable rules decide
        (``rule``, 0 for P1 .. 3 for P4), the category's default (``default``, likewise) and
        which of its other indicators the text shows (``active``: names such as ``!trapped``,
        ``~past``; names the model was not trained with are ignored)."""
        head = self.priority
        if head is None or head.extra is None or not prediction.priority_scores:
            return prediction.priorities
        scores = np.array(prediction.priority_scores, dtype=np.float32) + head.extra[rule] + head.extra[4 + default]
        rows = self._indicator_rows
        for name in active:
            row = rows.get(name)
            if row is not None and row < head.extra.shape[0]:
                scores = scores + head.extra[row]
        return self._priority_probabilities(scores)

    @property
    def assist_learns_rules(self) -> bool:
        """Whether the assisting head was trained with what the readable rules add (then its
        probability is the decision; otherwise the rules add agencies on their own)."""
        return "+health" in self._assist_rows

    def assisting_given(self, prediction: Prediction, active: Iterable[str]) -> tuple[tuple[str, float], ...]:
        """The assisting head's probabilities once it knows its indicators the call shows
        (``active``: ``+agency`` for an agency the readable assisting rules add, danger signs,
        urgency cues); a model trained without them returns the text's probabilities."""
        head = self.assist
        if head is None or head.extra is None or not prediction.assist_scores:
            return prediction.assisting
        scores = np.array(prediction.assist_scores, dtype=np.float32)
        rows = self._assist_rows
        for name in active:
            row = rows.get(name)
            if row is not None:
                scores = scores + head.extra[row]
        return _sigmoid(head.classes, scores)


def _sigmoid(classes: tuple[str, ...], scores: FloatArray) -> tuple[tuple[str, float], ...]:
    p = 1.0 / (1.0 + np.exp(-scores))
    return tuple(zip(classes, (float(x) for x in p), strict=True))


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def _cumulative(scores: FloatArray) -> tuple[tuple[str, float], ...]:
    """P1..P4 from an ordinal head's three cut scores: P(≤P1), P(≤P2), P(≤P3), kept monotone.
    (Plain floats: three numbers cost less than numpy's calls.)"""
    first, second, third = (float(x) for x in scores)
    p1 = _logistic(first)
    p2 = max(p1, _logistic(second))
    p3 = max(p2, _logistic(third))
    return (("P1", p1), ("P2", p2 - p1), ("P3", p3 - p2), ("P4", 1.0 - p3))


def _softmax(classes: tuple[str, ...], scores: FloatArray) -> tuple[tuple[str, float], ...]:
    p = np.exp(scores - scores.max())
    p /= p.sum()
    return tuple(zip(classes, (float(x) for x in p), strict=True))


def _head(data: Any, name: str) -> Head | None:
    if f"{name}_coef" not in data:
        return None
    return Head(
        classes=tuple(str(c) for c in data[f"{name}_classes"]),
        coef=data[f"{name}_coef"].astype(np.float32),
        intercept=data[f"{name}_intercept"].astype(np.float32),
        extra=data[f"{name}_extra"].astype(np.float32) if f"{name}_extra" in data else None,
    )


def _detector(data: Any, meta: dict[str, Any]) -> SignDetector | None:
    if "signs_coef" not in data:
        return None
    return SignDetector(
        signs=tuple(str(c) for c in data["signs_classes"]),
        vocabulary=tuple(str(t) for t in data["signs_vocabulary"]),
        idf=data["signs_idf"].astype(np.float32),
        coef=data["signs_coef"].astype(np.float32),
        intercept=data["signs_intercept"].astype(np.float32),
        above=float(meta.get("signs_above", SHOWN_ABOVE)),
    )


def load_model(path: str | Path | None = None) -> Model:
    """Load a model saved by ``routing.training.save_model``; the shipped model when ``path`` is None.

    Raises :class:`ModelFormatError` when the file is not a model of a known format.
    """
    source = Path(path) if path is not None else DEFAULT_MODEL_PATH
    with np.load(source, allow_pickle=False) as data:
        try:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") not in KNOWN_FORMATS:
                raise ModelFormatError(f"unknown model format {meta.get('format')!r}")
            return Model(
                classes=tuple(str(c) for c in data["classes"]),
                vocabulary=tuple(str(t) for t in data["vocabulary"]),
                idf=data["idf"].astype(np.float32),
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                meta=meta,
                priority=_head(data, "priority"),
                assist=_head(data, "assist"),
                signs=_detector(data, meta),
            )
        except KeyError as exc:
            raise ModelFormatError(f"model file lacks {exc}") from exc


def save_arrays(model: Model, path: str | Path) -> None:
    """Write a model in the format :func:`load_model` reads (compressed ``.npz``, no pickles)."""
    meta = dict(model.meta, format=FORMAT_VERSION)
    heads: dict[str, Any] = {}
    for name, head in (("priority", model.priority), ("assist", model.assist)):
        if head is not None:
            heads[f"{name}_classes"] = np.array(head.classes, dtype=np.str_)
            heads[f"{name}_coef"] = head.coef.astype(np.float16)
            heads[f"{name}_intercept"] = head.intercept.astype(np.float32)
            if head.extra is not None:
                heads[f"{name}_extra"] = head.extra.astype(np.float32)
    if model.signs is not None:
        meta["signs_above"] = model.signs.above
        heads["signs_classes"] = np.array(model.signs.signs, dtype=np.str_)
        heads["signs_vocabulary"] = np.array(model.signs.vocabulary, dtype=np.str_)
        heads["signs_idf"] = model.signs.idf.astype(np.float32)
        heads["signs_coef"] = model.signs.coef.astype(np.float16)
        heads["signs_intercept"] = model.signs.intercept.astype(np.float32)
    with open(path, "wb") as out:
        np.savez_compressed(
            out,
            **heads,
            classes=np.array(model.classes, dtype=np.str_),
            vocabulary=np.array(model.vocabulary, dtype=np.str_),
            idf=model.idf.astype(np.float32),
            coef=model.coef.astype(np.float16),
            intercept=model.intercept.astype(np.float32),
            meta=np.array(json.dumps(meta, ensure_ascii=False)),
        )
