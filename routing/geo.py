"""Where a request happened: district detection from a field, an address text or coordinates.

Names come from ``agencies.districts`` (districts and their towns). An address is searched for
every known name; the longest match wins, so "正阳县汝南埠镇" is 正阳县 (汝南埠镇, a town of
正阳县) and not 汝南县. Coordinates fall back to the rough circles of ``District``.
"""

from __future__ import annotations

import math
from typing import Final

from agencies.districts import DISTRICTS, District, find_district

EARTH_RADIUS_M: Final = 6_371_000.0

_SUFFIXES: Final = ("回族乡", "回族镇", "街道", "镇", "乡")
# Short forms that are everyday words or common road and village names: never a district by themselves.
_SHORT_STOPLIST: Final = frozenset(
    {"人民", "新华", "东风", "西园", "南海", "老街", "车站", "古城", "花园", "清河", "王店", "辛店", "双庙", "十字路"}
)
# Places in the city centre known to lie in 驿城区; looked at only when nothing else matched.
CITY_LANDMARKS: Final[tuple[str, ...]] = (
    "解放大道",
    "中华路",
    "交通路",
    "雪松大道",
    "文明大道",
    "风光路",
    "练江大道",
    "骏马路",
    "乐山大道",
    "前进大道",
    "人民公园",
    "市中心医院",
    "驻马店火车站",
    "天中山大道",
    "练江河",
    "置地大道",
)
# A short name followed by one of these is a village, road or estate of the same name, not the town.
_NOT_TOWN_AFTER: Final = "村路街道大社区小区组庄队"


def _names() -> list[tuple[str, str, bool]]:
    """(name, district code, is_short) for every district and town, longest first."""
    names: list[tuple[str, str, bool]] = []
    short_owner: dict[str, set[str]] = {}
    for d in DISTRICTS:
        names.append((d.name_zh, d.code, False))
        if d.name_zh.endswith(("县", "区")) and len(d.name_zh) >= 3:
            short = d.name_zh[:-1]
            if short not in ("经济开发", "高新"):
                short_owner.setdefault(short, set()).add(d.code)
        for town in d.towns:
            names.append((town, d.code, False))
            for suffix in _SUFFIXES:
                if town.endswith(suffix) and len(town) - len(suffix) >= 2:
                    short_owner.setdefault(town[: -len(suffix)], set()).add(d.code)
                    break
    names.append(("开发区", "kaifaqu", False))
    full = {n for n, _, _ in names}
    for short, owners in short_owner.items():
        if len(owners) == 1 and short not in _SHORT_STOPLIST and short not in full:
            names.append((short, next(iter(owners)), True))
    names.sort(key=lambda item: -len(item[0]))
    return names


_NAMES: Final = _names()


def _by_first_two(names: list[tuple[str, str, bool]]) -> dict[str, tuple[int, ...]]:
    """Positions in ``names`` of the names starting with each two characters."""
    index: dict[str, list[int]] = {}
    for i, (name, _, _) in enumerate(names):
        index.setdefault(name[:2], []).append(i)
    return {key: tuple(positions) for key, positions in index.items()}


# A text can only hold the names that start with one of its character pairs: looking those up
# first spares a search of the text for each of the hundreds of names.
_NAMES_BY_FIRST_TWO: Final = _by_first_two(_NAMES)
assert all(len(name) >= 2 for name, _, _ in _NAMES), "the index needs names of two characters or more"


def _valid_at(text: str, name: str, short: bool, pos: int) -> bool:
    after = text[pos + len(name) : pos + len(name) + 1]
    return not (short and after and after in _NOT_TOWN_AFTER)


def district_from_text(text: str) -> str | None:
    """The district code named in a free address text (district, town or landmark), else None.

    The longest name found wins; among names of one length, the first in the text.
    """
    best: tuple[int, str] | None = None  # (position, code) of the best name of the current length
    best_len = 0
    found = {i for k in range(len(text) - 1) for i in _NAMES_BY_FIRST_TWO.get(text[k : k + 2], ())}
    for name, code, short in (_NAMES[i] for i in sorted(found)):
        if best is not None and len(name) < best_len:
            break
        pos = text.find(name)
        while pos != -1:
            if _valid_at(text, name, short, pos):
                if best is None or pos < best[0]:
                    best, best_len = (pos, code), len(name)
                break
            pos = text.find(name, pos + 1)
    if best is not None:
        return best[1]
    for landmark in CITY_LANDMARKS:
        if landmark in text:
            return "yicheng"
    return None


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two WGS-84 points (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def district_from_point(lat: float, lon: float) -> str | None:
    """The district whose approximate area holds the point: zones first, then the nearest county."""
    zones = [d for d in DISTRICTS if d.radius_km and d.radius_km < 10]
    counties = [d for d in DISTRICTS if d.radius_km >= 10]

    def reach(d: District) -> float:
        return distance_m(lat, lon, d.lat, d.lon) / (d.radius_km * 1000)

    inside_zone = [d for d in zones if reach(d) <= 1.0]
    if inside_zone:
        return min(inside_zone, key=reach).code
    inside = [d for d in counties if reach(d) <= 1.0]
    return min(inside, key=reach).code if inside else None


def locate_district(
    address: str | None,
    district: str | None = None,
    lat: float | None = None,
    lon: float | None = None,
) -> str | None:
    """The district code of a request, or None when nothing identifies one.

    In order: the explicit ``district`` field (a code, a Chinese name, or a text naming one),
    the ``address`` text (district, town, township or 街道 names, a few city landmarks), then
    ``lat``/``lon`` inside a district's approximate area.
    """
    if district and district.strip():
        found = find_district(district)
        if found:
            return found.code
        named = district_from_text(district)
        if named:
            return named
    if address:
        named = district_from_text(address)
        if named:
            return named
    if lat is not None and lon is not None:
        return district_from_point(lat, lon)
    return None
