"""District detection from the district field, the address text and coordinates."""

import pytest

from agencies.districts import DISTRICTS, District
from routing import distance_m, locate_district
from routing.geo import district_from_point


@pytest.mark.parametrize("district", DISTRICTS, ids=lambda d: d.code)
def test_field_by_code_or_chinese_name(district: District) -> None:
    assert locate_district(None, district.code) == district.code
    assert locate_district(None, district.name_zh) == district.code
    assert locate_district("", f" {district.name_zh} ") == district.code


@pytest.mark.parametrize("district", DISTRICTS, ids=lambda d: d.code)
def test_every_town_in_an_address_names_its_district(district: District) -> None:
    assert district.towns, f"{district.code} has no towns"
    for town in district.towns:
        assert locate_district(f"{town}张庄村三组") == district.code, town


def test_town_names_are_unique_across_districts() -> None:
    seen: dict[str, str] = {}
    for district in DISTRICTS:
        for town in district.towns:
            assert town not in seen, f"{town} in {seen.get(town)} and {district.code}"
            seen[town] = district.code


def test_longest_name_wins_over_a_district_name_inside_it() -> None:
    # 汝南埠镇 is a town of 正阳县, not of 汝南县.
    assert locate_district("汝南埠镇李庄") == "zhengyang"


def test_short_town_name_is_enough() -> None:
    assert locate_district("俺是水屯这边的") == "yicheng"


def test_short_name_followed_by_village_is_a_village_not_the_town() -> None:
    assert locate_district("竹沟村") is None
    assert locate_district("竹沟镇") == "queshan"


def test_city_landmark_is_yicheng() -> None:
    assert locate_district("交通路永辉超市门口") == "yicheng"


def test_development_zone_beats_the_district_around_it() -> None:
    assert locate_district("驿城区经济开发区金河街道") == "kaifaqu"


def test_field_wins_over_address() -> None:
    assert locate_district("上蔡县重阳街道", "西平县") == "xiping"


def test_unknown_field_falls_back_to_address() -> None:
    assert locate_district("新蔡县古吕街道", "不知道") == "xincai"


@pytest.mark.parametrize("district", DISTRICTS, ids=lambda d: d.code)
def test_centre_of_each_district_locates_it(district: District) -> None:
    assert locate_district(None, lat=district.lat, lon=district.lon) == district.code


def test_address_text_wins_over_coordinates() -> None:
    xiping = next(d for d in DISTRICTS if d.code == "xiping")
    assert locate_district("正阳县真阳街道", lat=xiping.lat, lon=xiping.lon) == "zhengyang"


def test_point_far_outside_the_city_is_none() -> None:
    assert district_from_point(34.75, 113.62) is None  # 郑州
    assert locate_district(None) is None
    assert locate_district("107国道") is None


def test_distance_between_county_seats_is_plausible() -> None:
    # 驿城区 to 遂平县 is about 15 km.
    assert 12_000 < distance_m(33.011, 114.022, 33.146, 114.013) < 18_000


def test_a_crossing_said_as_shizilukou_is_not_the_town_of_shizilu() -> None:
    assert locate_district("雪松路和解放大道十字路口") == "yicheng"
