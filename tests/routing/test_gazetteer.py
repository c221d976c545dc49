"""The gazetteer: CSV in, places matched by address key; the shipped one for 驿城区."""

from __future__ import annotations

import pytest

import routing
from dispatch.store.gazetteer import SHIPPED_PATH
from routing.gazetteer import Gazetteer, GazetteerError, parse_csv, to_csv
from routing.geo import locate_district

CSV = """name,kind,district,lat,lon,aliases
解放大道与雪松路交叉口,intersection,驿城区,33.008,114.024,
驻马店市中心医院,place,yicheng,33.010,114.018,市中心医院|中心医院
"""


def test_an_intersection_is_found_however_it_is_said() -> None:
    gazetteer = Gazetteer(parse_csv(CSV))
    for address in ("解放大道雪松路路口", "雪松路跟解放大道十字东北角", "驿城区解放大道和雪松路口"):
        place = gazetteer.match(address)
        assert place is not None and place.name == "解放大道与雪松路交叉口", address
        assert place.to_dict() == {
            "name": "解放大道与雪松路交叉口",
            "district": "yicheng",
            "lat": 33.008,
            "lon": 114.024,
        }


def test_a_place_is_found_by_its_name_or_an_alias_inside_an_address() -> None:
    gazetteer = Gazetteer(parse_csv(CSV))
    found = gazetteer.match("中心医院急诊楼门口")
    assert found is not None and found.name == "驻马店市中心医院"
    assert gazetteer.match("西平县柏城大道") is None


def test_bad_rows_are_all_reported_with_their_row_numbers() -> None:
    bad = CSV + "不是路口,intersection,驿城区,33,114,\n某地,place,火星区,33,114,\n某处,place,驿城区,95,114,\n"
    with pytest.raises(GazetteerError) as caught:
        parse_csv(bad)
    assert [row for row, _ in caught.value.problems] == [4, 5, 6]
    with pytest.raises(GazetteerError):
        parse_csv("name,lat\n某地,33\n")


def test_csv_round_trips() -> None:
    places = parse_csv(CSV)
    assert parse_csv(to_csv(places)) == places


def test_the_shipped_gazetteer_reads_and_every_place_lies_in_its_district() -> None:
    places = parse_csv(SHIPPED_PATH.read_text(encoding="utf-8"))
    assert len(places) >= 25
    for place in places:
        assert locate_district(None, None, place.lat, place.lon) == place.district, place.name


def test_classify_places_a_request_and_gives_its_district() -> None:
    gazetteer = Gazetteer(parse_csv(CSV))
    result = routing.classify("两辆车撞了，路堵死了", address="解放大道雪松路路口", gazetteer=gazetteer)
    assert result.place is not None and result.place.name == "解放大道与雪松路交叉口"
    assert result.district == "yicheng"
    assert result.to_dict()["place"] == {
        "name": "解放大道与雪松路交叉口",
        "district": "yicheng",
        "lat": 33.008,
        "lon": 114.024,
    }
    assert routing.classify("路灯不亮", address="西平县柏城大道", gazetteer=gazetteer).to_dict()["place"] is None
