"""Duplicate finder: same incident, same place, inside the category's time window."""

from datetime import UTC, datetime, timedelta

from routing import TicketFacts, find_duplicates
from routing.duplicates import related, similarity, window

NOW = datetime(2026, 7, 1, 20, 0, tzinfo=UTC)
LAT, LON = 33.0110, 114.0220


def ticket(
    id: str,
    category: str = "emergency.fire",
    text: str = "小区3号楼着火了，冒黑烟",
    address: str | None = "驿城区天中花园3号楼",
    lat: float | None = LAT,
    lon: float | None = LON,
    minutes_ago: float = 10,
    district: str | None = "yicheng",
) -> TicketFacts:
    return TicketFacts(id, category, text, address, district, lat, lon, NOW - timedelta(minutes=minutes_ago))


CANDIDATE = ticket("new", text="天中花园3号楼起火了，烟很大", minutes_ago=0)


def test_same_place_same_incident_minutes_later_is_a_duplicate() -> None:
    found = find_duplicates(CANDIDATE, [ticket("t1")], NOW)
    assert [m.ticket_id for m in found] == ["t1"]
    assert "相距约 0 米" in found[0].reason
    assert found[0].distance_m is not None and found[0].distance_m < 1


def test_two_kilometres_away_is_not_a_duplicate() -> None:
    far = ticket("far", lat=LAT + 0.018, lon=LON)  # about 2 km north
    assert find_duplicates(CANDIDATE, [far], NOW) == []


def test_outside_the_fire_window_is_not_a_duplicate() -> None:
    assert find_duplicates(CANDIDATE, [ticket("old", minutes_ago=5 * 60)], NOW) == []


def test_street_light_window_is_long() -> None:
    light = "小区门口路灯不亮"
    old = ticket("lamp", "urban.street_light", light, minutes_ago=5 * 24 * 60)
    new = ticket("new", "urban.street_light", "小区门口的路灯坏了", minutes_ago=0)
    assert [m.ticket_id for m in find_duplicates(new, [old], NOW)] == ["lamp"]
    assert window("urban.street_light") > window("emergency.fire")


def test_unrelated_category_at_the_same_place_is_not_a_duplicate() -> None:
    vending = ticket("v", "urban.vending", "门口有人摆摊卖水果")
    assert find_duplicates(CANDIDATE, [vending], NOW) == []


def test_related_category_matches_with_a_lower_score() -> None:
    gas = ticket("gas", "emergency.gas_leak", "3号楼燃气泄漏着火")
    fire = ticket("fire", "emergency.fire", "3号楼燃气泄漏着火")
    found = find_duplicates(CANDIDATE, [gas, fire], NOW)
    assert [m.ticket_id for m in found] == ["fire", "gas"]
    assert "相关类别" in found[1].reason


def test_same_address_without_coordinates_matches() -> None:
    a = ticket("a", lat=None, lon=None)
    b = ticket("b", text="天中花园3号楼起火了", lat=None, lon=None, minutes_ago=0)
    found = find_duplicates(b, [a], NOW)
    assert [m.ticket_id for m in found] == ["a"]
    assert "地址相同" in found[0].reason


def test_different_address_without_coordinates_does_not_match() -> None:
    a = ticket("a", address="上蔡县蔡都街道幸福家园", lat=None, lon=None, district=None)
    b = ticket("b", lat=None, lon=None, minutes_ago=0, district=None)
    assert find_duplicates(b, [a], NOW) == []


def test_different_known_districts_never_match() -> None:
    other = ticket("x", district="xiping")
    assert find_duplicates(CANDIDATE, [other], NOW) == []


def test_ranked_by_score_and_limited() -> None:
    tickets = [ticket(f"t{i}", minutes_ago=10 + i * 10) for i in range(8)]
    found = find_duplicates(CANDIDATE, tickets, NOW, limit=3)
    assert [m.ticket_id for m in found] == ["t0", "t1", "t2"]
    assert found[0].score >= found[1].score >= found[2].score


def test_a_ticket_created_after_now_or_itself_is_ignored() -> None:
    future = ticket("future", minutes_ago=-5)
    assert find_duplicates(CANDIDATE, [future, CANDIDATE], NOW) == []


def test_similarity_and_relations() -> None:
    assert similarity("路灯不亮", "路灯不亮") == 1.0
    assert similarity("路灯不亮", "有人打架") == 0.0
    assert related("police.public_order", "urban.construction_noise")
    assert not related("emergency.fire", "urban.vending")


def test_one_intersection_in_two_address_styles_matches_without_coordinates() -> None:
    a = ticket("a", category="transport.accident", address="解放大道与雪松路交叉口", lat=None, lon=None, district=None)
    b = ticket("b", category="transport.accident", address="解放大道雪松路路口", lat=None, lon=None, district=None)
    [match] = find_duplicates(b, [a], NOW)
    assert match.ticket_id == "a" and "地址相同" in match.reason
