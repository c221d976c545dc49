"""The shipped linear text classifier: TF-IDF over character n-grams, multinomial logistic regression.

The weights live in a plain ``.npz`` file (vocabulary, idf, coefficient matrix, intercepts,
class codes, JSON metadata) loaded with ``allow_pickle=False``; inference is a sparse
dot product and a softmax in numpy, so no scikit-learn object is ever unpickled at run time.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from routing.text import features

DEFAULT_MODEL_PATH: Final[Path] = Path(__file__).parent / "model" / "classifier.npz"
FORMAT_VERSION: Final = 1

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


@dataclass(frozen=True, eq=False)
class Model:
    """Weights of a trained classifier; build with :func:`load_model` or ``routing.training.train``."""

    classes: tuple[str, ...]
    vocabulary: tuple[str, ...]
    idf: FloatArray  # (n_features,)
    coef: FloatArray  # (n_features, n_classes)
    intercept: FloatArray  # (n_classes,)
    meta: dict[str, Any] = field(default_factory=dict)
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n_features, n_classes = self.coef.shape
        if len(self.vocabulary) != n_features or self.idf.shape != (n_features,):
            raise ModelFormatError("vocabulary, idf and coefficient rows disagree")
        if len(self.classes) != n_classes or self.intercept.shape != (n_classes,):
            raise ModelFormatError("classes, intercepts and coefficient columns disagree")
        object.__setattr__(self, "index", {term: i for i, term in enumerate(self.vocabulary)})

    def predict(self, text: str, evidence: int = 5) -> Prediction:
        """Class probabilities for a raw text and the n-grams that pushed the winner most."""
        index = self.index
        known = [(j, count) for term, count in features(text).items() if (j := index.get(term)) is not None]
        rows = [j for j, _ in known]
        if rows:
            # sublinear tf (1 + ln count, as scikit-learn's sublinear_tf) times idf, computed in float64
            counts = np.fromiter((count for _, count in known), dtype=np.float64, count=len(known))
            w = ((1.0 + np.log(counts)) * self.idf[rows].astype(np.float64)).astype(np.float32)
            w /= np.float32(math.sqrt(float(w @ w)))
            block = self.coef[rows]  # (k, n_classes)
            scores = self.intercept + w @ block
        else:
            w = np.zeros(0, dtype=np.float32)
            block = np.zeros((0, len(self.classes)), dtype=np.float32)
            scores = self.intercept.copy()
        shifted = np.exp(scores - scores.max())
        probs = shifted / shifted.sum()
        best = int(np.argmax(probs))
        found: list[tuple[str, float]] = []
        if rows and evidence > 0:
            # Contribution to the winner beyond the average class: what singles the winner out.
            contrib = w * (block[:, best] - block.mean(axis=1))
            for k in np.argsort(-contrib)[:evidence]:
                if contrib[k] > 0:
                    found.append((self.vocabulary[rows[int(k)]], float(contrib[k])))
        return Prediction(self.classes, tuple(float(p) for p in probs), tuple(found))


def load_model(path: str | Path | None = None) -> Model:
    """Load a model saved by ``routing.training.save_model``; the shipped model when ``path`` is None.

    Raises :class:`ModelFormatError` when the file is not a model of a known format.
    """
    source = Path(path) if path is not None else DEFAULT_MODEL_PATH
    with np.load(source, allow_pickle=False) as data:
        try:
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT_VERSION:
                raise ModelFormatError(f"unknown model format {meta.get('format')!r}")
            return Model(
                classes=tuple(str(c) for c in data["classes"]),
                vocabulary=tuple(str(t) for t in data["vocabulary"]),
                idf=data["idf"].astype(np.float32),
                coef=data["coef"].astype(np.float32),
                intercept=data["intercept"].astype(np.float32),
                meta=meta,
            )
        except KeyError as exc:
            raise ModelFormatError(f"model file lacks {exc}") from exc


def save_arrays(model: Model, path: str | Path) -> None:
    """Write a model in the format :func:`load_model` reads (compressed ``.npz``, no pickles)."""
    meta = dict(model.meta, format=FORMAT_VERSION)
    with open(path, "wb") as out:
        np.savez_compressed(
            out,
            classes=np.array(model.classes, dtype=np.str_),
            vocabulary=np.array(model.vocabulary, dtype=np.str_),
            idf=model.idf.astype(np.float32),
            coef=model.coef.astype(np.float32),
            intercept=model.intercept.astype(np.float32),
            meta=np.array(json.dumps(meta, ensure_ascii=False)),
        )
