"""Priority raising and lowering, and assisting agencies, from readable rules."""

import pytest

from agencies import CATEGORIES
from routing.rules import decide, decide_assisting, decide_priority
from routing.text import normalise


def priority(category: str, text: str) -> str:
    return decide_priority(category, normalise(text))[0]


def assisting(category: str, text: str) -> tuple[str, ...]:
    return decide_assisting(category, normalise(text))[0]


def test_default_priority_when_nothing_special_is_said() -> None:
    assert priority("transport.road_damage", "路上有个坑") == "P3"
    assert priority("urban.street_light", "路灯不亮") == "P4"


def test_injury_raises_to_at_least_p2() -> None:
    assert priority("transport.road_damage", "路上有个坑") == "P3"
    assert priority("transport.accident", "两车相撞，有人受伤") == "P2"


@pytest.mark.parametrize("words", ["人已经昏迷了", "躺在地上一动不动", "流了好多血", "司机被困在车里"])
def test_critical_signs_raise_to_p1(words: str) -> None:
    assert priority("transport.accident", f"两辆车撞了，{words}") == "P1"


def test_dialect_denial_of_harm_lowers_and_adds_no_health() -> None:
    text = "两辆车追尾了，木有人受伤"
    assert priority("transport.accident", text) == "P3"
    assert "health" not in assisting("transport.accident", text)


def test_past_event_lowers_one_level() -> None:
    assert priority("police.theft", "昨天夜里电动车被偷了") == "P3"


def test_ongoing_words_cancel_the_past_lowering() -> None:
    assert priority("police.violence", "昨天开始他一直在打我，现在还在打") == "P1"


def test_past_lowering_does_not_apply_to_infrastructure() -> None:
    assert priority("transport.road_damage", "去年修的路，现在到处是坑") == "P3"


def test_extinguished_fire_is_lowered() -> None:
    assert priority("emergency.fire", "厨房着火了，已经扑灭了") == "P2"


def test_not_found_is_not_found() -> None:
    assert priority("police.missing_person", "孩子到现在还没找到") == "P1"
    assert priority("police.missing_person", "走失的老人已经找到了") == "P2"


def test_child_raises_one_level_where_it_changes_the_risk() -> None:
    assert priority("urban.facility", "井盖没了") == "P3"
    assert priority("urban.facility", "井盖没了，小孩老在旁边玩") == "P2"


def test_child_does_not_raise_a_complaint() -> None:
    assert priority("transport.transit", "带着孩子坐公交，司机态度差") == "P4"


def test_food_without_symptoms_is_p3_and_many_sick_is_p1() -> None:
    assert priority("health.food_safety", "超市的熟食发霉了") == "P3"
    assert priority("health.food_safety", "吃完饭肚子疼") == "P2"
    assert priority("health.food_safety", "婚宴上好几十个人吃完上吐下泻") == "P1"


def test_water_on_a_road_alone_is_p2_but_a_breached_dyke_stays_p1() -> None:
    assert priority("emergency.natural_disaster", "暴雨后路上积水，车过不去") == "P2"
    assert priority("emergency.natural_disaster", "河堤决口了，村子被淹") == "P1"


def test_robbery_just_now_is_p1() -> None:
    assert priority("police.theft", "刚才有人抢了我的包跑了") == "P1"


@pytest.mark.parametrize(
    ("category", "text"),
    [
        ("police.violence", "隔壁两口子在吵架"),  # 口子 is not a wound
        ("police.fraud", "被骗了两千块，急死人了"),  # 死人 is not a death
        ("urban.utilities", "燃气灶打不着火，说是停气检修"),  # 着火 is not a fire
    ],
)
def test_false_friends_raise_nothing_and_add_no_one(category: str, text: str) -> None:
    assert priority(category, text) == CATEGORIES[category].default_priority
    assert assisting(category, text) == ()


def test_injury_brings_health_and_says_why() -> None:
    outcome = decide("police.violence", normalise("两个人打架，一个人鼻子出血"))
    assert outcome.assisting == ("health",)
    assert any("出血" in r and "health" in r for r in outcome.reasons)


def test_gas_leak_always_brings_urban() -> None:
    assert assisting("emergency.gas_leak", "厨房里燃气味很浓") == ("urban",)


def test_collapse_brings_health_unless_nobody_was_there() -> None:
    assert assisting("emergency.collapse", "老房子塌了") == ("health",)
    assert assisting("emergency.collapse", "院墙倒了，没人受伤") == ()


def test_chemical_truck_brings_transport_and_health_when_people_feel_ill() -> None:
    got = assisting("emergency.hazmat", "一辆拉化学品的罐车侧翻泄漏，附近的人头晕")
    assert set(got) == {"transport", "health"}


def test_accident_with_fire_brings_emergency() -> None:
    assert "emergency" in assisting("transport.accident", "两车相撞，一辆车起火了")


def test_burst_main_under_a_road_brings_urban() -> None:
    assert assisting("transport.road_damage", "自来水管爆裂把路面冲塌了") == ("urban",)


@pytest.mark.parametrize("category", sorted(CATEGORIES))
def test_lead_agency_is_never_assisting(category: str) -> None:
    text = "有人受伤流血，着火了，燃气泄漏，水管爆裂，罐车侧翻，打起来了"
    assert CATEGORIES[category].agency not in assisting(category, text)
