"""Moving assignments through the lifecycle, safely under concurrency.

Every transition locks the ticket row and then the assignment row (always in that order,
so two transitions cannot deadlock), checks the move against ``dispatch.lifecycle``,
updates the assignment and the derived ticket status, and appends the events, all in one
transaction. Two desks acknowledging at once: the second waits for the first's lock, then
sees ``acknowledged`` and gets 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from dispatch.access.visibility import may_see_ticket
from dispatch.errors import Conflict, Forbidden, NotFound
from dispatch.lifecycle import (
    CLOSED_STATES,
    EVENT_TYPES,
    FINAL_TICKET_STATUSES,
    Action,
    IllegalTransition,
    next_state,
)
from dispatch.store.assignment_rows import insert_assignments, refresh_status, ticket_agencies
from dispatch.store.events import NewEvent, append_events
from dispatch.store.queue import Cause, queued_event
from dispatch.store.ticket_shape import ASSIGNMENT_COLUMNS
from dispatch.store.users import Principal

# Roles that may move any agency's assignment.
OVERSEERS = frozenset({"supervisor", "admin"})


@dataclass(frozen=True, slots=True)
class TransitionResult:
    assignment: dict[str, Any]
    ticket_id: int
    created: dict[str, Any] | None


async def lock_assignment(
    conn: asyncpg.Connection, assignment_id: int, principal: Principal
) -> tuple[asyncpg.Record, asyncpg.Record, list[str]]:
    """Lock the assignment's ticket, then the assignment; 404 if missing or not visible."""
    ticket_id = await conn.fetchval("SELECT ticket_id FROM assignments WHERE id = $1", assignment_id)
    if ticket_id is None:
        raise NotFound(f"no assignment {assignment_id}", code="assignment_not_found")
    ticket = await conn.fetchrow(
        "SELECT id, number, status, priority, category, district, created_by FROM tickets WHERE id = $1 FOR UPDATE",
        ticket_id,
    )
    assignment = await conn.fetchrow(
        f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE id = $1 FOR UPDATE", assignment_id
    )
    agencies = await ticket_agencies(conn, ticket_id)
    if not may_see_ticket(principal, agencies, ticket["created_by"]):
        raise NotFound(f"no assignment {assignment_id}", code="assignment_not_found")
    return ticket, assignment, agencies


def check_may_move(principal: Principal, assignment: asyncpg.Record) -> None:
    """Only a desk of the assignment's agency, or a supervisor or admin, may move it."""
    if principal.role in OVERSEERS:
        return
    if principal.role == "desk" and principal.agency == assignment["agency"]:
        return
    raise Forbidden(
        f"only a {assignment['agency']} desk, a supervisor or an admin may move this assignment",
        code="not_your_assignment",
    )


_UPDATES: dict[str, str] = {
    "acknowledge": "acknowledged_at = now(), acknowledged_by = $3",
    "start": "started_at = now()",
    "resolve": "resolved_at = now(), resolved_by = $3, resolution = $4",
    "return": "closed_at = now(), closed_reason = $3",
    "transfer": "closed_at = now(), closed_reason = $3",
    "release": "closed_at = now(), closed_reason = $3",
    "reopen": "resolved_at = NULL, resolved_by = NULL, resolution = NULL, acknowledged_at = NULL,"
    " acknowledged_by = NULL, started_at = NULL, ack_due = now() + (ack_due - created_at),"
    " resolve_due = now() + (resolve_due - created_at)",
}


async def transition(
    conn: asyncpg.Connection,
    assignment_id: int,
    action: Action,
    principal: Principal,
    *,
    text: str | None = None,
    target_agency: str | None = None,
) -> TransitionResult:
    """Apply ``action`` to the assignment; 404/403/409 as the caller deserves, else the result.

    ``text`` is the resolution (resolve) or the reason (return, transfer, release, reopen).
    """
    async with conn.transaction():
        ticket, assignment, agencies = await lock_assignment(conn, assignment_id, principal)
        check_may_move(principal, assignment)
        if ticket["status"] in FINAL_TICKET_STATUSES:
            raise Conflict(
                f"ticket {ticket['number']} is {ticket['status']}; its assignments no longer move",
                code="ticket_not_open",
            )
        try:
            target_state = next_state(action, assignment["state"])
        except IllegalTransition as exc:
            raise Conflict(
                str(exc),
                code="illegal_transition",
                details=[{"assignment_id": assignment_id, "state": assignment["state"], "action": action}],
            ) from None
        created = None
        if action == "transfer":
            assert target_agency is not None
            if target_agency == assignment["agency"]:
                raise Conflict("transfer to another agency, not the same one", code="transfer_to_self")
            live = await conn.fetchval(
                "SELECT 1 FROM assignments WHERE ticket_id = $1 AND agency = $2 AND NOT (state = ANY($3::text[]))",
                ticket["id"],
                target_agency,
                sorted(CLOSED_STATES),
            )
            if live:
                raise Conflict(
                    f"{target_agency} already has a live assignment on this ticket",
                    code="agency_already_assigned",
                )
        updated = await conn.fetchrow(
            f"""
            UPDATE assignments SET state = $2, {_UPDATES[action]}, updated_at = now(), version = version + 1
            WHERE id = $1 RETURNING {ASSIGNMENT_COLUMNS}
            """,
            assignment_id,
            target_state,
            *_update_args(action, principal, text),
        )
        events = [
            NewEvent(
                EVENT_TYPES[action],
                ticket["id"],
                assignment_id,
                {"from": assignment["state"], "to": target_state, "agency": assignment["agency"]}
                | ({"reason": text} if text and action != "resolve" else {})
                | ({"resolution": text} if action == "resolve" else {}),
            )
        ]
        if action == "transfer":
            assert target_agency is not None
            [created] = await insert_assignments(
                conn,
                ticket["id"],
                [target_agency],
                [assignment["role"]],
                priority=ticket["priority"],
                category=ticket["category"],
                district=ticket["district"],
            )
            updated = await conn.fetchrow(
                f"UPDATE assignments SET transferred_to = $2 WHERE id = $1 RETURNING {ASSIGNMENT_COLUMNS}",
                assignment_id,
                created["id"],
            )
            events[0].data["to_agency"] = target_agency
            events[0].data["new_assignment_id"] = created["id"]
            events.append(
                NewEvent(
                    "assignment.created",
                    ticket["id"],
                    created["id"],
                    {"agency": target_agency, "role": created["role"], "transferred_from": assignment_id},
                )
            )
            agencies = [*agencies, target_agency]
        status = await refresh_status(conn, ticket["id"], ticket["status"])
        if status == "new" and ticket["status"] != "new" and action in ("return", "release"):
            # No live lead left: the ticket is back on the 待分派 queue (dispatch.store.queue).
            cause: Cause = "returned" if action == "return" else "released"
            events.append(queued_event(ticket["id"], cause=cause, reason=text, agency=assignment["agency"]))
        await append_events(conn, events, actor=principal, agencies=agencies)
    return TransitionResult(dict(updated), ticket["id"], created)


def _update_args(action: str, principal: Principal, text: str | None) -> list[Any]:
    if action == "acknowledge":
        return [principal.id]
    if action == "resolve":
        return [principal.id, text]
    if action in ("return", "transfer", "release"):
        return [text]
    return []


async def add_assignment(
    conn: asyncpg.Connection, ticket_id: int, principal: Principal, *, agency: str, role: str, reason: str
) -> dict[str, Any]:
    """Dispatch the ticket to one more agency: re-routing after a return (as lead) or a
    request for another agency's help (as assist)."""
    async with conn.transaction():
        ticket = await conn.fetchrow(
            "SELECT id, number, status, priority, category, district FROM tickets WHERE id = $1 FOR UPDATE",
            ticket_id,
        )
        agencies = await ticket_agencies(conn, ticket_id) if ticket else []
        if ticket is None or (principal.role == "desk" and principal.agency not in agencies):
            raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
        if ticket["status"] in FINAL_TICKET_STATUSES:
            raise Conflict(f"ticket {ticket['number']} is {ticket['status']}", code="ticket_not_open")
        if principal.role == "desk":
            lead = await conn.fetchval(
                """SELECT agency FROM assignments WHERE ticket_id = $1 AND role = 'lead'
                   AND NOT (state = ANY($2::text[]))""",
                ticket_id,
                sorted(CLOSED_STATES),
            )
            if lead != principal.agency or role != "assist":
                raise Forbidden("a desk may only ask for assistance on tickets its agency leads", code="not_lead")
        try:
            async with conn.transaction():
                [created] = await insert_assignments(
                    conn,
                    ticket_id,
                    [agency],
                    [role],
                    priority=ticket["priority"],
                    category=ticket["category"],
                    district=ticket["district"],
                )
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"the ticket already has a live {'lead' if role == 'lead' else agency + ' assignment'}",
                code="agency_already_assigned" if role == "assist" else "lead_already_assigned",
            ) from None
        status = await refresh_status(conn, ticket_id, ticket["status"])
        events = [
            NewEvent("assignment.created", ticket_id, created["id"], {"agency": agency, "role": role, "reason": reason})
        ]
        if ticket["status"] == "new" and status != "new":
            # A lead given directly takes the ticket off the 待分派 queue, as a re-route would.
            events.insert(0, NewEvent("ticket.rerouted", ticket_id, data={"agencies": [agency], "reason": reason}))
        await append_events(conn, events, actor=principal, agencies=[*agencies, agency])
    return created
