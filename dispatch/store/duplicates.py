"""Candidates for the duplicate finder: open tickets near in place and time."""

from __future__ import annotations

import functools
from datetime import datetime

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


def _facts(row: asyncpg.Record) -> routing.TicketFacts:
    key = (row["id"], row["created_at"], row["category"])
    facts = _kept.get(key)
    if facts is None:
        if len(_kept) >= FACTS_KEPT:
            del _kept[next(iter(_kept))]  # the oldest kept
        facts = _kept[key] = routing.TicketFacts(
            id=str(row["id"]),
            category=row["category"] or "",
            text=row["description"],
            address=row["address"],
            district=row["district"],
            lat=row["lat"],
            lon=row["lon"],
            created_at=row["created_at"],
        )
    return facts


@functools.cache
def _candidates_sql(categories: int, district: bool, point: bool, limit: int) -> str:
    """The newest open tickets of each related category, for each way of being near (same
    district, inside the box around the point, or anywhere when neither is known), merged
    newest first. Each branch walks an index already in that order (``tickets_open_by_district_category``
    or ``tickets_open_by_category``) and stops after ``limit`` rows, however many tickets a flood
    has left open: no row is read only to be filtered out. $1 the ticket to leave out, $2 the window in
    seconds, then one parameter per category, then the district, then the point."""
    near: list[str] = []
    next_param = 3 + categories
    if district:
        near.append(f"district = ${next_param}")
        next_param += 1
    if point:
        y, x = f"${next_param}::float8", f"${next_param + 1}::float8"
        near.append(f"lat BETWEEN {y} - {BOX} AND {y} + {BOX} AND lon BETWEEN {x} - {BOX} AND {x} + {BOX}")
    if not near:
        near.append("true")  # nothing known about the place: the finder compares addresses
    branches = [
        f"""
        (SELECT id, number, category, description, address, district, lat, lon, created_at FROM tickets
         WHERE {place} AND category = ${3 + i}
           AND status NOT IN ('closed', 'merged', 'cancelled')
           AND created_at > now() - make_interval(secs => $2)
           AND id IS DISTINCT FROM $1
         ORDER BY created_at DESC LIMIT {limit})"""
        for place in near
        for i in range(categories)
    ]
    return f"SELECT * FROM ({' UNION ALL '.join(branches)}) near ORDER BY created_at DESC LIMIT {limit}"


async def duplicate_candidates(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    category: str,
    exclude_id: int | None,
    district: str | None,
    lat: float | None,
    lon: float | None,
    limit: int = CANDIDATE_LIMIT,
) -> tuple[list[routing.TicketFacts], dict[int, str]]:
    """Open tickets of a related category, within the longest window of those categories,
    in the same district or near the point; and their ticket numbers by id."""
    categories = sorted(routing.related_categories(category))
    window_s = max(routing.window(c).total_seconds() for c in categories)
    args: list[object] = [exclude_id, window_s, *categories]
    if district is not None:
        args.append(district)
    point = lat is not None and lon is not None
    if point:
        args += [lat, lon]
    sql = _candidates_sql(len(categories), district is not None, point, limit)
    rows = await conn.fetch(sql, *args)
    rows = list({r["id"]: r for r in rows}.values())  # a ticket both in the district and near the point
    facts = [_facts(r) for r in rows]
    return facts, {r["id"]: r["number"] for r in rows}


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
) -> list[dict[str, object]]:
    """Ranked open tickets that are probably the same incident, each with a reason."""
    candidates, numbers = await duplicate_candidates(
        conn, category=category, exclude_id=exclude_id, district=district, lat=lat, lon=lon
    )
    if not candidates:
        return []
    facts = routing.TicketFacts(
        id=str(exclude_id or 0),
        category=category,
        text=text,
        address=address,
        district=district,
        lat=lat,
        lon=lon,
        created_at=now,
    )
    matches = routing.find_duplicates(facts, candidates, now)
    if not matches:
        return []
    return [
        {
            "id": int(m.ticket_id),
            "number": numbers.get(int(m.ticket_id), ""),
            "score": round(m.score, 3),
            "reason": m.reason,
        }
        for m in matches
    ]
