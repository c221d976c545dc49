"""Tickets: creation (one transaction with assignments, events and outbox), reading,
listing with cursor pagination, reports and merges."""

from __future__ import annotations

import base64
import binascii
import functools
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from dispatch.bounds import parse_id
from dispatch.errors import BadRequest, Conflict, NotFound
from dispatch.lifecycle import FINAL_TICKET_STATUSES, OPEN_STATES, derive_ticket_status
from dispatch.store.desks import choose_desks
from dispatch.store.duplicates import Candidate, CandidateSearch
from dispatch.store.events import NewEvent, actor_label, append_events
from dispatch.store.users import Principal

TICKET_COLUMNS = """
    t.id, t.number, t.tracking_token, t.channel, t.caller_phone, t.caller_name, t.caller_no_phone_reason,
    t.address, t.district,
    t.lat, t.lon, t.description, t.category, t.priority, t.status, t.merged_into, t.classification,
    t.created_by, t.created_at, t.updated_at, t.resolved_at, t.closed_at, t.facts, t.short_code,
    t.kb_entry_id, t.kb_version
"""
ASSIGNMENT_COLUMNS = """
    id, ticket_id, agency, desk_id, role, state, ack_due, resolve_due, created_at, acknowledged_at,
    started_at, resolved_at, resolution, closed_at, closed_reason, transferred_to, version,
    paused_at, pause_reason, deadlines_armed_at, escalation_level
"""
# Internal users who may see a ticket's tracking token (to read it out to the caller).
TOKEN_READERS = frozenset({"call_taker", "supervisor", "admin", "partner"})


@dataclass(frozen=True, slots=True)
class Decision:
    """What a new ticket becomes: routed facts, whether proposed by routing or given."""

    category: str | None
    priority: str
    agencies: Sequence[str]  # lead first
    district: str | None
    classification: dict[str, Any] | None
    # Where the gazetteer placed the ticket when the request gave no coordinates.
    lat: float | None = None
    lon: float | None = None


# Assignment rows ----------------------------------------------------------------------------


def _service_level(priority: str, category: str) -> str:
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
    {_service_level("$4", "$5")}
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
    desk_ids = await choose_desks(conn, agencies, district)
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


# Creation -----------------------------------------------------------------------------------


def new_tracking_token() -> str:
    """128 random bits, URL-safe: what a citizen types to see their ticket."""
    return secrets.token_urlsafe(16)


# The next ticket number, MS<yyyymmdd, China time>-<serial>: at least six digits, more once
# the serial passes 999999 (lpad alone would cut it to six, and numbers would repeat).
NEXT_NUMBER_SQL = """'MS' || to_char(now() AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD') || '-'
                    || (SELECT lpad(n::text, greatest(6, length(n::text)), '0')
                        FROM nextval('ticket_number_seq') AS n)"""


# One statement writes the ticket, its assignments, their events and the events' outbox rows:
# atomic and durable like a transaction, in one round trip instead of five. With an
# Idempotency-Key already used, the ticket insert does nothing and neither does the rest.
#
# Agencies and extra events are VALUES rows, not unnest() of arrays: with arrays PostgreSQL
# estimates a generic plan for 100 rows each and plans the statement anew on every call.
#
# With a candidate search, the same statement also reads the open tickets the new one may
# duplicate (store.duplicates), as they were before it: the hot path is one round trip.
# $1..$16 the ticket, $17 actor label, $18 the events' agencies, $19 ticket.created data,
# $20 why the caller gave no number
_BASE_PARAMS = 20


def _params(agencies: int, extra_events: int) -> int:
    """How many parameters the statement has before the candidate search's."""
    return _BASE_PARAMS + 3 * agencies + 2 * extra_events


def _create_statement(agencies: int, extra_events: int, candidates: CandidateSearch | None = None) -> str:
    search = candidates.sql(_params(agencies, extra_events) + 1) if candidates is not None else None
    return _create_statement_with(agencies, extra_events, search)


@functools.cache
def _create_statement_with(agencies: int, extra_events: int, candidates_sql: str | None) -> str:
    base = _BASE_PARAMS
    agency_rows = ", ".join(
        f"(${base + 3 * i + 1}::text, ${base + 3 * i + 2}::text, ${base + 3 * i + 3}::bigint, {i})"
        for i in range(agencies)
    )
    # No agencies: the ticket waits in the call-takers' queue (status new, no assignment).
    if agencies:
        assignments_cte = f"""
        INSERT INTO assignments AS x (ticket_id, agency, desk_id, role, ack_due, resolve_due)
        SELECT (n.t).id, a.agency, a.desk_id, a.role,
               now() + make_interval(secs => sl.ack_seconds), now() + make_interval(secs => sl.resolve_seconds)
        FROM new_ticket n
        CROSS JOIN (VALUES {agency_rows}) AS a(agency, role, desk_id, ord)
        {_service_level("$11", "$10")}
        ORDER BY a.ord
        RETURNING x"""
    else:
        assignments_cte = "SELECT NULL::assignments AS x WHERE false"
    after = base + 3 * agencies
    extra_rows = ", ".join(
        f"(${after + 2 * i + 1}::text, ${after + 2 * i + 2}::jsonb, {i})" for i in range(extra_events)
    )
    extra = (
        f"""
            UNION ALL
            SELECT (n.t).id, NULL, extra.type, extra.data, 2, extra.ord
            FROM new_ticket n CROSS JOIN (VALUES {extra_rows}) AS extra(type, data, ord)"""
        if extra_events
        else ""
    )
    # The candidates' subquery sees the tables as they were before this statement: without the
    # new ticket, which is not a duplicate of itself.
    candidates_column = f"ARRAY(SELECT c FROM ({candidates_sql}) c)" if candidates_sql else "NULL::record[]"
    status = "dispatched" if agencies else "new"
    return f"""
    WITH new_ticket AS (
        INSERT INTO tickets AS t (number, tracking_token, channel, caller_phone, caller_name, address, district,
                                  lat, lon, description, category, priority, status, classification, created_by,
                                  idempotency_key, request_hash, facts, caller_no_phone_reason)
        VALUES ({NEXT_NUMBER_SQL},
                $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, '{status}', $12, $13, $14, $15, $16, $20)
        ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
        RETURNING t
    ), new_assignments AS ({assignments_cte}
    ), new_events AS (
        INSERT INTO events (ticket_id, assignment_id, type, actor_id, actor, agencies, data)
        SELECT e.ticket_id, e.assignment_id, e.type, $13, $17, $18, e.data
        FROM (
            SELECT (n.t).id AS ticket_id, NULL::bigint AS assignment_id, 'ticket.created' AS type,
                   $19::jsonb AS data, 0 AS part, 0::bigint AS ord
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


@dataclass(frozen=True, slots=True)
class CreatedTicket:
    """The outcome of a create: the ticket's id, whether this call created it, and (when it
    did) the ticket with its assignments as ``get_ticket(detail=False)`` shows it."""

    id: int
    created: bool
    ticket: dict[str, Any] | None
    candidates: list[Candidate] | None = None  # when asked for and created: see store.duplicates


async def create_ticket(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    description: str,
    channel: str,
    caller_phone: str | None,
    caller_name: str | None,
    address: str,
    lat: float | None,
    lon: float | None,
    decision: Decision,
    idempotency_key: str | None = None,
    request_hash: bytes | None = None,
    facts: dict[str, dict[str, Any]] | None = None,
    extra_events: Sequence[tuple[str, dict[str, Any]]] = (),
    candidates: CandidateSearch | None = None,
    no_phone_reason: str | None = None,
) -> CreatedTicket:
    """Create a ticket with its assignments, events and outbox rows, atomically.

    With no agencies in the decision (and no category), the ticket is created in status ``new``
    with no assignment: it waits in the call-takers' queue.

    The events are ``ticket.created``, one ``assignment.created`` per agency (lead first), then
    ``extra_events`` (type, data) in order. With an idempotency key already used by this user
    for the same request, the first ticket's id and ``created=False``; the same key with a
    different request is a conflict. With ``candidates``, a created ticket comes with the rows
    of that search, read in the same statement (``store.duplicates.find_duplicates`` ranks them).
    """
    desk_ids = await choose_desks(conn, decision.agencies, decision.district) if decision.agencies else []
    roles = ["lead"] + ["assist"] * (len(decision.agencies) - 1) if decision.agencies else []
    row = await conn.fetchrow(
        _create_statement(len(decision.agencies), len(extra_events), candidates),
        new_tracking_token(),
        channel,
        caller_phone,
        caller_name,
        address,
        decision.district,
        lat,
        lon,
        description,
        decision.category,
        decision.priority,
        decision.classification,
        principal.id,
        idempotency_key,
        request_hash,
        facts or {},
        actor_label(principal),
        list(dict.fromkeys(decision.agencies)),
        {
            "category": decision.category,
            "priority": decision.priority,
            "channel": channel,
            "agencies": list(decision.agencies),
            "district": decision.district,
        },
        no_phone_reason,
        *(
            value
            for agency, role, desk in zip(decision.agencies, roles, desk_ids, strict=True)
            for value in (agency, role, desk)
        ),
        *(value for event in extra_events for value in event),
        *(candidates.args() if candidates is not None else ()),
    )
    if row is None:
        return CreatedTicket(await _replayed(conn, principal, idempotency_key, request_hash), False, None)
    ticket = _ticket_dict(row["ticket"], principal)
    ticket["assignments"] = [_assignment_dict(a) for a in row["assignments"] or ()]
    return CreatedTicket(ticket["id"], True, ticket, row["candidates"])


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


# Reading ------------------------------------------------------------------------------------


def visibility_clause(principal: Principal, param: int) -> tuple[str, list[Any]]:
    """SQL (on alias ``t``) limiting tickets to what ``principal`` may see, with its arguments.

    Call-takers, supervisors and admins see every ticket; a desk sees tickets its agency is
    or was assigned to; a partner system sees the tickets it filed.
    """
    if principal.role in ("call_taker", "supervisor", "admin"):
        return "true", []
    if principal.role == "desk":
        return (
            f"EXISTS (SELECT 1 FROM assignments va WHERE va.ticket_id = t.id AND va.agency = ${param})",
            [principal.agency],
        )
    return f"t.created_by = ${param}", [principal.id]


def _caller(row: asyncpg.Record) -> dict[str, Any]:
    caller = {"phone": row["caller_phone"], "name": row["caller_name"]}
    if row["caller_no_phone_reason"]:
        caller["no_phone_reason"] = row["caller_no_phone_reason"]  # only when there is no number
    return caller


def _ticket_dict(row: asyncpg.Record, principal: Principal | None) -> dict[str, Any]:
    show_token = principal is None or principal.role in TOKEN_READERS
    return {
        "id": row["id"],
        "number": row["number"],
        "tracking_token": row["tracking_token"] if show_token else None,
        "short_code": row["short_code"] if show_token else None,
        "status": row["status"],
        "category": row["category"],
        "priority": row["priority"],
        "channel": row["channel"],
        "description": row["description"],
        "caller": _caller(row),
        "location": {
            "address": row["address"],
            "district": row["district"],
            "lat": row["lat"],
            "lon": row["lon"],
        },
        "merged_into": row["merged_into"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "resolved_at": row["resolved_at"],
        "closed_at": row["closed_at"],
        "classification": row["classification"],
        "facts": row["facts"] or {},
        "answer": {"kb_entry": row["kb_entry_id"], "kb_version": row["kb_version"]} if row["kb_entry_id"] else None,
    }


ASSIGNMENT_FIELDS = tuple(name.strip() for name in ASSIGNMENT_COLUMNS.split(","))


def _assignment_dict(row: asyncpg.Record) -> dict[str, Any]:
    """An assignment as the API shows it, from a row with at least ``ASSIGNMENT_COLUMNS``."""
    return {name: row[name] for name in ASSIGNMENT_FIELDS}


async def _assignments_by_ticket(conn: asyncpg.Connection, ticket_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    rows = await conn.fetch(
        f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE ticket_id = ANY($1::bigint[]) ORDER BY id",
        ticket_ids,
    )
    grouped: dict[int, list[dict[str, Any]]] = {tid: [] for tid in ticket_ids}
    for row in rows:
        grouped[row["ticket_id"]].append(dict(row))
    return grouped


async def get_ticket(
    conn: asyncpg.Connection, ticket_id: int, principal: Principal | None, *, detail: bool = True
) -> dict[str, Any]:
    """The ticket with its assignments (and, with ``detail``, reports and timeline).

    404 when it does not exist or ``principal`` may not see it; None ``principal`` means
    the system itself (no visibility limit).
    """
    clause, args = visibility_clause(principal, 2) if principal else ("true", [])
    row = await conn.fetchrow(f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = $1 AND {clause}", ticket_id, *args)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
    ticket = _ticket_dict(row, principal)
    ticket["assignments"] = (await _assignments_by_ticket(conn, [ticket_id]))[ticket_id]
    if detail:
        reports = await conn.fetch(
            """SELECT id, channel, description, caller_phone, caller_name, caller_no_phone_reason AS no_phone_reason,
                      created_at, moved_from
               FROM reports WHERE ticket_id = $1 ORDER BY id""",
            ticket_id,
        )
        ticket["reports"] = [dict(r) for r in reports]
        events = await conn.fetch(
            "SELECT id, type, actor, at, assignment_id, data FROM events WHERE ticket_id = $1 ORDER BY id",
            ticket_id,
        )
        ticket["timeline"] = [dict(e) for e in events]
    return ticket


@dataclass(frozen=True, slots=True)
class TicketFilter:
    """Filters of ``GET /tickets``; every field is optional."""

    status: str | None = None
    agency: str | None = None
    priority: str | None = None
    district: str | None = None
    category: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    text: str | None = None
    caller_phone: str | None = None


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t:{ticket_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        ticket_id = parse_id(value)
        if kind != "t" or ticket_id is None:
            raise ValueError
        return ticket_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None


# A search matching at most this many tickets is answered from the trigram indexes' matches;
# one matching more, newest first along the ids (it soon finds a page of a common word).
TEXT_MATCHES_BY_INDEX: Final = 1_000
_TEXT_MATCH = "(t.description LIKE {contains} OR t.address LIKE {contains} OR t.number = upper({exact}))"


async def _text_condition(conn: asyncpg.Connection, text: str, arg: Callable[[Any], str]) -> str:
    """The condition of a search for ``text`` (a substring of the description or the address,
    or the exact number). PostgreSQL cannot know how many tickets a substring matches, and
    when it guesses "a few hundred" for a string no ticket has, it walks every ticket newest
    first looking for them; so the matches are counted first, up to a bound."""
    contains = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    matches = await conn.fetch(
        f"SELECT t.id FROM tickets t WHERE {_TEXT_MATCH.format(contains='$1', exact='$2')} LIMIT $3",
        contains,
        text,
        TEXT_MATCHES_BY_INDEX + 1,
    )
    if len(matches) <= TEXT_MATCHES_BY_INDEX:
        return f"t.id = ANY({arg([row['id'] for row in matches])}::bigint[])"
    return _TEXT_MATCH.format(contains=arg(contains), exact=arg(text))


async def list_tickets(
    conn: asyncpg.Connection, principal: Principal, filters: TicketFilter, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of visible tickets, newest first, and the cursor of the next page (None at the end).

    The cursor is the last id returned, so pages stay stable while tickets are created.
    """
    clause, args = visibility_clause(principal, 1)
    where = [clause]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if filters.status:
        where.append(f"t.status = {arg(filters.status)}")
    if filters.priority:
        where.append(f"t.priority = {arg(filters.priority)}")
    if filters.district:
        where.append(f"t.district = {arg(filters.district)}")
    if filters.category:
        where.append(f"t.category = {arg(filters.category)}")
    if filters.agency:
        where.append(
            f"EXISTS (SELECT 1 FROM assignments fa WHERE fa.ticket_id = t.id AND fa.agency = {arg(filters.agency)})"
        )
    if filters.created_from:
        where.append(f"t.created_at >= {arg(filters.created_from)}")
    if filters.created_to:
        where.append(f"t.created_at < {arg(filters.created_to)}")
    if filters.caller_phone:
        where.append(f"t.caller_phone = {arg(filters.caller_phone)}")
    if filters.text:
        where.append(await _text_condition(conn, filters.text, arg))
    if cursor:
        where.append(f"t.id < {arg(decode_cursor(cursor))}")
    rows = await conn.fetch(
        f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE {' AND '.join(where)} ORDER BY t.id DESC LIMIT {arg(limit + 1)}",
        *args,
    )
    page = rows[:limit]
    by_ticket = await _assignments_by_ticket(conn, [r["id"] for r in page])
    items = []
    for row in page:
        ticket = _ticket_dict(row, principal)
        ticket["assignments"] = by_ticket[row["id"]]
        items.append(ticket)
    next_cursor = encode_cursor(page[-1]["id"]) if len(rows) > limit else None
    return items, next_cursor


# Reports and merges -------------------------------------------------------------------------


async def _lock_ticket(conn: asyncpg.Connection, ticket_id: int, principal: Principal) -> asyncpg.Record:
    clause, args = visibility_clause(principal, 2)
    row = await conn.fetchrow(
        f"SELECT t.id, t.number, t.status, t.merged_into FROM tickets t WHERE t.id = $1 AND {clause} FOR UPDATE",
        ticket_id,
        *args,
    )
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
    return row


async def add_report(
    conn: asyncpg.Connection,
    ticket_id: int,
    principal: Principal,
    *,
    description: str,
    channel: str,
    caller_phone: str | None,
    caller_name: str | None,
    no_phone_reason: str | None = None,
) -> dict[str, Any]:
    """Attach a further call about the same incident to an open ticket."""
    async with conn.transaction():
        ticket = await _lock_ticket(conn, ticket_id, principal)
        if ticket["status"] in FINAL_TICKET_STATUSES:
            raise Conflict(
                f"ticket {ticket['number']} is {ticket['status']}; attach the call to an open ticket",
                code="ticket_not_open",
                details=[{"status": ticket["status"], "merged_into": ticket["merged_into"]}],
            )
        report = await conn.fetchrow(
            """
            INSERT INTO reports (ticket_id, channel, caller_phone, caller_name, description, created_by,
                                 caller_no_phone_reason)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            RETURNING id, channel, description, caller_phone, caller_name, caller_no_phone_reason AS no_phone_reason,
                      created_at, moved_from
            """,
            ticket_id,
            channel,
            caller_phone,
            caller_name,
            description,
            principal.id,
            no_phone_reason,
        )
        await conn.execute("UPDATE tickets SET updated_at = now() WHERE id = $1", ticket_id)
        await append_events(
            conn,
            [NewEvent("ticket.report_added", ticket_id, data={"report_id": report["id"], "channel": channel})],
            actor=principal,
            agencies=await ticket_agencies(conn, ticket_id),
        )
    return dict(report)


async def merge_tickets(conn: asyncpg.Connection, duplicate_id: int, into_id: int, principal: Principal) -> None:
    """Fold ``duplicate_id`` into ``into_id``: its open assignments are released with a reason,
    its reports and its own call move to the target, and both timelines say so."""
    if duplicate_id == into_id:
        raise Conflict("a ticket cannot be merged into itself", code="merge_into_self")
    async with conn.transaction():
        # Lock both rows in id order so that two opposite merges cannot deadlock.
        locked = {}
        for tid in sorted((duplicate_id, into_id)):
            locked[tid] = await _lock_ticket(conn, tid, principal)
        duplicate, target = locked[duplicate_id], locked[into_id]
        for ticket in (duplicate, target):
            if ticket["status"] in FINAL_TICKET_STATUSES:
                raise Conflict(
                    f"ticket {ticket['number']} is {ticket['status']} and cannot take part in a merge",
                    code="ticket_not_open",
                    details=[{"ticket_id": ticket["id"], "status": ticket["status"]}],
                )
        reason = f"merged into {target['number']}"
        released = await conn.fetch(
            """
            UPDATE assignments SET state = 'released', closed_at = now(), closed_reason = $2,
                   updated_at = now(), version = version + 1
            WHERE ticket_id = $1 AND state = ANY($3::text[])
            RETURNING id
            """,
            duplicate_id,
            reason,
            sorted(OPEN_STATES),
        )
        await conn.execute(
            """
            INSERT INTO reports (ticket_id, channel, caller_phone, caller_name, caller_no_phone_reason, description,
                                 created_by, created_at, moved_from)
            SELECT $2, channel, caller_phone, caller_name, caller_no_phone_reason, description, created_by,
                   created_at, id
            FROM tickets WHERE id = $1
            """,
            duplicate_id,
            into_id,
        )
        moved = await conn.execute(
            "UPDATE reports SET ticket_id = $2, moved_from = coalesce(moved_from, $1) WHERE ticket_id = $1",
            duplicate_id,
            into_id,
        )
        await conn.execute(
            """UPDATE tickets SET status = 'merged', merged_into = $2, updated_at = now(), closed_at = now()
               WHERE id = $1""",
            duplicate_id,
            into_id,
        )
        await conn.execute("UPDATE tickets SET updated_at = now() WHERE id = $1", into_id)
        data = {
            "duplicate_id": duplicate_id,
            "duplicate_number": duplicate["number"],
            "into_id": into_id,
            "into_number": target["number"],
            "released_assignments": [r["id"] for r in released],
            "reports_moved": int(moved.split()[-1]) + 1,
        }
        agencies = await ticket_agencies(conn, duplicate_id) + await ticket_agencies(conn, into_id)
        await append_events(
            conn,
            [
                NewEvent("ticket.merged", duplicate_id, data=data),
                NewEvent("ticket.merged", into_id, data=data),
            ],
            actor=principal,
            agencies=agencies,
        )


__all__ = [
    "Decision",
    "TicketFilter",
    "actor_label",
    "add_report",
    "create_ticket",
    "get_ticket",
    "list_tickets",
]
