"""Which desk gets an assignment: the agency's desk for the district, else its city-level desk."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DeskInfo:
    """What routing needs to know about a desk (处置席位): plain facts, no I/O handle."""

    id: str
    agency: str
    districts: frozenset[str] = frozenset()
    city_level: bool = False


def choose_desk(agency: str, district_code: str | None, desks: Iterable[DeskInfo]) -> DeskInfo | None:
    """The desk that should receive ``agency``'s assignment for a request in ``district_code``.

    A desk of that agency serving the district wins, the most specific first (fewest districts,
    then smallest id, so the choice is stable whatever the order of ``desks``); otherwise the
    agency's city-level desk (smallest id); otherwise None. An unknown district (None) goes to
    the city-level desk.
    """
    local: list[DeskInfo] = []
    city: list[DeskInfo] = []
    for desk in desks:
        if desk.agency != agency:
            continue
        if district_code is not None and district_code in desk.districts:
            local.append(desk)
        elif desk.city_level:
            city.append(desk)
    if local:
        return min(local, key=lambda d: (len(d.districts), d.id))
    if city:
        return min(city, key=lambda d: d.id)
    return None
