"""Writing a new ticket: one statement for the ticket, its assignments, their events and the
events' outbox rows (atomic and durable like a transaction, in one round trip instead of five).

The caller decides everything (``dispatch.intake``: category, priority, agencies, desks, the
events to add); this module only writes it. Every value goes in as a parameter named where
it is used (``_Params``), so the statement reads as what it inserts.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

import asyncpg

from dispatch.errors import Conflict
from dispatch.store.assignment_rows import service_level
from dispatch.store.duplicates import Candidate, CandidateSearch
from dispatch.store.events import actor_label
from dispatch.store.ticket_shape import assignment_dict, ticket_dict
from dispatch.store.users import Principal

# The next ticket number, MS<yyyymmdd, China time>-<serial>: at least six digits, more once
# the serial passes 999999 (lpad alone would cut it to six, and numbers would repeat).
NEXT_NUMBER_SQL: Final = """'MS' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
                    || (SELECT lpad(n::text, greatest(6, length(n::text)), '0')
                        FROM nextval('ticket_number_seq') AS n)"""
# What such a number looks like (a serial of up to twelve digits), for those who recognise one.
NUMBER_PATTERN: Final = r"MS[0-9]{8}-[0-9]{6,12}"

# dispatched: with assignments; new: waiting on the 待分派 queue; answered: a consultation
# answered at first contact, closed at once.
Status = Literal["dispatched", "new", "answered"]


def new_tracking_token() -> str:
    """128 random bits, URL-safe: what a citizen types to see their ticket."""
    return secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True)
class TicketRecord:
    """The columns of a new ticket, as decided."""

    description: str
    channel: str
    address: str
    caller_phone: str | None
    caller_name: str | None
    no_phone_reason: str | None
    district: str | None
    lat: float | None
    lon: float | None
    category: str | None
    priority: str
    classification: dict[str, Any] | None
    facts: dict[str, dict[str, Any]]
    status: Status
    kb_entry_id: int | None = None
    kb_version: int | None = None


@dataclass(frozen=True, slots=True)
class AssignmentRecord:
    """One assignment of a new ticket (lead first): the agency, its role and the desk chosen."""

    agency: str
    role: Literal["lead", "assist"]
    desk_id: int | None


@dataclass(frozen=True, slots=True)
class CreatedTicket:
    """The outcome of a create: the ticket's id, whether this call created it, and (when it
    did) the ticket with its assignments as ``get_ticket(detail=False)`` shows it."""

    id: int
    created: bool
    ticket: dict[str, Any] | None
    candidates: list[Candidate] | None = None  # when asked for and created: see store.duplicates


class _Params:
    """Positional parameters handed out by name: ``p(value)`` is the placeholder of ``value``."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _statement(
    principal: Principal,
    ticket: TicketRecord,
    assignments: Sequence[AssignmentRecord],
    created_data: dict[str, Any],
    events: Sequence[tuple[str, dict[str, Any]]],
    idempotency_key: str | None,
    request_hash: bytes | None,
    candidates: CandidateSearch | None,
) -> tuple[str, list[Any]]:
    p = _Params()
    category, priority, actor_id = p(ticket.category), p(ticket.priority), p(principal.id)
    columns = {
        "tracking_token": p(new_tracking_token()),
        "channel": p(ticket.channel),
        "caller_phone": p(ticket.caller_phone),
        "caller_name": p(ticket.caller_name),
        "caller_no_phone_reason": p(ticket.no_phone_reason),
        "address": p(ticket.address),
        "district": p(ticket.district),
        "lat": p(ticket.lat),
        "lon": p(ticket.lon),
        "description": p(ticket.description),
        "category": category,
        "priority": priority,
        "status": f"'{ticket.status}'",
        "classification": p(ticket.classification),
        "created_by": actor_id,
        "idempotency_key": p(idempotency_key),
        "request_hash": p(request_hash),
        "facts": p(ticket.facts),
        "closed_at": "now()" if ticket.status == "answered" else "NULL",
        "kb_entry_id": p(ticket.kb_entry_id),
        "kb_version": p(ticket.kb_version),
    }
    # Agencies and extra events are VALUES rows, not unnest() of arrays: with arrays PostgreSQL
    # estimates a generic plan for 100 rows each and plans the statement anew on every call.
    if assignments:
        agency_rows = ", ".join(
            f"({p(a.agency)}::text, {p(a.role)}::text, {p(a.desk_id)}::bigint, {i})" for i, a in enumerate(assignments)
        )
        assignments_cte = f"""
        INSERT INTO assignments AS x (ticket_id, agency, desk_id, role, ack_due, resolve_due)
        SELECT (n.t).id, a.agency, a.desk_id, a.role,
               now() + make_interval(secs => sl.ack_seconds), now() + make_interval(secs => sl.resolve_seconds)
        FROM new_ticket n
        CROSS JOIN (VALUES {agency_rows}) AS a(agency, role, desk_id, ord)
        {service_level(priority, category)}
        ORDER BY a.ord
        RETURNING x"""
    else:
        assignments_cte = "SELECT NULL::assignments AS x WHERE false"
    extra = ""
    if events:
        event_rows = ", ".join(f"({p(kind)}::text, {p(data)}::jsonb, {i})" for i, (kind, data) in enumerate(events))
        extra = f"""
            UNION ALL
            SELECT (n.t).id, NULL, extra.type, extra.data, 2, extra.ord
            FROM new_ticket n CROSS JOIN (VALUES {event_rows}) AS extra(type, data, ord)"""
    actor = p(actor_label(principal))
    event_agencies = p(list(dict.fromkeys(a.agency for a in assignments)))
    created = p(created_data)
    # With a candidate search, the same statement also reads the open tickets the new one may
    # duplicate (store.duplicates), as the tables were before it: without the new ticket.
    candidates_column = "NULL::record[]"
    if candidates is not None:
        candidates_column = f"ARRAY(SELECT c FROM ({candidates.sql(len(p.values) + 1)}) c)"
        p.values.extend(candidates.args())
    sql = f"""
    WITH new_ticket AS (
        INSERT INTO tickets AS t (number, {", ".join(columns)})
        VALUES ({NEXT_NUMBER_SQL}, {", ".join(columns.values())})
        ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING t
    ), new_assignments AS ({assignments_cte}
    ), new_events AS (
        INSERT INTO events (ticket_id, assignment_id, type, actor_id, actor, agencies, data)
        SELECT e.ticket_id, e.assignment_id, e.type, {actor_id}, {actor}, {event_agencies}, e.data
        FROM (
            SELECT (n.t).id AS ticket_id, NULL::bigint AS assignment_id, 'ticket.created' AS type,
                   {created}::jsonb AS data, 0 AS part, 0::bigint AS ord
            FROM new_ticket n
            UNION ALL
            SELECT (na.x).ticket_id, (na.x).id, 'assignment.created',
                   jsonb_build_object('agency', (na.x).agency, 'role', (na.x).role), 1, (na.x).id
            FROM new_assignments na{extra}
        ) e
        ORDER BY e.part, e.ord
        RETURNING id
    ), queued AS (
        INSERT INTO outbox (event_id) SELECT id FROM new_events
    )
    SELECT n.t AS ticket, (SELECT array_agg(na.x ORDER BY (na.x).id) FROM new_assignments na) AS assignments,
           {candidates_column} AS candidates
    FROM new_ticket n
"""
    return sql, p.values


async def insert_ticket(
    conn: asyncpg.Connection,
    principal: Principal,
    ticket: TicketRecord,
    assignments: Sequence[AssignmentRecord],
    *,
    created_data: dict[str, Any],
    events: Sequence[tuple[str, dict[str, Any]]] = (),
    idempotency_key: str | None = None,
    request_hash: bytes | None = None,
    candidates: CandidateSearch | None = None,
) -> CreatedTicket:
    """Write a ticket with its assignments, events and outbox rows, atomically.

    The events are ``ticket.created`` (``created_data``), one ``assignment.created`` per
    assignment (lead first), then ``events`` (type, data) in order. With an idempotency key
    already used by this user for the same request, the first ticket's id and
    ``created=False``; the same key with a different request is a conflict. With
    ``candidates``, a created ticket comes with the rows of that search, read in the same
    statement (``store.duplicates.find_duplicates`` ranks them).
    """
    sql, values = _statement(
        principal, ticket, assignments, created_data, events, idempotency_key, request_hash, candidates
    )
    row = await conn.fetchrow(sql, *values)
    if row is None:
        return CreatedTicket(await _replayed(conn, principal, idempotency_key, request_hash), False, None)
    shown = ticket_dict(row["ticket"], principal)
    shown["assignments"] = [assignment_dict(a) for a in row["assignments"] or ()]
    return CreatedTicket(shown["id"], True, shown, row["candidates"])


async def _replayed(conn: asyncpg.Connection, principal: Principal, key: str | None, request_hash: bytes | None) -> int:
    row = await conn.fetchrow(
        "SELECT id, request_hash FROM tickets WHERE created_by = $1 AND idempotency_key = $2",
        principal.id,
        key,
    )
    assert row is not None, "ON CONFLICT fired, so the first ticket exists and is committed"
    if row["request_hash"] != request_hash:
        raise Conflict(
            "this Idempotency-Key was already used for a different request",
            code="idempotency_key_reused",
            details=[{"ticket_id": row["id"]}],
        )
    ticket_id: int = row["id"]
    return ticket_id
