"""Candidates for the duplicate finder: open tickets near in place and time."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

import routing

# About 3 km of latitude: a generous box, the finder measures real distances.
BOX = 0.03
# The newest candidates are enough: the finder ranks them by place, time and text.
CANDIDATE_LIMIT = 100

# The same open tickets are candidates for every new call in their district for hours: their
# facts are kept, keyed by what identifies one ticket's version (a category may be corrected).
FACTS_KEPT = 20_000
_kept: dict[tuple[int, datetime, str | None], routing.TicketFacts] = {}


# Candidate rows, whether asyncpg Records or the tuples of an array of anonymous rows, are read
# by position in this order.
CANDIDATE_COLUMNS = "id, number, category, description, address, district, lat, lon, created_at"
Candidate = Sequence[Any]


def _facts(row: Candidate) -> routing.TicketFacts:
    ticket_id, _, category, description, address, district, lat, lon, created_at = row
    key = (ticket_id, created_at, category)
    facts = _kept.get(key)
    if facts is None:
        if len(_kept) >= FACTS_KEPT:
            del _kept[next(iter(_kept))]  # the oldest kept
        facts = _kept[key] = routing.TicketFacts(
            id=str(ticket_id),
            category=category or "",
            text=description,
            address=address,
            district=district,
            lat=lat,
            lon=lon,
            created_at=created_at,
        )
    return facts


@functools.cache
def _candidates_sql(categories: int, district: bool, point: bool, limit: int, first: int, exclude: bool) -> str:
    """The newest open tickets of each related category, for each way of being near (same
    district, inside the box around the point, or anywhere when neither is known), merged
    newest first. Each branch walks an index already in that order (``tickets_open_by_district_category``
    or ``tickets_open_by_category``) and stops after ``limit`` rows, however many tickets a flood
    has left open: no row is read only to be filtered out. Parameters from ``$first``: the window
    in seconds, one per category, the district, the point, then (``exclude``) a ticket to leave out."""
    numbers = itertools.count(first)
    window = f"${next(numbers)}"
    category_params = [f"${next(numbers)}" for _ in range(categories)]
    near: list[str] = []
    if district:
        near.append(f"district = ${next(numbers)}")
    if point:
        y, x = f"${next(numbers)}::float8", f"${next(numbers)}::float8"
        near.append(f"lat BETWEEN {y} - {BOX} AND {y} + {BOX} AND lon BETWEEN {x} - {BOX} AND {x} + {BOX}")
    if not near:
        near.append("true")  # nothing known about the place: the finder compares addresses
    leave_out = f" AND id IS DISTINCT FROM ${next(numbers)}" if exclude else ""
    branches = [
        f"""
        (SELECT {CANDIDATE_COLUMNS} FROM tickets
         WHERE {place} AND category = {category}
           AND status NOT IN ('closed', 'merged', 'cancelled') AND status <> 'answered'
           AND created_at > now() - make_interval(secs => {window}){leave_out}
         ORDER BY created_at DESC LIMIT {limit})"""
        for place in near
        for category in category_params
    ]
    return f"SELECT * FROM ({' UNION ALL '.join(branches)}) near ORDER BY created_at DESC LIMIT {limit}"


@dataclass(frozen=True, slots=True)
class CandidateSearch:
    """Where the duplicates of a call about ``category`` can be: open tickets of a related
    category, within the longest window of those categories, in the district or near the point."""

    categories: tuple[str, ...]
    window_s: float
    district: str | None
    point: tuple[float, float] | None
    limit: int = CANDIDATE_LIMIT

    @classmethod
    def around(cls, category: str, district: str | None, lat: float | None, lon: float | None) -> CandidateSearch:
        categories = tuple(sorted(routing.related_categories(category)))
        window_s = max(routing.window(c).total_seconds() for c in categories)
        point = (lat, lon) if lat is not None and lon is not None else None
        return cls(categories, window_s, district, point)

    def sql(self, first: int = 1, *, exclude: bool = False) -> str:
        """The query, its parameters numbered from ``first`` (see ``args``)."""
        return _candidates_sql(
            len(self.categories), self.district is not None, self.point is not None, self.limit, first, exclude
        )

    def args(self) -> list[object]:
        """The parameters of ``sql``, without the ticket to leave out."""
        args: list[object] = [self.window_s, *self.categories]
        if self.district is not None:
            args.append(self.district)
        if self.point is not None:
            args += list(self.point)
        return args


async def duplicate_candidates(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    category: str,
    exclude_id: int | None,
    district: str | None,
    lat: float | None,
    lon: float | None,
) -> list[Candidate]:
    """The candidate rows for a call (see ``CandidateSearch``), leaving out ``exclude_id``."""
    search = CandidateSearch.around(category, district, lat, lon)
    return list(await conn.fetch(search.sql(exclude=True), *search.args(), exclude_id))


async def find_duplicates(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    exclude_id: int | None,
    category: str,
    text: str,
    address: str,
    district: str | None,
    lat: float | None,
    lon: float | None,
    now: datetime,
    candidates: Sequence[Candidate] | None = None,
) -> list[dict[str, object]]:
    """Ranked open tickets that are probably the same incident, each with a reason.
    ``candidates`` are rows already read (a new ticket reads them in the statement that
    creates it: ``store.tickets``); without them they are read here."""
    if candidates is None:
        candidates = await duplicate_candidates(
            conn, category=category, exclude_id=exclude_id, district=district, lat=lat, lon=lon
        )
    if not candidates:
        return []
    by_id = {row[0]: row for row in candidates}  # a ticket both in the district and near the point
    numbers = {ticket_id: row[1] for ticket_id, row in by_id.items()}
    call = routing.TicketFacts(
        id=str(exclude_id or 0),
        category=category,
        text=text,
        address=address,
        district=district,
        lat=lat,
        lon=lon,
        created_at=now,
    )
    return [
        {
            "id": int(m.ticket_id),
            "number": numbers.get(int(m.ticket_id), ""),
            "score": round(m.score, 3),
            "reason": m.reason,
        }
        for m in routing.find_duplicates(call, [_facts(row) for row in by_id.values()], now)
    ]
