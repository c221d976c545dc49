"""The learned reader of danger signs: how it reads a call, what the shipped one finds, how it
is trained and stored."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from routing import classify, load_model
from routing.danger import SIGNS
from routing.model import save_arrays
from routing.sign_detector import STEP, WINDOW, SignDetector, clauses
from routing.sign_training import SIGN_PATHS, Phrasing, load_phrasings, sign_scores, train_sign_detector
from routing.text import normalise

CODES = {sign.code for sign in SIGNS}


@pytest.fixture(scope="module")
def detector() -> SignDetector:
    model = load_model()
    assert model.signs is not None, "the shipped model carries its sign detector"
    return model.signs


def test_a_call_is_read_clause_by_clause_with_denials_blanked() -> None:
    assert clauses(normalise("快来人，司机卡在车里！")) == ["快来人", "司机卡在车里"]
    assert all("没有人被困" not in c for c in clauses(normalise("车翻了，没有人被困")))


def test_a_long_run_without_punctuation_is_read_in_overlapping_windows() -> None:
    run = "我在高速上看见一辆货车翻了司机还在里面出不来车头在冒烟后面的车都停下了"
    pieces = clauses(normalise(run))
    assert all(len(p) <= WINDOW for p in pieces) and len(pieces) >= 3
    assert pieces[0] == run[:WINDOW] and pieces[1] == run[STEP : STEP + WINDOW]
    assert pieces[-1] == run[-WINDOW:]  # the end of the run is always read


@pytest.mark.parametrize(
    ("text", "sign"),
    [
        ("翻车了 大货车 司机压底下了", "trapped"),
        ("俺爹倒地上了，叫他也不应", "unconscious"),
        ("孩子一个人在家，门反锁着", "vulnerable_alone"),
        ("他脸都憋紫了，喘不过来", "breathing"),
        ("那人手里攥着一把刀，在门口晃", "weapon"),
    ],
)
def test_the_shipped_detector_reads_signs_in_a_callers_words(detector: SignDetector, text: str, sign: str) -> None:
    assert sign in detector.detect(normalise(text))


@pytest.mark.parametrize("text", ["路灯不亮了", "打印机卡纸了", "今天天气不错，我去买菜", "想问一下办证要带什么"])
def test_everyday_words_show_no_sign(detector: SignDetector, text: str) -> None:
    assert detector.detect(normalise(text)) == {}


def test_a_sign_the_lists_miss_is_a_reason_of_the_classification() -> None:
    result = classify("翻车了 大货车 司机压底下了")
    assert any(r.startswith("模型读出") and "有人被困" in r for r in result.reasons), result.reasons


def test_the_detector_survives_saving_and_loading(tmp_path: Path) -> None:
    model = load_model()
    save_arrays(model, tmp_path / "m.npz")
    again = load_model(tmp_path / "m.npz")
    assert again.signs is not None and model.signs is not None
    assert again.signs.signs == model.signs.signs and again.signs.above == model.signs.above
    text = normalise("门变形了打不开，人在里头喊")
    assert np.allclose(
        list(again.signs.probabilities(text).values()), list(model.signs.probabilities(text).values()), atol=1e-6
    )


def test_every_phrasing_names_a_known_sign_and_no_text_repeats_in_a_file() -> None:
    assert SIGN_PATHS, "phrasings ship with the project"
    for path in SIGN_PATHS:
        seen: set[str] = set()
        with open(path, encoding="utf-8") as lines:
            for line in lines:
                record = json.loads(line)
                assert set(record) == {"sign", "danger", "text", "register"}
                assert record["sign"] in CODES and isinstance(record["danger"], bool)
                assert record["register"] in {"1", "2", "3", "4", "5", "6", "7"}
                assert record["text"] not in seen
                seen.add(record["text"])
    phrasings = load_phrasings()
    for code in CODES:  # every sign has phrasings that show it and look-alikes that do not
        assert any(p.sign == code and p.danger for p in phrasings)
        assert any(p.sign == code and not p.danger for p in phrasings)


def test_an_unknown_sign_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"sign": "dragon", "danger": True, "text": "有龙", "register": "5"}) + "\n")
    with pytest.raises(ValueError, match="unknown sign 'dragon'"):
        load_phrasings([bad])


def test_training_is_deterministic_and_learns_a_sign() -> None:
    phrasings = [p for p in load_phrasings() if p.sign in ("trapped", "weapon")][:120]
    phrasings += [Phrasing("trapped", False, t) for t in ("路灯不亮", "垃圾没人收", "噪音太大")]
    first = train_sign_detector(phrasings, ["小区门口的路灯坏了好几天了"])
    again = train_sign_detector(phrasings, ["小区门口的路灯坏了好几天了"])
    assert first.vocabulary == again.vocabulary and np.array_equal(first.coef, again.coef)
    precision, recall, n = sign_scores(first, [p for p in phrasings if p.sign == "trapped"])["trapped"]
    assert n > 0 and recall > 0.5 and precision > 0.5
