"""The shipped district map: built from agencies/district_map.py, one outline per district of
the taxonomy, and every town point and seat inside its own district."""

from __future__ import annotations

import itertools
import json
from importlib import resources

from agencies import district_map
from agencies.districts import DISTRICTS

MAP_FILE = resources.files("dispatch").joinpath("static/map/zhumadian.json")


def _inside(point: list[float], ring: list[list[float]]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in itertools.pairwise(ring):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def _areas() -> dict[str, list[list[list[float]]]]:
    data = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    areas = {}
    for feature in data["features"]:
        props, geometry = feature["properties"], feature["geometry"]
        if props["kind"] == "district":
            areas[props["code"]] = [polygon[0] for polygon in geometry["coordinates"]]
        elif props["kind"] == "zone":
            areas[props["code"]] = [geometry["coordinates"][0]]
    return areas


def test_the_shipped_file_is_what_the_module_builds() -> None:
    assert MAP_FILE.read_text(encoding="utf-8") == district_map.dumps()


def test_every_district_and_zone_has_one_outline() -> None:
    areas = _areas()
    assert set(areas) == {d.code for d in DISTRICTS}
    for code, rings in areas.items():
        assert len(rings) == 1, code  # the union of a district's cells is one piece


def test_seats_and_towns_lie_in_their_own_district() -> None:
    areas = _areas()
    data = json.loads(MAP_FILE.read_text(encoding="utf-8"))
    for feature in data["features"]:
        props = feature["properties"]
        if props["kind"] == "district":
            assert _inside(props["seat"], areas[props["code"]][0]), props["code"]
        if props["kind"] == "town":
            point = feature["geometry"]["coordinates"]
            assert _inside(point, areas[props["district"]][0]), props
