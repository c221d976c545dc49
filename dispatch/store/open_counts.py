"""Open work, counted as it changes: the kept counts of migration 0012.

``open_assignment_counts`` holds open assignments (dispatched, acknowledged, in_progress) per
agency, the ticket's district and priority, and state, with how many of them are paused;
``open_ticket_counts`` the tickets with at least one open assignment, per district and
priority. Triggers on ``assignments`` and ``tickets`` keep both, whatever path changes an
assignment; their rows are deltas that a reader sums per key, and ``compact`` folds now and
then. The supervisor summary reads these instead of counting a province's open work on every
request (docs/scaling.md, "Years of history").
"""

from __future__ import annotations

from typing import Any

import asyncpg

OPEN_STATES = ("dispatched", "acknowledged", "in_progress")


def _conditions(
    args: list[Any], *, agency: str | None = None, district: str | None = None, priority: str | None = None
) -> str:
    conditions = ["true"]
    for column, value in (("agency", agency), ("district", district), ("priority", priority)):
        if value is not None:
            args.append(value)
            conditions.append(f"{column} = ${len(args)}")
    return " AND ".join(conditions)


async def open_by_agency_and_state(
    conn: asyncpg.Connection, *, agency: str | None, district: str | None, priority: str | None
) -> list[asyncpg.Record]:
    """Open assignments now per ``agency`` and ``state`` (``n``, and ``paused`` of them),
    matching the filters; keys with none open are left out. Ordered by agency, then state."""
    args: list[Any] = []
    where = _conditions(args, agency=agency, district=district, priority=priority)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"""
        SELECT agency, state, sum(assignments)::bigint AS n, sum(paused)::bigint AS paused
        FROM open_assignment_counts WHERE {where}
        GROUP BY agency, state HAVING sum(assignments) <> 0
        ORDER BY agency, state
        """,
        *args,
    )
    return rows


async def open_tickets(
    conn: asyncpg.Connection, *, agency: str | None, district: str | None, priority: str | None
) -> int:
    """Tickets with at least one open assignment now (of ``agency``, when given)."""
    args: list[Any] = []
    if agency is not None:
        # A ticket has at most one live assignment per agency (assignments_one_live_per_agency):
        # an agency's open tickets are its open assignments.
        where = _conditions(args, agency=agency, district=district, priority=priority)
        table, column = "open_assignment_counts", "assignments"
    else:
        where = _conditions(args, district=district, priority=priority)
        table, column = "open_ticket_counts", "tickets"
    count: int = await conn.fetchval(f"SELECT coalesce(sum({column}), 0)::bigint FROM {table} WHERE {where}", *args)
    return count


async def compact(conn: asyncpg.Connection) -> int:
    """Fold the counts' delta rows into one row per key (sums unchanged); how many rows it
    folded, 0 when another session was folding at the time."""
    folded: int = await conn.fetchval("SELECT open_counts_compact()")
    return folded


# What the counts should be, counted afresh: for checking them (tests, an operator in doubt).
FRESH_ASSIGNMENTS = """
    SELECT a.agency, t.district, t.priority, a.state, count(*)::bigint AS assignments,
           count(a.paused_at)::bigint AS paused
    FROM assignments a JOIN tickets t ON t.id = a.ticket_id
    WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress')
    GROUP BY a.agency, t.district, t.priority, a.state
"""
FRESH_TICKETS = """
    SELECT t.district, t.priority, count(*)::bigint AS tickets FROM tickets t
    WHERE t.id IN (SELECT a.ticket_id FROM assignments a WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress'))
    GROUP BY t.district, t.priority
"""


async def differences(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Where the kept counts differ from a fresh count of open work (empty: they agree)."""
    rows = await conn.fetch(
        f"""
        WITH kept AS (
            SELECT agency, district, priority, state, sum(assignments)::bigint AS assignments,
                   sum(paused)::bigint AS paused
            FROM open_assignment_counts GROUP BY agency, district, priority, state
            HAVING sum(assignments) <> 0 OR sum(paused) <> 0
        ), fresh AS ({FRESH_ASSIGNMENTS})
        SELECT 'assignments' AS counts, coalesce(k.agency, f.agency) AS agency,
               coalesce(k.district, f.district) AS district, coalesce(k.priority, f.priority) AS priority,
               coalesce(k.state, f.state) AS state, k.assignments AS kept, f.assignments AS fresh,
               k.paused AS kept_paused, f.paused AS fresh_paused
        FROM kept k FULL JOIN fresh f
          ON (k.agency, k.priority, k.state) = (f.agency, f.priority, f.state)
         AND k.district IS NOT DISTINCT FROM f.district
        WHERE (k.assignments, k.paused) IS DISTINCT FROM (f.assignments, f.paused)
        UNION ALL
        SELECT 'tickets', NULL, coalesce(k.district, f.district), coalesce(k.priority, f.priority), NULL,
               k.tickets, f.tickets, NULL, NULL
        FROM (SELECT district, priority, sum(tickets)::bigint AS tickets FROM open_ticket_counts
              GROUP BY district, priority HAVING sum(tickets) <> 0) k
        FULL JOIN ({FRESH_TICKETS}) f ON k.priority = f.priority AND k.district IS NOT DISTINCT FROM f.district
        WHERE k.tickets IS DISTINCT FROM f.tickets
        """
    )
    return [dict(row) for row in rows]
