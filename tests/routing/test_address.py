"""Addresses: one key per place, however the intersection, the building or the prefix is said."""

from __future__ import annotations

import pytest

from routing.address import address_key, intersection, same_place


@pytest.mark.parametrize(
    "spelling",
    [
        "解放大道与雪松路交叉口",
        "解放大道雪松路路口",
        "解放大道和雪松路口",
        "雪松路跟解放大道十字",
        "雪松路与解放大道交叉路口附近",
        "驻马店市驿城区解放大道与雪松路交叉口东北角",
        "解放大道 / 雪松路 十字路口",
    ],
)
def test_every_way_of_naming_an_intersection_is_the_same_place(spelling: str) -> None:
    assert same_place(spelling, "解放大道与雪松路交叉口")
    assert intersection(spelling) == ("解放大道", "雪松路")


def test_different_intersections_and_single_roads_are_different_places() -> None:
    assert not same_place("解放大道与雪松路交叉口", "解放大道与交通路交叉口")
    assert not same_place("解放大道与雪松路交叉口", "解放大道")
    assert intersection("解放大道北段") is None


@pytest.mark.parametrize(
    "spelling", ["康桥小区6号楼2单元", "康桥小区六号楼二单元", "康桥小区6栋2单元", "康桥小区6幢2号单元"]
)
def test_building_and_unit_numbers_are_spelled_one_way(spelling: str) -> None:
    assert address_key(spelling) == "康桥小区6号楼2单元"


def test_a_different_building_is_a_different_place() -> None:
    assert not same_place("康桥小区6号楼2单元", "康桥小区16号楼2单元")


def test_city_and_district_prefixes_and_spoken_fillers_do_not_matter() -> None:
    assert same_place("河南省驻马店市交通路永辉超市", "交通路永辉超市附近")
    assert same_place("练江大道和骏马路那个路口", "练江大道与骏马路交叉口")
