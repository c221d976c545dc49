"""What an agency handled in a period (a desk's shift): its assignments that left the open
list in it (resolved, returned, transferred or released), newest first, with their tickets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from dispatch.store.stats import decode_time_cursor, encode_time_cursor
from dispatch.store.ticket_shape import ASSIGNMENT_FIELDS

CURSOR_KIND = "h"
_ENDED = "coalesce(a.resolved_at, a.closed_at)"


async def handled(
    conn: asyncpg.Connection,
    *,
    agency: str | None,
    since: datetime,
    number: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of closed assignments (of ``agency``, or all) that ended at ``since`` or later,
    the latest ended first, optionally only those whose ticket number contains ``number``;
    and the cursor of the next page (None at the end)."""
    args: list[Any] = [since]
    where = ["a.state NOT IN ('dispatched', 'acknowledged', 'in_progress')", f"{_ENDED} >= $1"]
    if agency is not None:
        args.append(agency)
        where.append(f"a.agency = ${len(args)}")
    if number:
        args.append(number.upper())
        where.append(f"strpos(t.number, ${len(args)}) > 0")
    if cursor:
        ended_at, assignment_id = decode_time_cursor(CURSOR_KIND, cursor)
        args += [ended_at, assignment_id]
        where.append(f"({_ENDED}, a.id) < (${len(args) - 1}, ${len(args)})")
    args.append(limit + 1)
    columns = ", ".join(f"a.{name}" for name in ASSIGNMENT_FIELDS)
    rows = await conn.fetch(
        f"""
        SELECT {columns}, {_ENDED} AS ended_at, t.number, t.priority, t.category, t.status AS ticket_status,
               t.address, t.district, t.created_at AS ticket_created_at
        FROM assignments a JOIN tickets t ON t.id = a.ticket_id
        WHERE {" AND ".join(where)}
        ORDER BY {_ENDED} DESC, a.id DESC
        LIMIT ${len(args)}
        """,
        *args,
    )
    page = rows[:limit]
    items = [
        {
            "ended_at": row["ended_at"],
            "assignment": {name: row[name] for name in ASSIGNMENT_FIELDS},
            "ticket": {
                "id": row["ticket_id"],
                "number": row["number"],
                "priority": row["priority"],
                "category": row["category"],
                "status": row["ticket_status"],
                "created_at": row["ticket_created_at"],
                "location": {"address": row["address"], "district": row["district"]},
            },
        }
        for row in page
    ]
    next_cursor = encode_time_cursor(CURSOR_KIND, page[-1]["ended_at"], page[-1]["id"]) if len(rows) > limit else None
    return items, next_cursor
