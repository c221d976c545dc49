"""Desk choice: the agency's desk for the district, else its city-level desk, else none."""

import pytest

from agencies import AGENCIES
from agencies.districts import DISTRICTS
from routing import DeskInfo, choose_desk


def city_and_county_desks() -> list[DeskInfo]:
    desks = []
    for agency in AGENCIES:
        desks.append(DeskInfo(f"{agency}-city", agency, frozenset(), city_level=True))
        for district in DISTRICTS:
            desks.append(DeskInfo(f"{agency}-{district.code}", agency, frozenset({district.code})))
    return desks


@pytest.mark.parametrize("agency", sorted(AGENCIES))
@pytest.mark.parametrize("district", [d.code for d in DISTRICTS])
def test_every_district_gets_its_own_desk(agency: str, district: str) -> None:
    desk = choose_desk(agency, district, city_and_county_desks())
    assert desk is not None
    assert desk.id == f"{agency}-{district}"


def test_unknown_district_goes_to_the_city_desk() -> None:
    desk = choose_desk("police", None, city_and_county_desks())
    assert desk is not None and desk.id == "police-city"


def test_district_without_a_desk_goes_to_the_city_desk() -> None:
    desks = [DeskInfo("u-city", "urban", city_level=True), DeskInfo("u-xp", "urban", frozenset({"xiping"}))]
    chosen = choose_desk("urban", "xincai", desks)
    assert chosen is not None and chosen.id == "u-city"


def test_no_desk_of_the_agency_is_none() -> None:
    desks = [DeskInfo("p-city", "police", city_level=True)]
    assert choose_desk("health", "yicheng", desks) is None
    assert choose_desk("health", None, []) is None


def test_another_agencys_desk_for_the_district_is_not_chosen() -> None:
    desks = [DeskInfo("p-yc", "police", frozenset({"yicheng"})), DeskInfo("h-city", "health", city_level=True)]
    chosen = choose_desk("health", "yicheng", desks)
    assert chosen is not None and chosen.id == "h-city"


def test_most_specific_desk_wins_whatever_the_order() -> None:
    wide = DeskInfo("t-south", "transport", frozenset({"zhengyang", "queshan", "biyang"}))
    narrow = DeskInfo("t-qs", "transport", frozenset({"queshan"}))
    for desks in ([wide, narrow], [narrow, wide]):
        chosen = choose_desk("transport", "queshan", desks)
        assert chosen is not None and chosen.id == "t-qs"


def test_a_city_level_desk_that_lists_the_district_counts_as_local() -> None:
    desks = [DeskInfo("e-city", "emergency", frozenset({"yicheng"}), city_level=True)]
    chosen = choose_desk("emergency", "yicheng", desks)
    assert chosen is not None and chosen.id == "e-city"
