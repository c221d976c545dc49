"""Candidates for the duplicate finder: open tickets near in place and time."""

from __future__ import annotations

from datetime import datetime

import asyncpg

import routing

# About 3 km of latitude: a generous box, the finder measures real distances.
BOX_DEGREES = 0.03
# The newest candidates are enough: the finder ranks them by place, time and text.
CANDIDATE_LIMIT = 100


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
    rows = await conn.fetch(
        f"""
        SELECT id, number, category, description, address, district, lat, lon, created_at FROM tickets
        WHERE status NOT IN ('closed', 'merged', 'cancelled')
          AND category = ANY($5::text[])
          AND created_at > now() - make_interval(secs => $6)
          AND id IS DISTINCT FROM $1
          AND (
                ($2::text IS NOT NULL AND district = $2)
             OR ($3::float8 IS NOT NULL AND lat BETWEEN $3 - {BOX_DEGREES} AND $3 + {BOX_DEGREES}
                                        AND lon BETWEEN $4 - {BOX_DEGREES} AND $4 + {BOX_DEGREES})
             OR ($2::text IS NULL AND $3::float8 IS NULL)
          )
        ORDER BY created_at DESC
        LIMIT {limit}
        """,
        exclude_id,
        district,
        lat,
        lon,
        categories,
        window_s,
    )
    facts = [
        routing.TicketFacts(
            id=str(r["id"]),
            category=r["category"] or "",
            text=r["description"],
            address=r["address"],
            district=r["district"],
            lat=r["lat"],
            lon=r["lon"],
            created_at=r["created_at"],
        )
        for r in rows
    ]
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
