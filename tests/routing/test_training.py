"""Training tools: corpus shape, export fidelity, evaluation report, the retrain loop."""

import json
import os
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from agencies import AGENCIES, CATEGORIES, PRIORITIES
from dispatch_tools.corpus.build import build
from routing import ModelFormatError, classify, load_model
from routing.training import (
    CORPUS_PATH,
    HELDOUT_PATH,
    INDEPENDENT_HELDOUT_PATH,
    INDEPENDENT_TRAIN_PATHS,
    RELABELLINGS,
    TRAINING_PATHS,
    Example,
    agreement,
    evaluate,
    load_examples,
    load_relabelling,
    main,
    retrain,
    save_model,
    train,
)

DEV_PATH = CORPUS_PATH.parent / "dev.jsonl"


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return load_examples(CORPUS_PATH)


@pytest.fixture(scope="module")
def subset(corpus: list[Example]) -> list[Example]:
    """About a quarter of the corpus, every category: enough to train in well under a second."""
    taken: Counter[str] = Counter()
    out = []
    for e in corpus:
        if taken[e.category] < 45:
            taken[e.category] += 1
            out.append(e)
    return out


def test_corpus_has_at_least_100_examples_of_every_category(corpus: list[Example]) -> None:
    counts = Counter(e.category for e in corpus)
    assert set(counts) == set(CATEGORIES)
    assert min(counts.values()) >= 100


def test_heldout_and_dev_sets_have_at_least_15_of_every_category() -> None:
    for path in (HELDOUT_PATH, DEV_PATH):
        counts = Counter(e.category for e in load_examples(path))
        assert set(counts) == set(CATEGORIES), path
        assert min(counts.values()) >= 15, path


def test_labels_are_valid_everywhere(corpus: list[Example]) -> None:
    for e in corpus + load_examples(HELDOUT_PATH) + load_examples(DEV_PATH):
        assert e.priority in PRIORITIES
        assert set(e.also) <= set(AGENCIES)
        assert CATEGORIES[e.category].agency not in e.also


def test_no_evaluation_text_is_in_the_training_data(corpus: list[Example]) -> None:
    seen = {e.text for e in corpus} | {e.text for path in INDEPENDENT_TRAIN_PATHS for e in load_examples(path)}
    for path in (HELDOUT_PATH, DEV_PATH, INDEPENDENT_HELDOUT_PATH):
        assert not seen & {e.text for e in load_examples(path)}, path


def test_the_independent_sets_have_every_category_and_valid_labels() -> None:
    # train-e, train-f, train-g, train-i and train-k were held-out sets of about 400 (about 14 a
    # category); the others 700–1,400.
    held_out = ("train-e", "train-f", "train-g", "train-i", "train-k")
    sizes = [(p, 10 if p.stem in held_out else 20) for p in INDEPENDENT_TRAIN_PATHS]
    for path, least in [*sizes, (INDEPENDENT_HELDOUT_PATH, 10)]:
        examples = load_examples(path)
        counts = Counter(e.category for e in examples)
        assert set(counts) == set(CATEGORIES) and min(counts.values()) >= least, path
        for e in examples:
            assert e.priority in PRIORITIES and set(e.also) <= set(AGENCIES) - {CATEGORIES[e.category].agency}


def test_committed_corpus_is_what_the_generator_builds() -> None:
    with open(CORPUS_PATH, encoding="utf-8") as lines:
        committed = [json.loads(line) for line in lines]
    assert committed == build()


def test_exported_model_matches_its_own_features(subset: list[Example], tmp_path: Path) -> None:
    model = train(base_examples=subset)
    path = save_model(model, tmp_path / "m.npz")
    loaded = load_model(path)
    assert loaded.classes == model.classes and loaded.vocabulary == model.vocabulary
    for e in subset[:50]:
        a = np.array(model.predict(e.text).probabilities)
        b = np.array(loaded.predict(e.text).probabilities)
        assert np.allclose(a, b, atol=1e-6)
        assert abs(a.sum() - 1.0) < 1e-5


def test_exported_inference_matches_scikit_learn(subset: list[Example]) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from routing.training import DEFAULT_C, MIN_DF, _analyzer

    texts, labels = [e.text for e in subset], [e.category for e in subset]
    vectorizer = TfidfVectorizer(analyzer=_analyzer, sublinear_tf=True, min_df=MIN_DF, dtype=np.float32)
    reference = LogisticRegression(C=DEFAULT_C, max_iter=3000).fit(vectorizer.fit_transform(texts), labels)
    model = train(base_examples=subset)
    probe = ["路口红绿灯坏了", "有人打架流血了", "燃气味很大"]
    expected = reference.predict_proba(vectorizer.transform(probe))
    for text, row in zip(probe, expected, strict=True):
        # Weights are kept in half precision (as they are stored): a few thousandths at most.
        assert np.allclose(model.predict(text).probabilities, row, atol=3e-3)


def test_load_model_refuses_a_file_that_is_not_a_model(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.npz"
    np.savez(bogus, something=np.zeros(3))
    with pytest.raises(ModelFormatError):
        load_model(bogus)


def test_evaluate_reports_every_figure() -> None:
    examples = load_examples(HELDOUT_PATH)[:60]
    report = evaluate(load_model(), examples)
    assert report.n == 60
    for value in (report.lead_accuracy, report.category_accuracy, report.priority_accuracy):
        assert 0.0 <= value <= 1.0
    assert sum(s.support for s in report.per_category.values()) == 60
    assert "lead=" in report.format()
    assert report.to_dict()["n"] == 60


def test_evaluate_counts_a_wrong_answer_as_a_confusion() -> None:
    wrong = Example(text="路口红绿灯不亮了", category="urban.street_light", priority="P4")
    report = evaluate(load_model(), [wrong])
    assert report.category_accuracy == 0.0
    assert report.confusions == [("urban.street_light", "transport.signal", 1)]


def test_retrain_with_a_correction_learns_it(subset: list[Example], tmp_path: Path) -> None:
    text = "小区门口的快递柜天天坏，取不出件"
    base = train(base_examples=subset)
    before = classify(text, model=base).category
    corrected = "police.dispute" if before != "police.dispute" else "urban.facility"
    corrections = [{"text": text, "category": corrected, "priority": "P2", "also": []}]
    corpus_file = tmp_path / "subset.jsonl"
    corpus_file.write_text(
        "".join(
            json.dumps({"text": e.text, "category": e.category, "priority": e.priority, "also": list(e.also)}) + "\n"
            for e in subset
        ),
        encoding="utf-8",
    )
    heldout = load_examples(HELDOUT_PATH)[::8]
    new_model, before_report, after_report = retrain([corpus_file], corrections, heldout, current=base)
    assert classify(text, model=new_model).category == corrected
    assert new_model.meta["corrections"] == 1
    assert before_report.n == after_report.n == len(heldout)
    # Retraining trains every head and calibrates the category on the development examples.
    assert new_model.priority is not None and new_model.assist is not None
    assert new_model.temperature != 1.0 and new_model.meta["calibrated_on"] > 0
    # … and sets the priority head's P1 cut for P1 recall on them.
    from routing.training import P1_ABOVE_GRID

    assert new_model.meta["p1_above"] in P1_ABOVE_GRID


def test_cli_evaluate_prints_a_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    small = tmp_path / "small.jsonl"
    small.write_text(
        json.dumps({"text": "路灯不亮", "category": "urban.street_light", "priority": "P4", "also": []}) + "\n",
        encoding="utf-8",
    )
    assert main(["evaluate", str(small)]) == 0
    out = capsys.readouterr().out
    assert "n=1" in out and "urban.street_light" in out


def test_the_shipped_model_was_fitted_on_the_committed_training_files() -> None:
    from routing.sign_training import SIGN_PATHS
    from routing.training import file_digest

    trained_on = load_model().meta["trained_on"]
    assert trained_on == {p.name: file_digest(p) for p in (*TRAINING_PATHS, *SIGN_PATHS)}


def test_independent_training_calls_name_the_lead_of_their_category() -> None:
    for path in INDEPENDENT_TRAIN_PATHS:
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                assert record["agency"] == CATEGORIES[record["category"]].agency, (path.name, record["text"])


@pytest.mark.skipif(
    os.environ.get("DISPATCH_TEST_RETRAIN") != "1",
    reason="retrains the model (minutes); set DISPATCH_TEST_RETRAIN=1 to run it",
)
@pytest.mark.timeout(1200)
def test_training_reproduces_the_shipped_model() -> None:
    from routing.training import train_calibrated

    shipped = load_model()
    again = train_calibrated()
    assert again.vocabulary == shipped.vocabulary and again.classes == shipped.classes
    assert np.allclose(again.coef, shipped.coef, atol=1e-3)
    for mine, theirs in ((again.priority, shipped.priority), (again.assist, shipped.assist)):
        assert mine is not None and theirs is not None
        assert np.allclose(mine.coef, theirs.coef, atol=1e-3)
        assert mine.extra is not None and theirs.extra is not None
        assert np.allclose(mine.extra, theirs.extra, atol=1e-3)
    assert again.signs is not None and shipped.signs is not None
    assert again.signs.vocabulary == shipped.signs.vocabulary
    assert np.allclose(again.signs.coef, shipped.signs.coef, atol=1e-3)
    for key in ("temperature", "assist_above", "p1_above", "priority_indicators", "assist_indicators", "trained_on"):
        assert again.meta[key] == shipped.meta[key], key


def test_the_ordinal_priority_head_gives_probabilities_of_p1_to_p4(subset: list[Example], tmp_path: Path) -> None:
    from routing.classifier import priority_indicators_shown
    from routing.text import normalise

    model = train(base_examples=subset)
    assert model.meta["priority_target"] == "ordinal" and model.priority is not None
    assert model.priority.classes == ("P1", "P2", "P3")  # the three cuts: at least as urgent as P1, P2, P3
    loaded = load_model(save_model(model, tmp_path / "m.npz"))
    for text in ("司机卡在车里出不来", "路灯不亮", "有人打架"):
        shown = priority_indicators_shown(normalise(text), "P2")
        for m in (model, loaded):
            probs = dict(m.priority_given(m.predict(text), 1, 1, shown))
            assert list(probs) == list(PRIORITIES) and all(p >= 0 for p in probs.values())
            assert abs(sum(probs.values()) - 1.0) < 1e-6
        assert np.allclose(
            [p for _, p in model.priority_given(model.predict(text), 1, 1, shown)],
            [p for _, p in loaded.priority_given(loaded.predict(text), 1, 1, shown)],
            atol=1e-6,
        )


@pytest.mark.parametrize(("labelled", "relabelled"), RELABELLINGS, ids=lambda p: Path(p).stem)
def test_the_relabelling_covers_every_text_it_relabels_and_agreement_is_scored(
    labelled: Path, relabelled: Path
) -> None:
    first = load_examples(labelled)
    second = load_relabelling(relabelled)
    assert sorted(second) == list(range(len(first)))
    same = agreement(first, dict(enumerate(first)))
    assert (same.category, same.priority, same.p1_recall, same.p1_below_p2) == (1.0, 1.0, 1.0, 0)
    report = agreement(first, second)
    assert report.n == len(first) and 0.0 < report.priority <= 1.0
    assert sum(sum(row.values()) for row in report.priority_confusion.values()) == len(first)
