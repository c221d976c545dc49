"""Open work now, for lists and the map: open assignments with their ticket's place and the
deadline that matters now, P1 first and the earliest deadline first, with a cursor."""

from __future__ import annotations

from typing import Any, Literal

import asyncpg

from dispatch.errors import BadRequest
from dispatch.store.stats import (
    _LIVE_COLUMNS,
    _PRIORITY_RANK,
    OPEN,
    StatsFilter,
    _decode_keys,
    _encode_keys,
    _from_micros,
    _micros,
)

OpenState = Literal["dispatched", "acknowledged", "in_progress", "paused"]


async def open_work(
    conn: asyncpg.Connection,
    filters: StatsFilter,
    *,
    state: OpenState | None,
    overdue_only: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """Open assignments now with their ticket's place (address, district, coordinates), P1
    first and within a priority the earliest deadline that matters now first; and the next
    cursor. ``overdue`` says whether that deadline has passed, ``escalation_level`` the
    highest level sent on a deadline still missed."""
    args: list[Any] = []
    conditions = [f"a.state IN {OPEN}", filters.where(args, period=False)]
    if state == "paused":
        conditions.append("a.paused_at IS NOT NULL")
    elif state:
        args.append(state)
        conditions.append(f"a.state = ${len(args)}")
    if overdue_only:
        conditions.append("((a.state = 'dispatched' AND a.ack_due < now()) OR a.resolve_due < now())")
    after = ""
    if cursor:
        rank, due, assignment_id = _decode_keys(cursor, "w", 3)
        try:
            args += [int(rank), _from_micros(due), int(assignment_id)]
        except (ValueError, OverflowError):
            raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None
        n = len(args)
        after = f"AND (w.rank, w.due_at, w.assignment_id) > (${n - 2}::int, ${n - 1}::timestamptz, ${n}::bigint)"
    args.append(limit + 1)
    rows = await conn.fetch(
        f"""
        SELECT * FROM (
            SELECT {_LIVE_COLUMNS}, {_PRIORITY_RANK} AS rank,
                   CASE WHEN a.state = 'dispatched' THEN 'ack' ELSE 'resolve' END AS deadline,
                   CASE WHEN a.state = 'dispatched' THEN a.ack_due ELSE a.resolve_due END AS due_at,
                   ((a.state = 'dispatched' AND a.ack_due < now()) OR a.resolve_due < now()) AS overdue,
                   a.escalation_level
            FROM assignments a JOIN tickets t ON t.id = a.ticket_id LEFT JOIN desks d ON d.id = a.desk_id
            WHERE {" AND ".join(conditions)}
        ) w
        WHERE true {after}
        ORDER BY w.rank, w.due_at, w.assignment_id
        LIMIT ${len(args)}
        """,
        *args,
    )
    items = []
    for row in rows[:limit]:
        item = dict(row)
        item.pop("rank")
        items.append(item)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = _encode_keys("w", [last["rank"], _micros(last["due_at"]), last["assignment_id"]])
    return items, next_cursor
