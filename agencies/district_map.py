"""A schematic map of 驻马店市's districts, drawn for this project: outlines and town points
that the consoles' offline map draws (dispatch/static/map/zhumadian.json, built from here by
``python -m agencies.district_map``).

No openly licensed county outlines of 驻马店 were to be had from a package registry (the
ones published derive from commercial map providers whose terms allow learning use only,
see dispatch/static/map/README.md), so the outlines are made here from public, approximate
facts: a hand-drawn simplified outline of the city, and a few seed points per district (its
seat and points across its known extent). Each district is the union of the seeds' Voronoi
cells clipped to the outline; the two development zones are small polygons around their
approximate centres (``agencies.districts``). It places an incident in the right district
at a glance; it is not survey data and must not be read as an administrative boundary.

Town points are the seats' sub-district offices (街道, at the seat) and a few towns whose
position is known roughly (``approx_km`` says how roughly). Everything is WGS-84 degrees.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any, Final

from agencies.districts import DISTRICTS_BY_CODE

Point = tuple[float, float]  # (lon, lat)

# The city's outline, clockwise from the north-west, simplified to about 5 km.
OUTLINE: Final[tuple[Point, ...]] = (
    (113.68, 33.40), (113.80, 33.50), (113.95, 33.57), (114.12, 33.55), (114.25, 33.48),
    (114.40, 33.48), (114.55, 33.38), (114.62, 33.25), (114.80, 33.18), (114.92, 33.05),
    (115.08, 33.00), (115.15, 32.85), (115.10, 32.68), (115.00, 32.58), (114.88, 32.50),
    (114.72, 32.42), (114.55, 32.36), (114.35, 32.38), (114.18, 32.44), (114.00, 32.48),
    (113.82, 32.52), (113.62, 32.45), (113.45, 32.42), (113.30, 32.48), (113.22, 32.60),
    (113.18, 32.80), (113.24, 32.98), (113.35, 33.08), (113.50, 33.05), (113.62, 33.10),
    (113.65, 33.25),
)  # fmt: skip

# Seeds of each district's cells: the seat first, then points across the district.
SEEDS: Final[dict[str, tuple[Point, ...]]] = {
    "yicheng": ((114.02, 33.00), (113.88, 32.98), (113.72, 32.98), (113.60, 32.99)),
    "xiping": ((114.02, 33.39), (113.80, 33.36), (114.12, 33.47), (113.92, 33.50)),
    "shangcai": ((114.26, 33.26), (114.30, 33.43), (114.46, 33.32)),
    "pingyu": ((114.62, 32.96), (114.66, 33.10), (114.58, 32.83)),
    "zhengyang": ((114.39, 32.61), (114.62, 32.48), (114.22, 32.49), (114.36, 32.76), (114.75, 32.47)),
    "queshan": ((114.03, 32.80), (113.82, 32.72), (114.06, 32.58), (113.90, 32.86)),
    "biyang": ((113.33, 32.72), (113.22, 32.92), (113.45, 32.53), (113.45, 32.90), (113.62, 32.62)),
    "runan": ((114.36, 33.01), (114.22, 33.04), (114.40, 33.14), (114.46, 32.90)),
    "suiping": ((114.01, 33.15), (113.80, 33.15), (113.90, 33.24)),
    "xincai": ((114.98, 32.75), (115.08, 32.88), (114.88, 32.62), (114.85, 32.92)),
}

# The development zones inside 驿城区: polygons of this many corners around their centres.
ZONE_CORNERS: Final = 8

# Towns whose position is known roughly: (district, name, lon, lat, approx_km).
TOWNS: Final[tuple[tuple[str, str, float, float, float], ...]] = (
    ("yicheng", "板桥镇", 113.64, 32.98, 8.0),
    ("yicheng", "沙河店镇", 113.56, 33.01, 8.0),
    ("yicheng", "水屯镇", 114.05, 33.05, 6.0),
    ("yicheng", "诸市镇", 113.93, 32.93, 8.0),
    ("suiping", "嵖岈山镇", 113.78, 33.14, 6.0),
    ("suiping", "玉山镇", 113.86, 33.20, 8.0),
    ("queshan", "竹沟镇", 113.80, 32.73, 6.0),
    ("queshan", "新安店镇", 114.08, 32.62, 8.0),
    ("xiping", "出山镇", 113.80, 33.35, 8.0),
    ("xiping", "五沟营镇", 113.98, 33.50, 8.0),
    ("shangcai", "蔡沟镇", 114.35, 33.42, 8.0),
    ("shangcai", "黄埠镇", 114.45, 33.30, 8.0),
    ("runan", "宿鸭湖街道", 114.25, 33.00, 6.0),
    ("runan", "老君庙镇", 114.42, 33.13, 8.0),
    ("pingyu", "射桥镇", 114.62, 33.08, 8.0),
    ("zhengyang", "汝南埠镇", 114.36, 32.76, 8.0),
    ("zhengyang", "铜钟镇", 114.62, 32.50, 8.0),
    ("biyang", "羊册镇", 113.25, 32.88, 8.0),
    ("biyang", "马谷田镇", 113.46, 32.53, 8.0),
    ("biyang", "象河乡", 113.45, 32.90, 8.0),
    ("xincai", "练村镇", 114.88, 32.62, 8.0),
    ("xincai", "龙口镇", 115.08, 32.88, 8.0),
)

# How far a seat's sub-district offices may lie from the seat point.
SEAT_KM: Final = 3.0
KM_PER_DEGREE: Final = 111.2


def _clip(polygon: list[Point], keep: Point, other: Point) -> list[Point]:
    """The part of ``polygon`` nearer to ``keep`` than to ``other`` (Sutherland-Hodgman on
    the perpendicular bisector; distances on a plane scaled by the cosine of the latitude)."""
    scale = math.cos(math.radians((keep[1] + other[1]) / 2))

    def side(p: Point) -> float:
        # > 0 on keep's side: |p - other|^2 - |p - keep|^2
        def d2(a: Point, b: Point) -> float:
            return ((a[0] - b[0]) * scale) ** 2 + (a[1] - b[1]) ** 2

        return d2(p, other) - d2(p, keep)

    result: list[Point] = []
    for i, current in enumerate(polygon):
        previous = polygon[i - 1]
        s_cur, s_prev = side(current), side(previous)
        if (s_cur >= 0) != (s_prev >= 0):
            t = s_prev / (s_prev - s_cur)
            result.append((previous[0] + t * (current[0] - previous[0]), previous[1] + t * (current[1] - previous[1])))
        if s_cur >= 0:
            result.append(current)
    return result


SNAP_DEGREES: Final = 0.0005  # corners of two cells closer than this (about 50 m) are one


def _union(cells: list[list[Point]]) -> list[list[Point]]:
    """The outer rings of cells that meet along whole edges (Voronoi cells do): every edge
    two cells share is dropped, the rest chained into rings."""
    edges: dict[tuple[int, int], int] = {}
    points: list[Point] = []

    def key(p: Point) -> int:
        for index, q in enumerate(points):
            if abs(p[0] - q[0]) < SNAP_DEGREES and abs(p[1] - q[1]) < SNAP_DEGREES:
                return index
        points.append(p)
        return len(points) - 1

    for cell in cells:
        for i, a in enumerate(cell):
            b = cell[(i + 1) % len(cell)]
            ka, kb = key(a), key(b)
            if ka == kb:
                continue
            if (kb, ka) in edges:
                del edges[(kb, ka)]
            else:
                edges[(ka, kb)] = 1
    following = {a: b for a, b in edges}
    rings = []
    while following:
        start, current = next(iter(following.items()))
        del following[start]
        ring = [points[start]]
        while current != start and current in following:
            ring.append(points[current])
            current = following.pop(current)
        if len(ring) >= 3:
            rings.append(ring)
    return rings


def _ring(points: list[Point]) -> list[list[float]]:
    closed = [*points, points[0]]
    return [[round(lon, 4), round(lat, 4)] for lon, lat in closed]


def _zone(lon: float, lat: float, radius_km: float) -> list[Point]:
    dlat = radius_km / KM_PER_DEGREE
    dlon = dlat / math.cos(math.radians(lat))
    return [
        (lon + dlon * math.cos(2 * math.pi * k / ZONE_CORNERS), lat + dlat * math.sin(2 * math.pi * k / ZONE_CORNERS))
        for k in range(ZONE_CORNERS)
    ]


def build() -> dict[str, Any]:
    """The map as GeoJSON: a Feature per district (``code``, ``name``, ``seat``, ``kind``)
    and a Feature per town point (``district``, ``name``, ``approx_km``)."""
    outline = list(reversed(OUTLINE))  # counter-clockwise, as GeoJSON rings go
    seeds = [seed for points in SEEDS.values() for seed in points]
    features: list[dict[str, Any]] = []
    for code, points in SEEDS.items():
        cells = []
        for seed in points:
            cell = outline
            for other in seeds:
                if other != seed:
                    cell = _clip(cell, seed, other)
            if cell:
                cells.append(cell)
        rings = _union(cells)
        district = DISTRICTS_BY_CODE[code]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "kind": "district",
                    "code": code,
                    "name": district.name_zh,
                    "seat": [district.lon, district.lat],
                },
                "geometry": {"type": "MultiPolygon", "coordinates": [[_ring(r)] for r in rings]},
            }
        )
    for code in ("kaifaqu", "gaoxinqu"):
        zone = DISTRICTS_BY_CODE[code]
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "zone", "code": code, "name": zone.name_zh, "seat": [zone.lon, zone.lat]},
                "geometry": {"type": "Polygon", "coordinates": [_ring(_zone(zone.lon, zone.lat, zone.radius_km))]},
            }
        )
    towns: list[tuple[str, str, float, float, float]] = list(TOWNS)
    for code, district in DISTRICTS_BY_CODE.items():
        if code in SEEDS:
            seat = [name for name in district.towns if name.endswith("街道")]
            towns += [(code, name, district.lon, district.lat, SEAT_KM) for name in seat]
    for code, name, lon, lat, approx in towns:
        assert name in DISTRICTS_BY_CODE[code].towns, (code, name)
        features.append(
            {
                "type": "Feature",
                "properties": {"kind": "town", "district": code, "name": name, "approx_km": approx},
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
            }
        )
    return {
        "type": "FeatureCollection",
        "name": "驻马店市 districts (schematic)",
        "license": "Apache-2.0, drawn for this project; see README.md beside this file",
        "features": features,
    }


def dumps() -> str:
    """The map as the shipped file holds it (one feature a line, for readable diffs)."""
    data = build()
    features = ",\n".join(json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in data["features"])
    head = {k: v for k, v in data.items() if k != "features"}
    return json.dumps(head, ensure_ascii=False)[:-1] + ', "features": [\n' + features + "\n]}\n"


if __name__ == "__main__":
    sys.stdout.write(dumps())
