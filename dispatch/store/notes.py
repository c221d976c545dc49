"""Progress notes (到场、伤亡、需要联动) that an agency posts on its assignment.

A note is an event (``assignment.note``) appended in one transaction with its outbox row, so
it appears on the ticket's timeline and reaches every desk and webhook of the ticket's
agencies: how an assisting agency's progress reaches the lead, and the lead's the assistants.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from dispatch.errors import Conflict, Forbidden
from dispatch.lifecycle import CLOSED_STATES, FINAL_TICKET_STATUSES
from dispatch.store.assignments import OVERSEERS, lock_assignment
from dispatch.store.events import NewEvent, append_events
from dispatch.store.users import Principal

NOTE_EVENT: Final = "assignment.note"
NOTE_KINDS: Final[tuple[str, ...]] = ("on_scene", "casualties", "needs_agency", "note")


async def add_note(
    conn: asyncpg.Connection,
    assignment_id: int,
    principal: Principal,
    *,
    kind: str,
    text: str,
    data: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Append a note to the assignment's timeline; return ``(event, assignment)``.

    404 when the assignment is not visible, 403 unless the caller is a desk of the
    assignment's agency (or a supervisor or admin), 409 when the ticket or the assignment
    is no longer open to notes (closed, merged or cancelled ticket; returned, transferred or
    released assignment). Nothing is written on error.
    """
    async with conn.transaction():
        ticket, assignment, agencies = await lock_assignment(conn, assignment_id, principal)
        if principal.role not in OVERSEERS and not (
            principal.role == "desk" and principal.agency == assignment["agency"]
        ):
            raise Forbidden(
                f"only a {assignment['agency']} desk, a supervisor or an admin may add notes to this assignment",
                code="not_your_assignment",
            )
        if ticket["status"] in FINAL_TICKET_STATUSES:
            raise Conflict(f"ticket {ticket['number']} is {ticket['status']}", code="ticket_not_open")
        if assignment["state"] in CLOSED_STATES:
            raise Conflict(
                f"assignment {assignment_id} is {assignment['state']}; its agency is no longer on this ticket",
                code="assignment_closed",
            )
        payload = {"kind": kind, "text": text, "agency": assignment["agency"], "role": assignment["role"]}
        if data:
            payload["data"] = data
        [event_id] = await append_events(
            conn,
            [NewEvent(NOTE_EVENT, ticket["id"], assignment_id, payload)],
            actor=principal,
            agencies=agencies,
        )
        await conn.execute("UPDATE tickets SET updated_at = now() WHERE id = $1", ticket["id"])
        event = await conn.fetchrow(
            "SELECT id, type, actor, at, assignment_id, data FROM events WHERE id = $1", event_id
        )
    return dict(event), dict(assignment)
