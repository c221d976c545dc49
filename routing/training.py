"""Training and evaluation tools for the request classifier (file I/O allowed; not on the runtime path).

Usage::

    python -m routing.training train [--out routing/model/classifier.npz] [--extra corrections.jsonl]
    python -m routing.training evaluate [--model PATH] [FILE.jsonl ...]
    python -m routing.training agree [LABELLED.jsonl RELABELLED.jsonl]

``train`` fits TF-IDF over character n-grams (``routing.text.features``) and a multinomial
logistic regression, then exports plain arrays (``routing.model.Model``). ``evaluate`` runs the
full :func:`routing.classify` pipeline (model + rules) over labelled examples and reports
lead agency, category and priority accuracy, assisting agencies precision and recall, per
category precision and recall, and the most frequent confusions. ``retrain`` is the loop the
call-taker corrections go through: train on the corpus plus corrections and compare held-out
reports before and after.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

try:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
except ModuleNotFoundError as missing:  # training is an optional extra; the service never trains
    _MESSAGE = "retraining needs scikit-learn and scipy, which are not installed: pip install -e '.[train]'"
    if __name__ == "__main__":
        raise SystemExit(f"python -m routing.training: {_MESSAGE}") from None
    raise ModuleNotFoundError(_MESSAGE, name=missing.name) from missing

from agencies import AGENCIES, CATEGORIES, PRIORITIES
from routing.classifier import (
    ASSIST_ABOVE,
    assist_evidence,
    classify,
    model_priority_probabilities,
    priority_indicators_shown,
    shown_indicators,
)
from routing.cues import CUES
from routing.danger import SIGNS
from routing.dev_split import is_dev
from routing.model import DEFAULT_MODEL_PATH, Head, Model, load_model, save_arrays
from routing.rules import decide_assisting, decide_priority
from routing.sign_detector import SignDetector
from routing.sign_training import SIGN_PATHS, load_phrasings, train_sign_detector
from routing.text import features, normalise

DATA_DIR: Final = Path(__file__).parent / "data"
CORPUS_PATH: Final = DATA_DIR / "corpus.jsonl"
HELDOUT_PATH: Final = DATA_DIR / "heldout.jsonl"
DEV_PATH: Final = DATA_DIR / "dev.jsonl"
# Calls written independently in seven registers (docs/routing.md, "Data"): training calls, of
# which a fixed fifth (by a hash of the text) is kept back for tuning, and a held-out set.
INDEPENDENT_TRAIN_PATH: Final = DATA_DIR / "independent" / "train.jsonl"
INDEPENDENT_HELDOUT_PATH: Final = DATA_DIR / "independent" / "heldout.jsonl"
# More training calls by further writers, from the same guide; train-e, train-f, train-g, train-i
# and train-k were held-out sets, retired into training once scored.
INDEPENDENT_TRAIN_PATHS: Final = (
    INDEPENDENT_TRAIN_PATH,
    DATA_DIR / "independent" / "train-a.jsonl",
    DATA_DIR / "independent" / "train-b.jsonl",
    DATA_DIR / "independent" / "train-c.jsonl",
    DATA_DIR / "independent" / "train-d.jsonl",
    DATA_DIR / "independent" / "train-e.jsonl",
    DATA_DIR / "independent" / "train-f.jsonl",
    DATA_DIR / "independent" / "train-g.jsonl",
    DATA_DIR / "independent" / "train-h.jsonl",
    DATA_DIR / "independent" / "train-i.jsonl",
    DATA_DIR / "independent" / "train-j.jsonl",
    DATA_DIR / "independent" / "train-k.jsonl",
    DATA_DIR / "independent" / "train-l.jsonl",
)
# Independent files labelled again, blind, by another person (``id`` = line of the labelled file):
# how far two labellers agree is the ceiling on what such labels can measure. (labelled,
# relabelling) pairs; ``agree`` compares the first by default.
RELABELLINGS: Final = (
    (DATA_DIR / "independent" / "train-e.jsonl", DATA_DIR / "independent" / "train-e-relabel.jsonl"),
    (DATA_DIR / "independent" / "train-i.jsonl", DATA_DIR / "independent" / "train-i-relabel.jsonl"),
    (DATA_DIR / "independent" / "train-k.jsonl", DATA_DIR / "independent" / "train-k-relabel.jsonl"),
)
TRAINING_PATHS: Final = (CORPUS_PATH, *INDEPENDENT_TRAIN_PATHS)
SAMPLE_PATH: Final = Path(__file__).resolve().parents[2] / "shared" / "data" / "requests-sample.jsonl"

# Regularisation of the logistic regressions; chosen on the development examples.
DEFAULT_C: Final = 20.0
PRIORITY_C: Final = 3.0
ASSIST_C: Final = 10.0
MIN_DF: Final = 2
# A call-taker's correction counts as this many corpus examples: it is rare and it is right.
CORRECTION_WEIGHT: Final = 8.0
# An independently written call counts as this many generated corpus examples: it is closer to
# how people really call, and there are far fewer of them. Chosen on the development examples.
INDEPENDENT_WEIGHT: Final = 3.0
# Calibrated category probability under which a suggestion is flagged ``uncertain``.
UNCERTAIN_BELOW: Final = 0.6
# The priority head learns steps from the category's default ("delta"), the priority itself
# ("absolute"), or the priority as an ordered scale ("ordinal": one binary logistic regression
# per cut, P1 | P2–P4, P1–P2 | P3–P4, P1–P3 | P4); the corpus weighs this much in it. Chosen on
# the development examples (docs/routing.md, "Scores").
PRIORITY_TARGET: Final = "ordinal"
# Whether the priority head also sees each sign and cue paired with the category's default.
PRIORITY_INTERACTIONS: Final = True
CORPUS_PRIORITY_WEIGHT: Final = 0.3
# The value of the rule and default indicators beside the L2-normalised text features.
INDICATOR_SCALE: Final = 3.0
# Whether the assisting head learns from what the readable assisting rules add, the signs and the
# cues (then its probability decides alone) or from the text only (then the rules add agencies).
ASSIST_INDICATORS: Final = True
# Whether each agency gets the assisting threshold of best F1 on the development examples
# (``choose_assist_thresholds``) or every agency the default ``ASSIST_ABOVE``. Chosen on the
# development examples: thresholds chosen on one half of them do no better on the other half than
# the default (docs/routing.md, "Scores"), so the default is kept.
CHOOSE_ASSIST_THRESHOLDS: Final = False
# The P1 recall the priority head's P1 cut is set for on the development examples: the cut is
# the highest of 0.30, 0.29 … 0.05 at which the whole pipeline (head and floor) finds this share
# of the development examples' P1 calls (``choose_p1_above``). A missed P1 costs far more than
# a P2 sent as P1, so the cut is set for recall, not accuracy (docs/routing.md, "Scores").
P1_RECALL_TARGET: Final = 0.95
P1_ABOVE_GRID: Final = tuple(round(0.30 - 0.01 * i, 2) for i in range(26))  # 0.30 .. 0.05
SEED: Final = 110


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled request: what the call-taker heard and what was decided."""

    text: str
    category: str
    priority: str
    also: tuple[str, ...] = ()
    address: str = ""
    district: str = ""
    weight: float = 1.0

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Example:
        """Build from a JSON record with ``text``, ``category``, ``priority``, optional ``also``..."""
        category = str(record["category"])
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        return cls(
            text=str(record["text"]),
            category=category,
            priority=str(record.get("priority") or CATEGORIES[category].default_priority),
            also=tuple(str(a) for a in record.get("also") or ()),
            address=str(record.get("address") or ""),
            district=str(record.get("district") or ""),
        )


def load_examples(path: str | Path, weight: float = 1.0) -> list[Example]:
    """The examples of a JSONL file (blank lines skipped), each weighing ``weight``."""
    with open(path, encoding="utf-8") as lines:
        examples = [Example.from_record(json.loads(line)) for line in lines if line.strip()]
    return [replace(e, weight=weight) for e in examples] if weight != 1.0 else examples


def independent_split(path: str | Path = INDEPENDENT_TRAIN_PATH) -> tuple[list[Example], list[Example]]:
    """The independent training calls as (training part, development part)."""
    examples = load_examples(path, INDEPENDENT_WEIGHT)
    return [e for e in examples if not is_dev(e.text)], [replace(e, weight=1.0) for e in examples if is_dev(e.text)]


def training_examples(paths: Sequence[str | Path] = TRAINING_PATHS) -> list[Example]:
    """Every training example of ``paths``: independent calls weigh ``INDEPENDENT_WEIGHT``."""
    examples: list[Example] = []
    for path in paths:
        independent = Path(path).resolve().parent == INDEPENDENT_TRAIN_PATH.parent.resolve()
        examples += load_examples(path, INDEPENDENT_WEIGHT if independent else 1.0)
    return examples


def no_danger_calls(paths: Sequence[str | Path] = INDEPENDENT_TRAIN_PATHS) -> list[str]:
    """Texts of independent training calls that show no danger (at P4, or at P3 in a category
    whose default is P3 or P4), outside the development fifth: the sign detector's background."""
    found: list[str] = []
    for path in paths:
        for e in load_examples(path):
            default = CATEGORIES[e.category].default_priority
            if not is_dev(e.text) and (e.priority == "P4" or (e.priority == "P3" and default in ("P3", "P4"))):
                found.append(e.text)
    return found


@functools.lru_cache(maxsize=1)
def default_sign_detector() -> SignDetector | None:
    """The sign detector trained on the shipped phrasings and background (None without phrasings)."""
    if not SIGN_PATHS:
        return None
    return train_sign_detector(load_phrasings(SIGN_PATHS), no_danger_calls())


def _as_examples(items: Iterable[Example | Mapping[str, Any]]) -> list[Example]:
    return [item if isinstance(item, Example) else Example.from_record(item) for item in items]


def _analyzer(text: str) -> list[str]:
    return [gram for gram, count in features(text).items() for _ in range(count)]


def _head(
    matrix: Any, labels: Sequence[str], weights: npt.NDArray[np.float64], c: float, classes: Sequence[str]
) -> Head:
    """A multinomial head over ``classes`` (every one present in ``labels``)."""
    classifier = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
    classifier.fit(matrix, list(labels), sample_weight=weights)
    order = [list(classifier.classes_).index(k) for k in classes]
    coef = np.asarray(classifier.coef_, dtype=np.float32)
    intercept = np.asarray(classifier.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row; make it a softmax pair
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return Head(tuple(classes), _half(coef[order].T), intercept[order])


def indicator_names(detector: SignDetector | None = None) -> tuple[str, ...]:
    """The priority head's named indicators: every danger sign, every urgency cue, then (with a
    ``detector``) every sign the detector reads."""
    learned = tuple(f"?{code}" for code in detector.signs) if detector is not None else ()
    return tuple(f"!{sign.code}" for sign in SIGNS) + tuple(f"~{cue.code}" for cue in CUES) + learned


def priority_indicator_names(
    interactions: bool = PRIORITY_INTERACTIONS, detector: SignDetector | None = None
) -> tuple[str, ...]:
    """The priority head's named indicators: the signs and cues, then (with ``interactions``)
    each of them paired with a default priority (``P2!trapped``)."""
    names = indicator_names(detector)
    return names + (tuple(f"{p}{name}" for p in PRIORITIES for name in names) if interactions else ())


def _indicators(examples: Sequence[Example], names: Sequence[str], detector: SignDetector | None) -> Any:
    """Per example, the priority the readable rules give and the category's default, one-hot
    (rule P1..P4, default P1..P4), then one column per indicator of ``names`` the text shows;
    all worth ``INDICATOR_SCALE`` beside the L2-normalised text features."""
    from scipy.sparse import csr_matrix

    column = {name: 8 + i for i, name in enumerate(names)}
    rows: list[int] = []
    cols: list[int] = []
    for i, e in enumerate(examples):
        normal = normalise(e.text)
        ruled, _ = decide_priority(e.category, normal)
        default = CATEGORIES[e.category].default_priority
        found = [PRIORITIES.index(ruled), 4 + PRIORITIES.index(default)]
        found += [column[name] for name in priority_indicators_shown(normal, default, detector) if name in column]
        rows += [i] * len(found)
        cols += found
    return csr_matrix(
        (np.full(len(rows), INDICATOR_SCALE, dtype=np.float32), (rows, cols)), shape=(len(examples), 8 + len(names))
    )


def _priority_head(
    matrix: Any,
    examples: Sequence[Example],
    targets: Sequence[str],
    weights: npt.NDArray[np.float64],
    classes: Sequence[str],
    names: Sequence[str],
    detector: SignDetector | None,
) -> Head:
    """The priority head: the text's features plus what the rules decide, the default and the
    named indicators."""
    from scipy.sparse import hstack

    joined = hstack([matrix, _indicators(examples, names, detector)], format="csr")
    head = _ordinal_head(joined, targets, weights) if list(classes) == ["ordinal"] else None
    head = head or _head(joined, targets, weights, PRIORITY_C, classes)
    n = matrix.shape[1]
    return Head(
        head.classes,
        np.ascontiguousarray(head.coef[:n]),
        head.intercept,
        np.ascontiguousarray(head.coef[n:] * INDICATOR_SCALE),
    )


def _ordinal_head(matrix: Any, targets: Sequence[str], weights: npt.NDArray[np.float64]) -> Head:
    """Three binary logistic regressions over one matrix: is the priority P1, P1–P2, P1–P3?"""
    rank = np.array([PRIORITIES.index(t) for t in targets])
    columns: list[npt.NDArray[np.float32]] = []
    intercepts: list[float] = []
    for cut in range(len(PRIORITIES) - 1):
        classifier = LogisticRegression(C=PRIORITY_C, max_iter=3000, random_state=SEED)
        classifier.fit(matrix, rank <= cut, sample_weight=weights)
        columns.append(np.asarray(classifier.coef_[0], dtype=np.float32))
        intercepts.append(float(classifier.intercept_[0]))
    return Head(PRIORITIES[:-1], _half(np.stack(columns, axis=1)), np.array(intercepts, dtype=np.float32))


def assist_indicator_names(detector: SignDetector | None = None) -> tuple[str, ...]:
    """The assisting head's indicators: an agency the readable rules add, then the signs and cues."""
    return tuple(f"+{a}" for a in AGENCIES) + indicator_names(detector)


def _assist_indicators(examples: Sequence[Example], names: Sequence[str], detector: SignDetector | None) -> Any:
    """Per example, one column per indicator of ``names`` it shows (agencies the assisting rules
    add for its category, signs, cues), worth ``INDICATOR_SCALE``."""
    from scipy.sparse import csr_matrix

    column = {name: i for i, name in enumerate(names)}
    rows: list[int] = []
    cols: list[int] = []
    for i, e in enumerate(examples):
        normal = normalise(e.text)
        added, _ = decide_assisting(e.category, normal)
        found = [column[f"+{a}"] for a in added] + [
            column[n] for n in shown_indicators(normal, detector) if n in column
        ]
        rows += [i] * len(found)
        cols += found
    return csr_matrix(
        (np.full(len(rows), INDICATOR_SCALE, dtype=np.float32), (rows, cols)), shape=(len(examples), len(names))
    )


def _assist_head(
    matrix: Any,
    examples: Sequence[Example],
    weights: npt.NDArray[np.float64],
    c: float,
    names: Sequence[str] = (),
    detector: SignDetector | None = None,
) -> Head:
    """One binary logistic regression per agency: does it assist (it is never the lead)? Over
    the text's features plus the indicators of ``names`` (none: the text alone)."""
    from scipy.sparse import hstack

    agencies = tuple(AGENCIES)
    n = matrix.shape[1]
    joined = hstack([matrix, _assist_indicators(examples, names, detector)], format="csr") if names else matrix
    columns: list[npt.NDArray[np.float32]] = []
    intercepts: list[float] = []
    for agency in agencies:
        target = np.array([agency in e.also for e in examples])
        if target.all() or not target.any():  # nothing to learn: a constant
            columns.append(np.zeros(joined.shape[1], dtype=np.float32))
            intercepts.append(8.0 if target.all() else -8.0)
            continue
        classifier = LogisticRegression(C=c, max_iter=3000, random_state=SEED)
        classifier.fit(joined, target, sample_weight=weights)
        columns.append(np.asarray(classifier.coef_[0], dtype=np.float32))
        intercepts.append(float(classifier.intercept_[0]))
    coef = np.stack(columns, axis=1)
    extra = np.ascontiguousarray(coef[n:] * INDICATOR_SCALE) if names else None
    return Head(agencies, _half(coef[:n]), np.array(intercepts, dtype=np.float32), extra)


def _priority_target(e: Example, target: str) -> str:
    """What the priority head learns: the priority itself, or its steps from the default."""
    if target in ("absolute", "ordinal"):
        return e.priority
    steps = PRIORITIES.index(e.priority) - PRIORITIES.index(CATEGORIES[e.category].default_priority)
    return f"{steps:+d}"


def _target_order(target: str) -> tuple[int, str]:
    return (int(target), target) if target[0] in "+-" else (0, target)


def _half(coef: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Weights rounded to half precision, as they are stored: a model predicts alike before and
    after saving."""
    return np.ascontiguousarray(coef.astype(np.float16).astype(np.float32))


def train(
    corpus_paths: Sequence[str | Path] = TRAINING_PATHS,
    extra_examples: Iterable[Example | Mapping[str, Any]] = (),
    *,
    c: float = DEFAULT_C,
    min_df: int = MIN_DF,
    extra_weight: float = CORRECTION_WEIGHT,
    base_examples: Iterable[Example] | None = None,
    calibration: Iterable[Example] | None = None,
    heads: bool = True,
    priority_target: str = PRIORITY_TARGET,
    corpus_priority_weight: float = CORPUS_PRIORITY_WEIGHT,
    signs: SignDetector | bool | None = True,
) -> Model:
    """Fit a model on the training files plus ``extra_examples`` (e.g. call-taker corrections).

    Three heads over one TF-IDF: category, priority, assisting agencies (``heads=False``: the
    category alone). Extra examples weigh ``extra_weight`` corpus examples each; independent
    calls weigh ``INDEPENDENT_WEIGHT``. ``base_examples`` replaces reading ``corpus_paths``
    (tests train on a subset this way). ``calibration`` (examples not trained on) sets the
    temperature of the category probabilities; without it they stay uncalibrated. ``signs``: the
    learned sign detector whose readings the priority and assisting heads take as indicators
    (True: ``default_sign_detector``, trained on the shipped phrasings; False or None: none).
    Deterministic for given data.
    """
    detector = default_sign_detector() if signs is True else (signs or None)
    base = list(base_examples) if base_examples is not None else training_examples(corpus_paths)
    extra = [replace(e, weight=extra_weight) for e in _as_examples(extra_examples)]
    examples = base + extra
    if len({e.category for e in examples}) < 2:
        raise ValueError("training needs examples of at least two categories")
    weights = np.array([e.weight for e in examples], dtype=np.float64)
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=min_df, dtype=np.float32)
    matrix = vectorizer.fit_transform([e.text for e in examples])
    categories = sorted({e.category for e in examples})
    category = _head(matrix, [e.category for e in examples], weights, c, categories)
    priority = assist = None
    names = priority_indicator_names(detector=detector)
    assist_names = assist_indicator_names(detector) if ASSIST_INDICATORS else ()
    if heads:
        # The generated corpus keeps the default priority in nine cases out of ten; what raises
        # or lowers urgency is learnt mostly from the independent calls and the corrections.
        p_weights = np.array([w if w != 1.0 else corpus_priority_weight for w in weights])
        targets = [_priority_target(e, priority_target) for e in examples]
        present = sorted(set(targets), key=_target_order)
        if priority_target == "ordinal" and present == list(PRIORITIES):
            present = ["ordinal"]
        elif priority_target == "ordinal":  # some priority never seen (a small subset): no scale to cut
            priority_target = "absolute"
        if len(present) >= 2 or present == ["ordinal"]:
            priority = _priority_head(matrix, examples, targets, p_weights, present, names, detector)
        assist = _assist_head(matrix, examples, weights, ASSIST_C, assist_names, detector)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    model = Model(
        classes=category.classes,
        vocabulary=tuple(vocabulary),
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        coef=category.coef,
        intercept=category.intercept,
        priority=priority,
        assist=assist,
        signs=detector if heads else None,
        meta={
            "examples": len(base),
            "corrections": len(extra),
            "c": c,
            "priority_c": PRIORITY_C,
            "assist_c": ASSIST_C,
            "min_df": min_df,
            "features": "char 1-3 grams, lexicon concepts, danger signs, urgency cues; sublinear tf-idf, l2",
            "uncertain_below": UNCERTAIN_BELOW,
            "priority_target": priority_target,
            "priority_indicators": list(names) if priority is not None else [],
            "assist_indicators": list(assist_names) if assist is not None else [],
        },
    )
    if calibration is not None:
        model = calibrated(model, calibration)
    return model


def train_calibrated(
    corpus_paths: Sequence[str | Path] = TRAINING_PATHS,
    extra_examples: Iterable[Example | Mapping[str, Any]] = (),
    *,
    c: float = DEFAULT_C,
) -> Model:
    """The shipped recipe: fit on everything, with the temperature found by a first fit that
    kept back the development examples (the independent calls' fixed fifth and ``dev.jsonl``)
    and was calibrated on them. Deterministic for given data."""
    base = training_examples(corpus_paths)
    trained_on = {Path(p).name: file_digest(p) for p in (*corpus_paths, *SIGN_PATHS)}
    kept_back = [e for e in base if e.weight != 1.0 and is_dev(e.text)]
    first = train(
        base_examples=[e for e in base if not (e.weight != 1.0 and is_dev(e.text))],
        extra_examples=extra_examples,
        c=c,
        calibration=[replace(e, weight=1.0) for e in kept_back] + load_examples(DEV_PATH),
    )
    final = train(base_examples=base, extra_examples=extra_examples, c=c)
    return replace_meta(
        final,
        temperature=first.meta["temperature"],
        calibrated_on=first.meta["calibrated_on"],
        assist_above=first.meta.get("assist_above", {}),
        **({"p1_above": first.meta["p1_above"]} if "p1_above" in first.meta else {}),
        trained_on=trained_on,
        seed=SEED,
    )


def file_digest(path: str | Path) -> str:
    """The SHA-256 of a training file, as the shipped model records what it was fitted on."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def choose_assist_thresholds(model: Model, examples: Iterable[Example]) -> dict[str, float]:
    """Per agency, the assisting probability from which it assists that gives the best F1 of
    the whole decision (the head's choice plus what the readable rules add) on ``examples``,
    which the model was not trained on. Ties go to the threshold nearest the default."""
    grid = [round(0.1 + 0.05 * i, 2) for i in range(17)]  # 0.10 .. 0.90
    # Per agency and example: (head's probability, added by the rules on their own, truly assisting).
    seen: dict[str, list[tuple[float, bool, bool]]] = {a: [] for a in AGENCIES}
    rules_add = not model.assist_learns_rules
    for e in examples:
        prediction = model.predict(e.text if e.text.strip() else e.address, evidence=0)
        probabilities, added = assist_evidence(model, prediction, prediction.best, normalise(e.text))
        truth = set(e.also) - {CATEGORIES[e.category].agency}
        for agency, p in probabilities.items():
            seen[agency].append((p, rules_add and agency in added, agency in truth))
    chosen: dict[str, float] = {}
    for agency, rows in seen.items():
        if not any(truth for _, _, truth in rows):
            continue

        def f1(t: float, rows: list[tuple[float, bool, bool]] = rows) -> float:
            tp = sum(1 for p, added, truth in rows if (p >= t or added) and truth)
            guessed = sum(1 for p, added, _ in rows if p >= t or added)
            actual = sum(1 for _, _, truth in rows if truth)
            return 2 * tp / (guessed + actual) if guessed + actual else 0.0

        chosen[agency] = max(grid, key=lambda t: (round(f1(t), 6), -abs(t - ASSIST_ABOVE)))
    return chosen


def choose_p1_above(model: Model, examples: Iterable[Example], target: float = P1_RECALL_TARGET) -> float:
    """The priority head's P1 cut: the highest of ``P1_ABOVE_GRID`` (0.30 down to 0.05) at which
    :func:`routing.classify` finds at least ``target`` of the true P1 calls among ``examples``
    (which the model was not trained on) at P1; the lowest when none does. Below the cut the
    decision is what it would be with no cut at all (the most probable priority, the P2 rule,
    the floor), so one pass over the examples scores every cut."""
    never = replace_meta(model, p1_above=2.0)
    rows: list[tuple[float, bool]] = []  # (head's P(P1), P1 without the cut) of each true P1 call
    for e in examples:
        if e.priority != "P1":
            continue
        prediction = model.predict(e.text if e.text.strip() else e.address, evidence=0)
        probs = model_priority_probabilities(model, prediction, prediction.best, normalise(e.text))
        base = classify(e.text, e.address or None, e.district or None, model=never).priority
        rows.append((probs.get("P1", 0.0), base == "P1"))
    if not rows:
        return P1_ABOVE_GRID[0]
    for cut in P1_ABOVE_GRID:
        if sum(1 for p1, base in rows if p1 >= cut or base) >= target * len(rows):
            return cut
    return P1_ABOVE_GRID[-1]


def fit_temperature(model: Model, examples: Iterable[Example]) -> float:
    """The temperature that makes the category probabilities of ``model`` honest on ``examples``
    (minimum log-loss of the true category; scipy's bounded scalar minimiser)."""
    from scipy.optimize import minimize_scalar

    items = list(examples)
    raw = replace_meta(model, temperature=1.0)
    logits = np.array([np.log(np.maximum(raw.predict(e.text, evidence=0).probabilities, 1e-12)) for e in items])
    truth = np.array([model.classes.index(e.category) for e in items])

    def loss(t: float) -> float:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        return float(-log_p[np.arange(len(items)), truth].mean())

    return float(minimize_scalar(loss, bounds=(0.05, 20.0), method="bounded").x)


def replace_meta(model: Model, **changes: Any) -> Model:
    """``model`` with some metadata changed (weights shared)."""
    return Model(
        classes=model.classes,
        vocabulary=model.vocabulary,
        idf=model.idf,
        coef=model.coef,
        intercept=model.intercept,
        meta=dict(model.meta, **changes),
        priority=model.priority,
        assist=model.assist,
        signs=model.signs,
    )


def calibrated(model: Model, examples: Iterable[Example]) -> Model:
    """``model`` with the category temperature fitted on ``examples`` (which it was not trained
    on), the priority head's P1 cut chosen on them when it has a priority head
    (``choose_p1_above``) and, when it has an assisting head and ``CHOOSE_ASSIST_THRESHOLDS``,
    the per-agency thresholds chosen on them."""
    items = [e for e in examples if e.category in model.classes]
    temperature = fit_temperature(model, items)
    tuned = replace_meta(model, temperature=round(temperature, 4), calibrated_on=len(items))
    if model.priority is not None:
        tuned = replace_meta(tuned, p1_above=choose_p1_above(tuned, items))
    if model.assist is None or not CHOOSE_ASSIST_THRESHOLDS:
        return tuned
    return replace_meta(tuned, assist_above=choose_assist_thresholds(tuned, items))


def save_model(model: Model, path: str | Path = DEFAULT_MODEL_PATH) -> Path:
    """Write ``model`` where :func:`routing.load_model` can read it; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    save_arrays(model, target)
    return target


@dataclass(frozen=True)
class CategoryScore:
    """Precision and recall of one category over an evaluation set."""

    precision: float
    recall: float
    support: int
    predicted: int


@dataclass(frozen=True)
class Report:
    """Scores of the whole pipeline (model + rules) over labelled examples."""

    n: int
    lead_accuracy: float
    category_accuracy: float
    priority_accuracy: float
    assist_precision: float
    assist_recall: float
    per_category: dict[str, CategoryScore]
    # (true category, predicted category, count), most frequent first.
    confusions: list[tuple[str, str, int]]
    # (text, true category, predicted category) of misclassified examples, first ones.
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    # Priority: recall of true P1, how many true P1 came out P3 or P4, and the confusion table
    # (true priority → predicted priority → count).
    p1_recall: float = 1.0
    p1_below_p2: int = 0
    priority_confusion: dict[str, dict[str, int]] = field(default_factory=dict)
    # Calibration of the category probability: expected calibration error (10 bins), the share
    # flagged uncertain, and category accuracy among the certain and the uncertain.
    calibration_error: float = 0.0
    uncertain_share: float = 0.0
    certain_accuracy: float = 1.0
    uncertain_accuracy: float = 1.0
    # (text, true priority, predicted priority) of priority errors, first ones.
    priority_errors: list[tuple[str, str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    def format(self, title: str = "") -> str:
        """A plain-text report for a terminal or a markdown code block."""
        lines = [title] if title else []
        lines.append(
            f"n={self.n}  lead={self.lead_accuracy:.3f}  category={self.category_accuracy:.3f}  "
            f"priority={self.priority_accuracy:.3f}  assist P={self.assist_precision:.3f} R={self.assist_recall:.3f}"
        )
        lines.append(
            f"P1 recall={self.p1_recall:.3f}  P1 below P2={self.p1_below_p2}  "
            f"ECE={self.calibration_error:.3f}  uncertain={self.uncertain_share:.3f} "
            f"(accuracy certain {self.certain_accuracy:.3f}, uncertain {self.uncertain_accuracy:.3f})"
        )
        lines.append("priority confusion (rows true, columns predicted): " + " ".join(PRIORITIES))
        for true in PRIORITIES:
            row = self.priority_confusion.get(true, {})
            lines.append(f"  {true}: " + " ".join(f"{row.get(p, 0):3d}" for p in PRIORITIES))
        lines.append(f"{'category':28} {'prec':>5} {'rec':>5} {'n':>4}")
        for code, s in sorted(self.per_category.items()):
            lines.append(f"{code:28} {s.precision:5.2f} {s.recall:5.2f} {s.support:4d}")
        if self.confusions:
            lines.append("worst confusions (true → predicted: count)")
            lines.extend(f"  {t} → {p}: {n}" for t, p, n in self.confusions)
        return "\n".join(lines)


def _ratio(a: int, b: int) -> float:
    return a / b if b else 1.0


def evaluate(model: Model, examples: Iterable[Example | Mapping[str, Any]], worst: int = 10) -> Report:
    """Run :func:`routing.classify` with ``model`` over ``examples`` and score every decision."""
    items = _as_examples(examples)
    lead = cat = prio = 0
    assist_tp = assist_pred = assist_true = 0
    tp: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    support: Counter[str] = Counter()
    confusions: Counter[tuple[str, str]] = Counter()
    errors: list[tuple[str, str, str]] = []
    priority_errors: list[tuple[str, str, str]] = []
    priority_confusion: dict[str, Counter[str]] = {p: Counter() for p in PRIORITIES}
    bins: list[list[tuple[float, bool]]] = [[] for _ in range(10)]
    certain = [0, 0]  # right, total
    doubtful = [0, 0]
    for e in items:
        got = classify(e.text, e.address or None, e.district or None, model=model)
        support[e.category] += 1
        predicted[got.category] += 1
        lead += got.agency == CATEGORIES[e.category].agency
        prio += got.priority == e.priority
        priority_confusion[e.priority][got.priority] += 1
        if got.priority != e.priority and len(priority_errors) < 80:
            priority_errors.append((e.text, e.priority, got.priority))
        right = got.category == e.category
        bins[min(int(got.confidence * 10), 9)].append((got.confidence, right))
        group = doubtful if got.uncertain else certain
        group[0] += right
        group[1] += 1
        if got.category == e.category:
            cat += 1
            tp[e.category] += 1
        else:
            confusions[(e.category, got.category)] += 1
            if len(errors) < 50:
                errors.append((e.text, e.category, got.category))
        truth = set(e.also) - {CATEGORIES[e.category].agency}
        guess = set(got.assisting)
        assist_tp += len(truth & guess)
        assist_pred += len(guess)
        assist_true += len(truth)
    codes = sorted(set(support) | set(predicted))
    per_category = {
        code: CategoryScore(
            _ratio(tp[code], predicted[code]), _ratio(tp[code], support[code]), support[code], predicted[code]
        )
        for code in codes
    }
    n = len(items)
    true_p1 = sum(priority_confusion["P1"].values())
    ece = (
        sum(abs(sum(c for c, _ in b) / len(b) - sum(r for _, r in b) / len(b)) * len(b) / n for b in bins if b)
        if n
        else 0.0
    )
    return Report(
        n=n,
        lead_accuracy=_ratio(lead, n),
        category_accuracy=_ratio(cat, n),
        priority_accuracy=_ratio(prio, n),
        assist_precision=_ratio(assist_tp, assist_pred),
        assist_recall=_ratio(assist_tp, assist_true),
        per_category=per_category,
        confusions=[(t, p, k) for (t, p), k in confusions.most_common(worst)],
        errors=errors,
        p1_recall=_ratio(priority_confusion["P1"]["P1"], true_p1),
        p1_below_p2=priority_confusion["P1"]["P3"] + priority_confusion["P1"]["P4"],
        priority_confusion={t: dict(row) for t, row in priority_confusion.items()},
        calibration_error=ece,
        uncertain_share=_ratio(doubtful[1], n),
        certain_accuracy=_ratio(certain[0], certain[1]),
        uncertain_accuracy=_ratio(doubtful[0], doubtful[1]),
        priority_errors=priority_errors,
    )


@dataclass(frozen=True)
class Agreement:
    """How far a second labelling of the same texts agrees with a first (taken as the truth)."""

    n: int
    lead: float
    category: float
    priority: float
    # Recall of the first labelling's P1 by the second, and how many of them the second put at P3/P4.
    p1_recall: float
    p1_below_p2: int
    # The other way round: recall of the second labelling's P1 by the first.
    p1_recall_reverse: float
    assist_precision: float
    assist_recall: float
    priority_confusion: dict[str, dict[str, int]]

    def format(self, title: str = "") -> str:
        """A plain-text summary."""
        lines = [title] if title else []
        lines.append(
            f"n={self.n}  lead={self.lead:.3f}  category={self.category:.3f}  priority={self.priority:.3f}  "
            f"assist P={self.assist_precision:.3f} R={self.assist_recall:.3f}"
        )
        lines.append(
            f"P1 recall={self.p1_recall:.3f}  P1 below P2={self.p1_below_p2}  "
            f"P1 recall the other way={self.p1_recall_reverse:.3f}"
        )
        lines.append("priority confusion (rows first labelling, columns second): " + " ".join(PRIORITIES))
        for true in PRIORITIES:
            row = self.priority_confusion.get(true, {})
            lines.append(f"  {true}: " + " ".join(f"{row.get(p, 0):3d}" for p in PRIORITIES))
        return "\n".join(lines)


def agreement(first: Sequence[Example], second: Mapping[int, Example]) -> Agreement:
    """Compare ``second`` (index in ``first`` → its labels of the same text) with ``first``."""
    pairs = [(first[i], e) for i, e in sorted(second.items())]
    n = len(pairs)
    confusion: dict[str, Counter[str]] = {p: Counter() for p in PRIORITIES}
    tp = named = true = 0
    for a, b in pairs:
        confusion[a.priority][b.priority] += 1
        ta = set(a.also) - {CATEGORIES[a.category].agency}
        tb = set(b.also) - {CATEGORIES[b.category].agency}
        tp, named, true = tp + len(ta & tb), named + len(tb), true + len(ta)
    reverse_p1 = sum(1 for a, b in pairs if b.priority == "P1")
    return Agreement(
        n=n,
        lead=_ratio(sum(CATEGORIES[a.category].agency == CATEGORIES[b.category].agency for a, b in pairs), n),
        category=_ratio(sum(a.category == b.category for a, b in pairs), n),
        priority=_ratio(sum(a.priority == b.priority for a, b in pairs), n),
        p1_recall=_ratio(confusion["P1"]["P1"], sum(confusion["P1"].values())),
        p1_below_p2=confusion["P1"]["P3"] + confusion["P1"]["P4"],
        p1_recall_reverse=_ratio(sum(1 for a, b in pairs if a.priority == b.priority == "P1"), reverse_p1),
        assist_precision=_ratio(tp, named),
        assist_recall=_ratio(tp, true),
        priority_confusion={t: dict(row) for t, row in confusion.items()},
    )


def load_relabelling(path: str | Path) -> dict[int, Example]:
    """A relabelling file: one record a line with ``id`` (line of the labelled file) and labels."""
    with open(path, encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    return {int(r["id"]): Example.from_record(dict(r, text="")) for r in records}


def retrain(
    base_corpus: Sequence[str | Path],
    corrections: Iterable[Example | Mapping[str, Any]],
    heldout: Iterable[Example | Mapping[str, Any]] | str | Path = HELDOUT_PATH,
    current: Model | None = None,
) -> tuple[Model, Report, Report]:
    """Train on ``base_corpus`` plus ``corrections`` and score before and after on ``heldout``.

    ``current`` is the model in service (the shipped one when None). Returns
    ``(new_model, before_report, after_report)``; saving the new model is the caller's choice.
    """
    held = load_examples(heldout) if isinstance(heldout, (str, Path)) else _as_examples(heldout)
    before = evaluate(current or load_model(), held)
    new_model = train_calibrated(base_corpus, corrections)
    after = evaluate(new_model, held)
    return new_model, before, after


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m routing.training train|evaluate``; prints reports, returns an exit code."""
    parser = argparse.ArgumentParser(prog="python -m routing.training")
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train", help="train on the corpus (plus corrections) and save the model")
    t.add_argument("--corpus", nargs="*", default=[str(p) for p in TRAINING_PATHS])
    t.add_argument("--extra", nargs="*", default=[], help="JSONL corrections (text, category, priority, also...)")
    t.add_argument("--out", default=str(DEFAULT_MODEL_PATH))
    t.add_argument("--c", type=float, default=DEFAULT_C)
    e = commands.add_parser("evaluate", help="score a model on labelled JSONL files")
    e.add_argument("--model", default=None)
    e.add_argument("--errors", action="store_true", help="also list misclassified texts")
    e.add_argument("files", nargs="*")
    g = commands.add_parser("agree", help="agreement of a blind relabelling with a labelled file")
    g.add_argument("labelled", nargs="?", default=str(RELABELLINGS[0][0]))
    g.add_argument("relabelled", nargs="?", default=str(RELABELLINGS[0][1]))
    args = parser.parse_args(argv)
    if args.command == "agree":
        print(
            agreement(load_examples(args.labelled), load_relabelling(args.relabelled)).format(f"== {args.relabelled}")
        )
        return 0
    if args.command == "train":
        extra = [x for p in args.extra for x in load_examples(p)]
        model = train_calibrated(args.corpus, extra, c=args.c)
        path = save_model(model, args.out)
        print(f"saved {path} ({len(model.vocabulary)} features, {len(model.classes)} classes)")
        return 0
    model = load_model(args.model)
    files = [Path(f) for f in args.files] or [
        p for p in (HELDOUT_PATH, INDEPENDENT_HELDOUT_PATH, SAMPLE_PATH) if p.exists()
    ]
    for path in files:
        report = evaluate(model, load_examples(path))
        print(report.format(f"== {path}"))
        if args.errors:
            for text, truth, got in report.errors:
                print(f"  [{truth} → {got}] {text}")
            for text, truth, got in report.priority_errors:
                print(f"  [{truth} → {got}] {text}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
