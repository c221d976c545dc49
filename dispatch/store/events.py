"""The audit trail: every change of state appends events, each with its outbox row.

Events are written in the transaction of the change they record; the outbox row makes the
relay publish them to the bus after commit, even if this process dies first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from dispatch.event_types import EVENT_TYPES
from dispatch.store.users import Principal


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to append: what happened, to which ticket (and assignment)."""

    type: str
    ticket_id: int
    assignment_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}: add it to dispatch/event_types.py")


def actor_label(principal: Principal | None) -> str:
    """How the timeline names who acted: ``role:name``, or ``system``."""
    return f"{principal.role}:{principal.name}" if principal else "system"


async def append_events(
    conn: asyncpg.Connection,
    events: Sequence[NewEvent],
    *,
    actor: Principal | None,
    agencies: Sequence[str],
) -> list[int]:
    """Append events and their outbox rows in one statement; return the event ids in order.

    ``agencies`` are the agencies whose desks see these events (all on the ticket).
    """
    if not events:
        return []
    rows = await conn.fetch(
        """
        WITH new_events AS (
            INSERT INTO events (ticket_id, assignment_id, type, actor_id, actor, agencies, data)
            SELECT e.ticket_id, e.assignment_id, e.type, $4, $5, $6, e.data
            FROM unnest($1::bigint[], $2::bigint[], $3::text[], $7::jsonb[])
                 WITH ORDINALITY AS e(ticket_id, assignment_id, type, data, ord)
            ORDER BY e.ord
            RETURNING id
        ), queued AS (
            INSERT INTO outbox (event_id) SELECT id FROM new_events
        )
        SELECT id FROM new_events ORDER BY id
        """,
        [e.ticket_id for e in events],
        [e.assignment_id for e in events],
        [e.type for e in events],
        actor.id if actor else None,
        actor_label(actor),
        list(dict.fromkeys(agencies)),
        [e.data for e in events],
    )
    return [row["id"] for row in rows]
