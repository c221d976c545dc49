"""The 待分派 queue: every ticket in status ``new`` (no live lead assignment), oldest first,
with why it is there, and re-routing a ticket out of it.

A ticket is in ``new`` exactly when it has no live lead (``dispatch.lifecycle``): its lead
returned it (退回) or was released with no other lead, it was filed without a category, or it
was filed to the queue on purpose. The queue is that status and nothing else, so no ticket can
sit in ``new`` without being on it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

from dispatch.errors import BadRequest, Conflict, NotFound
from dispatch.lifecycle import CLOSED_STATES
from dispatch.store.assignment_rows import insert_assignments, refresh_status, ticket_agencies
from dispatch.store.events import NewEvent, append_events
from dispatch.store.ticket_shape import TICKET_COLUMNS, assignment_dict, ticket_dict
from dispatch.store.tickets import get_ticket
from dispatch.store.users import Principal

Cause = Literal["returned", "uncategorised", "released", "other"]


# The queue's order is the time a ticket entered it: its latest lead's closing, else its creation.
_QUEUE = f"""
    SELECT {TICKET_COLUMNS}, q.state AS closed_state, q.closed_reason, q.agency AS closed_agency,
           coalesce(q.closed_at, t.created_at) AS since
    FROM tickets t
    LEFT JOIN LATERAL (
        SELECT a.state, a.closed_reason, a.closed_at, a.agency FROM assignments a
        WHERE a.ticket_id = t.id AND a.role = 'lead' AND a.closed_at IS NOT NULL
        ORDER BY a.closed_at DESC, a.id DESC LIMIT 1
    ) q ON true
    WHERE t.status = 'new'
"""


def cause_of(category: str | None, closed_state: str | None) -> Cause:
    """Why a ticket is on the queue, from its category and its latest closed lead's state."""
    if closed_state == "returned":
        return "returned"
    if closed_state == "released":
        return "released"
    if category is None:
        return "uncategorised"
    return "other"


def _encode_cursor(since: datetime, ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"q:{since.isoformat()}|{ticket_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, rest = raw.partition(":")
        since, _, ticket_id = rest.rpartition("|")
        if kind != "q":
            raise ValueError
        return datetime.fromisoformat(since), int(ticket_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None


async def list_queue(
    conn: asyncpg.Connection, principal: Principal, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of the queue, oldest first: each item the ticket (with its assignments), its
    ``cause``, the return or release ``reason`` and ``agency``, and ``since``."""
    args: list[Any] = []
    where = ""
    if cursor:
        since, ticket_id = _decode_cursor(cursor)
        args += [since, ticket_id]
        where = " AND (coalesce(q.closed_at, t.created_at), t.id) > ($1, $2)"
    args.append(limit + 1)
    rows = await conn.fetch(
        f"{_QUEUE}{where} ORDER BY coalesce(q.closed_at, t.created_at), t.id LIMIT ${len(args)}", *args
    )
    page = rows[:limit]
    assignments = await conn.fetch(
        "SELECT * FROM assignments WHERE ticket_id = ANY($1::bigint[]) ORDER BY id", [r["id"] for r in page]
    )
    by_ticket: dict[int, list[dict[str, Any]]] = {r["id"]: [] for r in page}
    for row in assignments:
        by_ticket[row["ticket_id"]].append(assignment_dict(row))
    items = []
    for row in page:
        ticket = ticket_dict(row, principal)
        ticket["assignments"] = by_ticket[row["id"]]
        cause = cause_of(row["category"], row["closed_state"])
        items.append(
            {
                "ticket": ticket,
                "cause": cause,
                "reason": row["closed_reason"] if cause in ("returned", "released") else None,
                "agency": row["closed_agency"] if cause in ("returned", "released") else None,
                "since": row["since"],
            }
        )
    next_cursor = _encode_cursor(page[-1]["since"], page[-1]["id"]) if len(rows) > limit else None
    return items, next_cursor


def queued_event(ticket_id: int, *, cause: Cause, reason: str | None = None, agency: str | None = None) -> NewEvent:
    """The ``ticket.queued`` event: the ticket has just entered the queue."""
    data: dict[str, Any] = {"cause": cause}
    if reason:
        data["reason"] = reason
    if agency:
        data["agency"] = agency
    return NewEvent("ticket.queued", ticket_id, data=data)


@dataclass(frozen=True, slots=True)
class Route:
    """Where a queued ticket goes: as ``dispatch.intake`` decided it."""

    category: str | None
    priority: str
    agencies: Sequence[str]  # lead first
    district: str | None
    classification: dict[str, Any] | None


async def reroute(
    conn: asyncpg.Connection, ticket_id: int, principal: Principal, decision: Route, *, expected: dict[str, Any]
) -> dict[str, Any]:
    """Dispatch a queued ticket again as ``decision`` says, in one transaction.

    ``expected`` is the ticket as read when the decision was made; 409 ``not_in_queue`` when
    the ticket is no longer in ``new`` (a second click, a colleague was quicker) and nothing
    changes. Agencies that still hold a live assignment keep it; the others get a new one,
    the first as lead.
    """
    async with conn.transaction():
        row = await conn.fetchrow(
            "SELECT id, number, status, category, priority, district FROM tickets WHERE id = $1 FOR UPDATE", ticket_id
        )
        if row is None:
            raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
        if row["status"] != "new":
            raise Conflict(
                f"ticket {row['number']} is {row['status']}, not waiting in the queue",
                code="not_in_queue",
                details=[{"ticket_id": ticket_id, "status": row["status"]}],
            )
        if (row["category"], row["priority"], row["district"]) != (
            expected["category"],
            expected["priority"],
            expected["location"]["district"],
        ):
            raise Conflict("the ticket changed while it was being re-routed; try again", code="ticket_changed")
        live = await conn.fetch(
            "SELECT agency, role FROM assignments WHERE ticket_id = $1 AND NOT (state = ANY($2::text[]))",
            ticket_id,
            sorted(CLOSED_STATES),
        )
        live_agencies = {r["agency"] for r in live}
        lead = decision.agencies[0]
        if lead in live_agencies:
            raise Conflict(
                f"{lead} still assists on this ticket and cannot also lead it; choose another lead",
                code="agency_already_assigned",
            )
        new_agencies = [a for a in decision.agencies if a not in live_agencies]
        roles = ["lead"] + ["assist"] * (len(new_agencies) - 1)
        await conn.execute(
            """UPDATE tickets SET category = $2, priority = $3, district = $4,
                   classification = coalesce($5, classification), updated_at = now()
               WHERE id = $1""",
            ticket_id,
            decision.category,
            decision.priority,
            decision.district,
            decision.classification,
        )
        created = await insert_assignments(
            conn,
            ticket_id,
            new_agencies,
            roles,
            priority=decision.priority,
            category=decision.category,
            district=decision.district,
        )
        await refresh_status(conn, ticket_id, row["status"])
        events: list[NewEvent] = [
            NewEvent(
                "ticket.rerouted",
                ticket_id,
                data={
                    "from": {"category": row["category"], "priority": row["priority"], "district": row["district"]},
                    "to": {
                        "category": decision.category,
                        "priority": decision.priority,
                        "district": decision.district,
                    },
                    "agencies": list(decision.agencies),
                },
            ),
            *(
                NewEvent("assignment.created", ticket_id, a["id"], {"agency": a["agency"], "role": a["role"]})
                for a in created
            ),
        ]
        await append_events(conn, events, actor=principal, agencies=await ticket_agencies(conn, ticket_id))
    return await get_ticket(conn, ticket_id, principal)
