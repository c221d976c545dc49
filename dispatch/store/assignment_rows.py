"""Assignment rows that several stores write: opening assignments with their deadlines, the
agencies a ticket involves, and the ticket status its assignments imply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from dispatch.lifecycle import derive_ticket_status
from dispatch.store.desks import choose_desks, load_directory
from dispatch.store.ticket_shape import ASSIGNMENT_COLUMNS


def service_level(priority: str, category: str) -> str:
    """A lateral subquery ``sl`` with the most specific service level for agency ``a.agency``."""
    return f"""
    CROSS JOIN LATERAL (
        SELECT ack_seconds, resolve_seconds FROM service_levels s
        WHERE s.priority = {priority} AND (s.category IS NULL OR s.category = {category})
          AND (s.agency IS NULL OR s.agency = a.agency)
        ORDER BY (s.category IS NOT NULL) DESC, (s.agency IS NOT NULL) DESC
        LIMIT 1
    ) sl
"""


INSERT_ASSIGNMENTS = f"""
    INSERT INTO assignments (ticket_id, agency, desk_id, role, ack_due, resolve_due)
    SELECT $1, a.agency, a.desk_id, a.role,
           now() + make_interval(secs => sl.ack_seconds), now() + make_interval(secs => sl.resolve_seconds)
    FROM unnest($2::text[], $3::text[], $6::bigint[]) WITH ORDINALITY AS a(agency, role, desk_id, ord)
    {service_level("$4", "$5")}
    ORDER BY a.ord
    RETURNING {ASSIGNMENT_COLUMNS}
"""


async def insert_assignments(
    conn: asyncpg.Connection,
    ticket_id: int,
    agencies: Sequence[str],
    roles: Sequence[str],
    *,
    priority: str,
    category: str | None,
    district: str | None,
) -> list[dict[str, Any]]:
    """Open assignments with deadlines from the most specific service level and the desk
    ``routing.choose_desk`` picks (the district's, else the agency's city-level desk)."""
    desk_ids = choose_desks(await load_directory(conn), agencies, district)  # rare: read afresh
    rows = await conn.fetch(INSERT_ASSIGNMENTS, ticket_id, list(agencies), list(roles), priority, category, desk_ids)
    return [dict(row) for row in rows]


async def ticket_agencies(conn: asyncpg.Connection, ticket_id: int) -> list[str]:
    """Every agency that has or had an assignment on the ticket: who sees its events."""
    rows = await conn.fetch(
        "SELECT agency FROM assignments WHERE ticket_id = $1 GROUP BY agency ORDER BY min(id)", ticket_id
    )
    return [row["agency"] for row in rows]


async def refresh_status(conn: asyncpg.Connection, ticket_id: int, current: str) -> str:
    """Recompute the ticket's status from its assignments and store it (caller holds the row lock)."""
    rows = await conn.fetch("SELECT role, state FROM assignments WHERE ticket_id = $1", ticket_id)
    status = derive_ticket_status(current, [(r["role"], r["state"]) for r in rows])
    await conn.execute(
        """
        UPDATE tickets SET status = $2, updated_at = now(),
            resolved_at = CASE WHEN $2 = 'resolved' THEN coalesce(resolved_at, now()) ELSE NULL END
        WHERE id = $1
        """,
        ticket_id,
        status,
    )
    return status
