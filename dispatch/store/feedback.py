"""Citizens' feedback (回访) on resolved tickets, and closing what nobody rated.

Satisfied: the ticket closes. Not satisfied: the lead agency's assignment is reopened with
the citizen's comment (重办) and the ticket goes back to ``dispatched``. Either way one
transaction writes the feedback row, the changes and their events (actor: the system, since
citizens have no user). Resolved tickets without feedback close after a grace period.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import asyncpg
import structlog

from dispatch.errors import Conflict
from dispatch.lifecycle import CLOSED_STATES, EVENT_TYPES, next_state
from dispatch.store.assignment_rows import refresh_status, ticket_agencies
from dispatch.store.assignments import _UPDATES as ASSIGNMENT_UPDATES
from dispatch.store.events import NewEvent, append_events

log = structlog.get_logger("dispatch.feedback")

DEFAULT_REOPEN_REASON = "群众回访不满意，重新办理 / the citizen was not satisfied"


async def record_feedback(
    conn: asyncpg.Connection, ticket_id: int, *, satisfied: bool, rating: int, comment: str
) -> dict[str, Any]:
    """Record the citizen's feedback on a resolved ticket and close or reopen it.

    Returns ``{"status", "reopened_assignment_id"}``. 409 ``feedback_not_open`` unless the
    ticket is resolved (also for a second answer racing the first: the row lock orders them).
    """
    async with conn.transaction():
        ticket = await conn.fetchrow("SELECT id, number, status FROM tickets WHERE id = $1 FOR UPDATE", ticket_id)
        assert ticket is not None, "the caller found this ticket a moment ago and tickets are never deleted"
        if ticket["status"] != "resolved":
            raise Conflict(
                f"feedback is taken once the ticket is resolved; it is {ticket['status']} / 工单办结后才能评价",
                code="feedback_not_open",
                details=[{"status": ticket["status"]}],
            )
        feedback_id = await conn.fetchval(
            "INSERT INTO feedback (ticket_id, satisfied, rating, comment) VALUES ($1, $2, $3, $4) RETURNING id",
            ticket_id,
            satisfied,
            rating,
            comment,
        )
        agencies = await ticket_agencies(conn, ticket_id)
        events = [
            NewEvent(
                "ticket.feedback",
                ticket_id,
                data={"feedback_id": feedback_id, "satisfied": satisfied, "rating": rating, "comment": comment},
            )
        ]
        reopened_id = None
        if satisfied:
            await conn.execute(
                "UPDATE tickets SET status = 'closed', closed_at = now(), updated_at = now() WHERE id = $1", ticket_id
            )
            events.append(NewEvent("ticket.closed", ticket_id, data={"reason": "feedback", "rating": rating}))
            status = "closed"
        else:
            reopened = await _reopen_lead(conn, ticket_id, comment or DEFAULT_REOPEN_REASON)
            reopened_id = reopened["assignment_id"]
            events.append(reopened["event"])
            status = await refresh_status(conn, ticket_id, ticket["status"])
        await append_events(conn, events, actor=None, agencies=agencies)
    log.info("ticket.feedback", ticket_id=ticket_id, satisfied=satisfied, rating=rating, status=status)
    return {"status": status, "reopened_assignment_id": reopened_id}


async def _reopen_lead(conn: asyncpg.Connection, ticket_id: int, reason: str) -> dict[str, Any]:
    """Reopen the live lead assignment (resolved → dispatched) with fresh deadlines."""
    lead = await conn.fetchrow(
        """
        SELECT id, agency, state FROM assignments
        WHERE ticket_id = $1 AND role = 'lead' AND NOT (state = ANY($2::text[]))
        FOR UPDATE
        """,
        ticket_id,
        sorted(CLOSED_STATES),
    )
    if lead is None or lead["state"] != "resolved":
        raise Conflict("the ticket has no resolved lead assignment to reopen", code="illegal_transition")
    target = next_state("reopen", lead["state"])
    await conn.execute(
        f"""
        UPDATE assignments SET state = $2, {ASSIGNMENT_UPDATES["reopen"]}, updated_at = now(), version = version + 1
        WHERE id = $1
        """,
        lead["id"],
        target,
    )
    event = NewEvent(
        EVENT_TYPES["reopen"],
        ticket_id,
        lead["id"],
        {"from": lead["state"], "to": target, "agency": lead["agency"], "reason": reason, "by": "citizen_feedback"},
    )
    return {"assignment_id": lead["id"], "event": event}


async def close_resolved(conn: asyncpg.Connection, grace: timedelta, *, batch: int = 500) -> int:
    """Close tickets resolved longer than ``grace`` ago without feedback; return how many.

    Safe to run in several processes at once: rows being closed elsewhere are skipped.
    """
    closed = 0
    while True:
        async with conn.transaction():
            rows = await conn.fetch(
                """
                SELECT id FROM tickets
                WHERE status = 'resolved' AND resolved_at < now() - $1::interval
                ORDER BY id LIMIT $2
                FOR UPDATE SKIP LOCKED
                """,
                grace,
                batch,
            )
            ids = [row["id"] for row in rows]
            if ids:
                await conn.execute(
                    "UPDATE tickets SET status = 'closed', closed_at = now(), updated_at = now() WHERE id = ANY($1)",
                    ids,
                )
                days = round(grace.total_seconds() / 86400, 3)
                for ticket_id in ids:
                    await append_events(
                        conn,
                        [NewEvent("ticket.closed", ticket_id, data={"reason": "grace_period", "grace_days": days})],
                        actor=None,
                        agencies=await ticket_agencies(conn, ticket_id),
                    )
        closed += len(ids)
        if len(ids) < batch:
            break
    if closed:
        log.info("tickets.closed_after_grace", count=closed)
    return closed
