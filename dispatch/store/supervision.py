"""What a supervisor does to open work beside the lifecycle moves: 催办 (a manual reminder to
the desk holding an assignment) and re-dispatch (the assignment to another agency, or to
another desk of its agency).

Both lock like every lifecycle move (ticket, then assignment), check that the work is still
open, and write their change and its event in one transaction: on any error nothing is
written. The events reach the desk over the websocket like every other event of its agency.
"""

from __future__ import annotations

from typing import Any, Final

import asyncpg

from dispatch.errors import Conflict, ValidationFailed
from dispatch.lifecycle import FINAL_TICKET_STATUSES, OPEN_STATES
from dispatch.store.assignments import check_may_move, lock_assignment, transition
from dispatch.store.events import NewEvent, append_events
from dispatch.store.ticket_shape import ASSIGNMENT_COLUMNS
from dispatch.store.users import Principal

# The deadline watcher's reminders are ``ticket.reminder`` events too; a person's has that
# person as its actor and ``kind`` "manual", so that consoles tell the two apart.
URGE_EVENT: Final = "ticket.reminder"
DESK_EVENT: Final = "assignment.desk_changed"


def _check_open(ticket: asyncpg.Record, assignment: asyncpg.Record) -> None:
    if ticket["status"] in FINAL_TICKET_STATUSES:
        raise Conflict(f"ticket {ticket['number']} is {ticket['status']}", code="ticket_not_open")
    if assignment["state"] not in OPEN_STATES:
        raise Conflict(
            f"the assignment is {assignment['state']}; only open work can be chased or re-dispatched",
            code="assignment_not_open",
            details=[{"assignment_id": assignment["id"], "state": assignment["state"]}],
        )


async def urge(conn: asyncpg.Connection, assignment_id: int, principal: Principal, text: str) -> dict[str, Any]:
    """Record a 催办 on an open assignment and send it to its agency's desks; return the event.

    404 when the assignment does not exist, 409 when it or its ticket is no longer open. The
    event names the deadline that matters now (acknowledgement until acknowledged, then
    resolution) and how far past it the work is (negative: not yet due).
    """
    async with conn.transaction():
        ticket, assignment, _ = await lock_assignment(conn, assignment_id, principal)
        check_may_move(principal, assignment)
        _check_open(ticket, assignment)
        row = await conn.fetchrow(
            """
            SELECT d.code AS desk, now() AS now FROM assignments a LEFT JOIN desks d ON d.id = a.desk_id
            WHERE a.id = $1
            """,
            assignment_id,
        )
        deadline = "ack" if assignment["state"] == "dispatched" else "resolve"
        due_at = assignment[f"{deadline}_due"]
        data = {
            "kind": "manual",
            "level": 0,
            "agency": assignment["agency"],
            "role": assignment["role"],
            "state": assignment["state"],
            "text": text,
            "deadline": deadline,
            "due_at": due_at,
            "overdue_seconds": round((row["now"] - due_at).total_seconds(), 3),
            "number": ticket["number"],
            "priority": ticket["priority"],
            "category": ticket["category"],
            "district": ticket["district"],
            "notify": {"desk_id": assignment["desk_id"], "desk": row["desk"], "agency": assignment["agency"]},
        }
        [event_id] = await append_events(
            conn,
            [NewEvent(URGE_EVENT, ticket["id"], assignment_id, data)],
            actor=principal,
            agencies=[assignment["agency"]],
        )
        event = await conn.fetchrow(
            "SELECT id, type, actor, at, assignment_id, data FROM events WHERE id = $1", event_id
        )
    return dict(event)


async def _desk(conn: asyncpg.Connection, code: str) -> asyncpg.Record:
    desk = await conn.fetchrow("SELECT id, code, agency FROM desks WHERE code = $1", code)
    if desk is None:
        raise ValidationFailed(
            f"no desk {code}", code="unknown_desk", details=[{"field": "desk", "message": "unknown"}]
        )
    return desk


async def redispatch(
    conn: asyncpg.Connection,
    assignment_id: int,
    principal: Principal,
    *,
    agency: str | None,
    desk: str | None,
    reason: str,
) -> dict[str, Any]:
    """Send an open assignment elsewhere: to another agency (a transfer, 转派, optionally to a
    named desk of it) or to another desk of its own agency (the same assignment, deadlines
    unchanged). Returns ``{"assignment", "created"}``: the assignment after the move, and the
    new one a transfer opened (None for a desk change).

    409 when the work is no longer open, the target agency already has live work on the
    ticket, the desk belongs to another agency or nothing would change; 422 for an unknown
    desk. Nothing is written on error.
    """
    async with conn.transaction():
        ticket, assignment, agencies = await lock_assignment(conn, assignment_id, principal)
        check_may_move(principal, assignment)
        _check_open(ticket, assignment)
        target_agency = agency or assignment["agency"]
        target_desk = await _desk(conn, desk) if desk else None
        if target_desk is not None and target_desk["agency"] != target_agency:
            raise Conflict(
                f"desk {target_desk['code']} serves {target_desk['agency']}, not {target_agency}",
                code="desk_not_of_agency",
                details=[{"desk": target_desk["code"], "agency": target_desk["agency"]}],
            )
        if target_agency != assignment["agency"]:
            result = await transition(
                conn, assignment_id, "transfer", principal, text=reason, target_agency=target_agency
            )
            assert result.created is not None
            created = result.created
            if target_desk is not None and target_desk["id"] != created["desk_id"]:
                created = await _move_desk(
                    conn, ticket, created, target_desk, principal, reason, [*agencies, target_agency]
                )
            return {"assignment": result.assignment, "created": created}
        if target_desk is None:
            raise Conflict("name another agency or another desk", code="no_change")
        if target_desk["id"] == assignment["desk_id"]:
            raise Conflict(f"the assignment is already on desk {target_desk['code']}", code="no_change")
        moved = await _move_desk(conn, ticket, dict(assignment), target_desk, principal, reason, agencies)
        return {"assignment": moved, "created": None}


async def _move_desk(
    conn: asyncpg.Connection,
    ticket: asyncpg.Record,
    assignment: dict[str, Any],
    desk: asyncpg.Record,
    principal: Principal,
    reason: str,
    agencies: list[str],
) -> dict[str, Any]:
    previous = await conn.fetchval("SELECT code FROM desks WHERE id = $1", assignment["desk_id"])
    row = await conn.fetchrow(
        f"""UPDATE assignments SET desk_id = $2, updated_at = now(), version = version + 1
            WHERE id = $1 RETURNING {ASSIGNMENT_COLUMNS}""",
        assignment["id"],
        desk["id"],
    )
    await append_events(
        conn,
        [
            NewEvent(
                DESK_EVENT,
                ticket["id"],
                assignment["id"],
                {
                    "agency": assignment["agency"],
                    "from_desk": previous,
                    "to_desk": desk["code"],
                    "desk_id": desk["id"],
                    "reason": reason,
                },
            )
        ],
        actor=principal,
        agencies=agencies,
    )
    return dict(row)
