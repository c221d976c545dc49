"""The whole suggestion for a request: category, agencies, priority, reasons, district."""

import json
from pathlib import Path

import pytest

from agencies import CATEGORIES
from routing import Classification, classify, load_model
from routing.training import HELDOUT_PATH, INDEPENDENT_HELDOUT_PATH, SAMPLE_PATH, evaluate, load_examples


def test_fight_with_bleeding_goes_to_police_with_health_at_p1() -> None:
    c = classify("超市门口有两个人打架，其中一人鼻子出血", "交通路永辉超市门口")
    assert (c.category, c.agency, c.agencies, c.priority) == ("police.violence", "police", ("police", "health"), "P1")
    assert c.district == "yicheng"
    assert any("打架" in r for r in c.reasons)
    assert any("health" in r for r in c.reasons)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("都半夜十二点了楼上还在放音乐唱歌，吵得睡不着", "police.public_order"),
        ("都半夜十二点了旁边工地还在打桩施工，吵得睡不着", "urban.construction_noise"),
        ("厨房里一股煤气味，越来越大", "emergency.gas_leak"),
        ("小区停水一天了，做不了饭", "urban.utilities"),
        ("公交车上有个乘客突然晕倒了，叫不醒", "health.emergency"),
        ("俺家老人有老年痴呆，早上出去到现在还没回来", "police.missing_person"),
        ("楼里着火了，有人被困在楼上下不来", "emergency.fire"),
        ("一辆拉化学品的槽罐车在国道上侧翻了，在往外漏", "emergency.hazmat"),
        ("路边的自来水管爆了，水冒得跟河一样，路都淹了", "urban.utilities"),
        ("路上那个大坑把骑电动车的摔倒了，人腿上都是血", "transport.accident"),
    ],
)
def test_hard_pairs_land_in_the_right_category(text: str, category: str) -> None:
    assert classify(text).category == category


def test_fire_with_trapped_people_brings_health() -> None:
    c = classify("楼里着火了，有人被困在楼上下不来")
    assert c.priority == "P1"
    assert "health" in c.agencies


def test_chemical_truck_overturned_brings_transport() -> None:
    c = classify("一辆拉化学品的槽罐车在国道上侧翻了，在往外漏")
    assert c.agencies[0] == "emergency" and "transport" in c.agencies


def test_dialect_and_no_punctuation_are_understood() -> None:
    c = classify("俺家隔壁俩人干仗嘞 拿着棍 恁快点来")
    assert c.category == "police.violence"


def test_agencies_start_with_the_lead_and_never_repeat() -> None:
    c = classify("两车相撞有人受伤，车还起火了")
    assert c.agencies[0] == c.agency == CATEGORIES[c.category].agency
    assert len(set(c.agencies)) == len(c.agencies)
    assert c.assisting == c.agencies[1:]


def test_confidence_is_a_probability_and_alternatives_are_other_categories() -> None:
    c = classify("路灯不亮")
    assert 0.0 <= c.confidence <= 1.0
    assert all(code != c.category and code in CATEGORIES for code, _ in c.alternatives)


def test_empty_text_still_answers_with_low_confidence() -> None:
    c = classify("")
    assert c.category in CATEGORIES
    assert c.confidence < 0.5
    assert any("请接警员确认" in r for r in c.reasons)


def test_to_dict_is_the_classify_contract() -> None:
    d = classify("路口红绿灯坏了", district="西平县").to_dict()
    assert {"category", "agency", "agencies", "priority", "confidence", "reasons"} <= d.keys()
    assert d["district"] == "xiping"
    json.dumps(d, ensure_ascii=False)


def test_classification_is_frozen() -> None:
    c = classify("路灯不亮")
    with pytest.raises(AttributeError):
        c.category = "x"  # type: ignore[misc]
    assert isinstance(c, Classification)


def test_explicit_model_is_used() -> None:
    model = load_model()
    assert classify("井盖丢了", model=model).category == "urban.facility"


def test_the_priority_heads_p1_cut_comes_from_the_models_metadata() -> None:
    from routing.training import replace_meta

    model = load_model()
    assert model.meta["p1_above"] == 0.13  # chosen on the development examples (docs/routing.md)
    text = "小区门口的快递柜天天坏，取不出件"
    assert classify(text, model=replace_meta(model, p1_above=0.0)).priority == "P1"
    assert classify(text, model=model).priority != "P1"


# Floors a little under the figures in docs/routing.md, so that a regression fails and noise does not.
def test_heldout_scores_stay_above_floors() -> None:
    # Floors a little under the figures of docs/routing.md, so that a regression fails. Priority
    # was higher in earlier releases (0.891, 0.866, 0.833; docs/routing.md, "Scores"): the P1
    # cut set for recall sends more P2 calls as P1. Assisting recall was 0.952 before the
    # writers who name assisting agencies sparingly were added to training (0.889).
    report = evaluate(load_model(), load_examples(HELDOUT_PATH))
    assert report.n >= 15 * len(CATEGORIES)
    assert report.lead_accuracy >= 0.95
    assert report.category_accuracy >= 0.91
    assert report.priority_accuracy >= 0.80
    assert report.assist_precision >= 0.86
    assert report.assist_recall >= 0.88
    assert report.p1_recall >= 0.92


def test_independent_heldout_scores_stay_above_floors() -> None:
    # The independently written held-out set (docs/routing.md): below the targets on
    # priority and assisting agencies; these floors only keep what was reached (0.969, 0.960,
    # 0.831, P1 recall 0.983 with none below P2, assisting P 0.671 and R 0.731).
    report = evaluate(load_model(), load_examples(INDEPENDENT_HELDOUT_PATH))
    assert report.n >= 300
    assert report.lead_accuracy >= 0.95
    assert report.category_accuracy >= 0.94
    assert report.priority_accuracy >= 0.81
    assert report.p1_recall >= 0.96
    assert report.p1_below_p2 == 0
    assert report.assist_precision >= 0.64
    assert report.assist_recall >= 0.70


@pytest.mark.skipif(not Path(SAMPLE_PATH).exists(), reason="shared/ sample not beside the project")
def test_shared_sample_scores_stay_above_floors() -> None:
    report = evaluate(load_model(), load_examples(SAMPLE_PATH))
    assert report.lead_accuracy >= 0.95
    assert report.category_accuracy >= 0.9


@pytest.mark.parametrize(
    "text",
    [
        "两辆车在路口撞了，有人受伤",
        "撞人了！快来人",
        "我的车停在路边让人给剐了，人跑了",
        "两车相撞，事故车横在路中间，后面堵了一长串",
    ],
)
def test_a_traffic_accident_is_led_by_police(text: str) -> None:
    c = classify(text)
    assert c.category == "transport.accident"
    assert c.agency == "police" and c.agencies[0] == "police" and "police" not in c.assisting


def test_transport_assists_at_an_accident_that_blocks_the_road() -> None:
    c = classify("两辆货车追尾了，货物掉了一地")
    assert c.agency == "police" and "transport" in c.assisting


def test_a_clear_request_is_certain_and_a_meaningless_one_is_not() -> None:
    assert classify("楼里着火了，有人被困在楼上下不来").uncertain is False
    vague = classify("喂喂")
    assert vague.uncertain is True and vague.confidence < load_model().uncertain_below
    assert vague.to_dict()["uncertain"] is True and "请接警员确认" in "".join(vague.reasons)


def test_the_shipped_model_is_calibrated() -> None:
    model = load_model()
    assert model.temperature != 1.0 and model.priority is not None and model.assist is not None


def test_an_agency_assists_from_its_own_threshold() -> None:
    from routing.training import replace_meta

    model = load_model()
    text = "两个人在超市门口打架，一个满脸是血"
    assert "health" in classify(text, model=model).assisting
    strict = replace_meta(model, assist_above={**model.assist_above, "health": 1.0})
    # The head weighed the readable rules when it was trained: they no longer add on their own.
    assert "health" not in classify(text, model=strict).assisting


def test_a_neighbour_singing_at_night_is_public_order() -> None:
    assert classify("我家隔壁晚上一直唱歌，吵得睡不着").category == "police.public_order"


def test_keywords_in_a_reason_are_the_callers_words_never_feature_names() -> None:
    # Danger signs (!), cues (~) and concepts (#) are features of the model; a reason shows the
    # words of the call that showed them.
    result = classify("俺爹倒地上了，叫他也不应")
    assert result.reasons[0].startswith("关键词“叫他也不应”"), result.reasons
    for e in load_examples(INDEPENDENT_HELDOUT_PATH):
        first = classify(e.text).reasons[0]
        assert not any(mark in first for mark in ("“!", "“~", "“#")), (e.text, first)
