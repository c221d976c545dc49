"""The gazetteer: named places and road intersections with coordinates and a district.

An administrator loads it as CSV (``dispatch gazetteer import FILE``, ``PUT /api/v1/gazetteer``);
the service keeps it in PostgreSQL and passes it here as data. :meth:`Gazetteer.match` finds
the place an address names, comparing :func:`routing.address.address_key` forms, so that
"解放大道与雪松路交叉口" and "解放大道雪松路路口" find the same intersection. Pure: text in, places out.

CSV columns (header row required, UTF-8): ``name, kind, district, lat, lon, aliases``;
``kind`` is ``intersection`` or ``place``; ``district`` a district code or Chinese name;
``aliases`` other names separated by ``|`` (optional).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from agencies import find_district
from routing.address import address_key, intersection

KINDS: Final = ("intersection", "place")
COLUMNS: Final = ("name", "kind", "district", "lat", "lon", "aliases")
MAX_ROWS: Final = 10_000
MAX_PROBLEMS: Final = 100  # a file this wrong is reported in part: the first ones are enough


class GazetteerError(ValueError):
    """A gazetteer file that cannot be read; ``problems`` lists (row, message), row 1 the header."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        first = "; ".join(f"row {row}: {message}" for row, message in problems[:5])
        super().__init__(f"{len(problems)} problem(s) in the gazetteer: {first}")


@dataclass(frozen=True, slots=True)
class Place:
    """A point of the city a caller may name: an intersection or a landmark."""

    name: str
    kind: str
    district: str  # district code
    lat: float
    lon: float
    aliases: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        """What identifies the place (its name's address key)."""
        return address_key(self.name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a matched place: ``name``, ``district``, ``lat``, ``lon``."""
        return {"name": self.name, "district": self.district, "lat": self.lat, "lon": self.lon}

    def to_row(self) -> dict[str, str]:
        """The CSV row of this place."""
        return {
            "name": self.name,
            "kind": self.kind,
            "district": self.district,
            "lat": f"{self.lat:.6f}",
            "lon": f"{self.lon:.6f}",
            "aliases": "|".join(self.aliases),
        }


class Gazetteer:
    """Places indexed by address key; intersections also by their pair of roads."""

    def __init__(self, places: Iterable[Place]) -> None:
        self.places: tuple[Place, ...] = tuple(places)
        self._crossings: dict[tuple[str, str], Place] = {}
        names: dict[str, Place] = {}
        for place in self.places:
            for name in (place.name, *place.aliases):
                roads = intersection(name)
                if place.kind == "intersection" and roads is not None:
                    self._crossings.setdefault(roads, place)
                key = address_key(name)
                if key:
                    names.setdefault(key, place)
        # Longest first: "市中心医院" is found before "中心医院" would be.
        self._names: tuple[tuple[str, Place], ...] = tuple(sorted(names.items(), key=lambda kv: -len(kv[0])))

    def __len__(self) -> int:
        return len(self.places)

    def match(self, address: str) -> Place | None:
        """The place ``address`` names: the intersection of the two roads it names, else the
        longest place name it contains; None when it names none of them."""
        if not address:
            return None
        roads = intersection(address)
        if roads is not None:
            found = self._crossings.get(roads)
            if found is not None:
                return found
        key = address_key(address)
        for name, place in self._names:
            if name in key:
                return place
        return None


EMPTY: Final = Gazetteer(())


def _number(raw: str, low: float, high: float) -> float:
    value = float(raw)
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"{raw!r} is not between {low} and {high}")
    return value


def parse_csv(text: str) -> list[Place]:
    """The places of a gazetteer CSV text; raises :class:`GazetteerError` listing every bad row."""
    try:
        return _parse(text)
    except csv.Error as exc:  # a NUL byte, an unterminated quote at the end ...
        raise GazetteerError([(0, f"not CSV: {exc}")]) from None


def _parse(text: str) -> list[Place]:
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in COLUMNS[:5] if c not in header]
    if missing:
        raise GazetteerError([(1, f"missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")])
    places: list[Place] = []
    problems: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for number, raw in enumerate(reader, start=2):
        if number - 1 > MAX_ROWS:
            problems.append((number, f"more than {MAX_ROWS} rows"))
            break
        if len(problems) >= MAX_PROBLEMS:
            break
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        if not any(row.values()):
            continue
        try:
            name = row["name"]
            if not name or len(name) > 100:
                raise ValueError("name must have 1 to 100 characters")
            kind = row["kind"] or "place"
            if kind not in KINDS:
                raise ValueError(f"kind must be one of {', '.join(KINDS)}")
            if kind == "intersection" and intersection(name) is None:
                raise ValueError("an intersection's name names two roads (解放大道与雪松路交叉口)")
            district = find_district(row["district"])
            if district is None:
                raise ValueError(f"unknown district {row['district']!r}")
            lat = _number(row["lat"], -90, 90)
            lon = _number(row["lon"], -180, 180)
            aliases = tuple(a.strip() for a in row.get("aliases", "").split("|") if a.strip())
            if len(aliases) > 20 or any(len(a) > 100 for a in aliases):
                raise ValueError("at most 20 aliases of at most 100 characters")
            place = Place(name, kind, district.code, lat, lon, aliases)
            if place.key in seen:
                raise ValueError(f"the same place as row {seen[place.key]}")
            seen[place.key] = number
            places.append(place)
        except ValueError as exc:
            problems.append((number, str(exc)))
    if problems:
        raise GazetteerError(problems)
    return places


def to_csv(places: Iterable[Place]) -> str:
    """The CSV text of ``places`` (what :func:`parse_csv` reads)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for place in places:
        writer.writerow(place.to_row())
    return out.getvalue()
