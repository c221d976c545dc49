"""Helpers of the deadline tests: waiting for events, reading them, a one-agency P1 ticket."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from tests.api_helpers import ticket_body


def p1_body(**overrides: Any) -> dict[str, Any]:
    """A P1 ticket for the police alone: one assignment, one deadline to watch."""
    return ticket_body(**{"agencies": ["police"], **overrides})


async def events_of(pool: asyncpg.Pool, event_type: str, assignment_id: int | None = None) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        """SELECT e.id, e.type, e.at, e.data, e.assignment_id, e.agencies, e.actor, a.created_at AS assignment_created
           FROM events e JOIN assignments a ON a.id = e.assignment_id
           WHERE e.type = $1 AND ($2::bigint IS NULL OR e.assignment_id = $2) ORDER BY e.id""",
        event_type,
        assignment_id,
    )
    return [dict(r) for r in rows]


async def wait_for_events(
    pool: asyncpg.Pool, event_type: str, count: int, *, assignment_id: int | None = None, within: float = 10.0
) -> list[dict[str, Any]]:
    """Poll until at least ``count`` events of the type exist; return them (fail on timeout)."""
    deadline = time.monotonic() + within
    while True:
        found = await events_of(pool, event_type, assignment_id)
        if len(found) >= count:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(found)} of {count} {event_type} events after {within} s: {found}")
        await asyncio.sleep(0.05)
