"""Training and evaluation tools for the request classifier (file I/O allowed; not on the runtime path).

Usage::

    python -m routing.training train [--out routing/model/classifier.npz] [--extra corrections.jsonl]
    python -m routing.training evaluate [--model PATH] [FILE.jsonl ...]

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
import json
import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from agencies import CATEGORIES
from routing.classifier import classify
from routing.model import DEFAULT_MODEL_PATH, Model, load_model, save_arrays
from routing.text import features

DATA_DIR: Final = Path(__file__).parent / "data"
CORPUS_PATH: Final = DATA_DIR / "corpus.jsonl"
HELDOUT_PATH: Final = DATA_DIR / "heldout.jsonl"
SAMPLE_PATH: Final = Path(__file__).resolve().parents[2] / "shared" / "data" / "requests-sample.jsonl"

# Regularisation of the logistic regression; chosen by cross-validation on the corpus only.
DEFAULT_C: Final = 20.0
MIN_DF: Final = 2
# A call-taker's correction counts as this many corpus examples: it is rare and it is right.
CORRECTION_WEIGHT: Final = 8.0


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled request: what the call-taker heard and what was decided."""

    text: str
    category: str
    priority: str
    also: tuple[str, ...] = ()
    address: str = ""
    district: str = ""

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


def load_examples(path: str | Path) -> list[Example]:
    """The examples of a JSONL file (blank lines skipped)."""
    with open(path, encoding="utf-8") as lines:
        return [Example.from_record(json.loads(line)) for line in lines if line.strip()]


def _as_examples(items: Iterable[Example | Mapping[str, Any]]) -> list[Example]:
    return [item if isinstance(item, Example) else Example.from_record(item) for item in items]


def _analyzer(text: str) -> list[str]:
    return [gram for gram, count in features(text).items() for _ in range(count)]


def train(
    corpus_paths: Sequence[str | Path] = (CORPUS_PATH,),
    extra_examples: Iterable[Example | Mapping[str, Any]] = (),
    *,
    c: float = DEFAULT_C,
    min_df: int = MIN_DF,
    extra_weight: float = CORRECTION_WEIGHT,
    base_examples: Iterable[Example] | None = None,
) -> Model:
    """Fit a model on the corpus files plus ``extra_examples`` (e.g. call-taker corrections).

    Extra examples weigh ``extra_weight`` corpus examples each. ``base_examples`` replaces
    reading ``corpus_paths`` (tests train on a subset this way). Deterministic for given data.
    """
    base = list(base_examples) if base_examples is not None else [e for p in corpus_paths for e in load_examples(p)]
    extra = _as_examples(extra_examples)
    examples = base + extra
    if len({e.category for e in examples}) < 2:
        raise ValueError("training needs examples of at least two categories")
    weights = np.array([1.0] * len(base) + [extra_weight] * len(extra))
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=min_df, dtype=np.float32)
    matrix = vectorizer.fit_transform([e.text for e in examples])
    classifier = LogisticRegression(C=c, max_iter=3000)
    classifier.fit(matrix, [e.category for e in examples], sample_weight=weights)
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    coef = np.asarray(classifier.coef_, dtype=np.float32)
    intercept = np.asarray(classifier.intercept_, dtype=np.float32)
    if coef.shape[0] == 1:  # two classes: scikit-learn keeps one row; make it a softmax pair
        coef = np.vstack([-coef / 2, coef / 2])
        intercept = np.array([-intercept[0] / 2, intercept[0] / 2], dtype=np.float32)
    return Model(
        classes=tuple(str(c_) for c_ in classifier.classes_),
        vocabulary=tuple(vocabulary),
        idf=np.asarray(vectorizer.idf_, dtype=np.float32),
        coef=np.ascontiguousarray(coef.T),
        intercept=intercept,
        meta={
            "examples": len(base),
            "corrections": len(extra),
            "c": c,
            "min_df": min_df,
            "features": "char 1-3 grams, sublinear tf-idf, l2",
        },
    )


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
    for e in items:
        got = classify(e.text, e.address or None, e.district or None, model=model)
        support[e.category] += 1
        predicted[got.category] += 1
        lead += got.agency == CATEGORIES[e.category].agency
        prio += got.priority == e.priority
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
    )


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
    new_model = train(base_corpus, corrections)
    after = evaluate(new_model, held)
    return new_model, before, after


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m routing.training train|evaluate``; prints reports, returns an exit code."""
    parser = argparse.ArgumentParser(prog="python -m routing.training")
    commands = parser.add_subparsers(dest="command", required=True)
    t = commands.add_parser("train", help="train on the corpus (plus corrections) and save the model")
    t.add_argument("--corpus", nargs="*", default=[str(CORPUS_PATH)])
    t.add_argument("--extra", nargs="*", default=[], help="JSONL corrections (text, category, priority, also...)")
    t.add_argument("--out", default=str(DEFAULT_MODEL_PATH))
    t.add_argument("--c", type=float, default=DEFAULT_C)
    e = commands.add_parser("evaluate", help="score a model on labelled JSONL files")
    e.add_argument("--model", default=None)
    e.add_argument("--errors", action="store_true", help="also list misclassified texts")
    e.add_argument("files", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "train":
        extra = [x for p in args.extra for x in load_examples(p)]
        model = train(args.corpus, extra, c=args.c)
        path = save_model(model, args.out)
        print(f"saved {path} ({len(model.vocabulary)} features, {len(model.classes)} classes)")
        print(evaluate(model, load_examples(HELDOUT_PATH)).format("held-out:"))
        return 0
    model = load_model(args.model)
    files = [Path(f) for f in args.files] or [p for p in (HELDOUT_PATH, SAMPLE_PATH) if p.exists()]
    for path in files:
        report = evaluate(model, load_examples(path))
        print(report.format(f"== {path}"))
        if args.errors:
            for text, truth, got in report.errors:
                print(f"  [{truth} → {got}] {text}")
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
