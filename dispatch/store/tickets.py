"""Tickets: reading, listing with cursor pagination, further reports and merges. A new ticket is
written by ``store.new_tickets``; what a ticket looks like in the API is ``store.ticket_shape``;
who may see it is ``dispatch.access.visibility``."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import asyncpg

from dispatch.access.visibility import CENTRE_ONLY_EVENTS, sees_centre_events, ticket_clause
from dispatch.bounds import parse_id
from dispatch.errors import BadRequest, Conflict, NotFound
from dispatch.lifecycle import FINAL_TICKET_STATUSES, OPEN_STATES
from dispatch.store.assignment_rows import ticket_agencies
from dispatch.store.events import NewEvent, append_events
from dispatch.store.new_tickets import NUMBER_PATTERN
from dispatch.store.ticket_shape import ASSIGNMENT_COLUMNS, TICKET_COLUMNS, ticket_dict
from dispatch.store.users import Principal

# Reading ------------------------------------------------------------------------------------


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
    clause, args = ticket_clause(principal, 2) if principal else ("true", [])
    row = await conn.fetchrow(f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = $1 AND {clause}", ticket_id, *args)
    if row is None:
        raise NotFound(f"no ticket {ticket_id}", code="ticket_not_found")
    ticket = ticket_dict(row, principal)
    ticket["assignments"] = (await _assignments_by_ticket(conn, [ticket_id]))[ticket_id]
    if detail:
        reports = await conn.fetch(
            """SELECT id, channel, description, caller_phone, caller_name, caller_no_phone_reason AS no_phone_reason,
                      created_at, moved_from
               FROM reports WHERE ticket_id = $1 ORDER BY id""",
            ticket_id,
        )
        ticket["reports"] = [dict(r) for r in reports]
        hidden = [] if sees_centre_events(principal) else sorted(CENTRE_ONLY_EVENTS)
        events = await conn.fetch(
            """SELECT id, type, actor, at, assignment_id, data FROM events
               WHERE ticket_id = $1 AND NOT (type = ANY($2::text[])) ORDER BY id""",
            ticket_id,
            hidden,
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
    # With ``agency``: only tickets whose assignment of that agency is in one of these
    # states, listed by that assignment, newest first (see ``list_by_assignment``).
    assignment_states: tuple[str, ...] | None = None


def encode_cursor(ticket_id: int) -> str:
    return base64.urlsafe_b64encode(f"t:{ticket_id}".encode()).decode().rstrip("=")


def encode_assignment_cursor(assignment_id: int) -> str:
    return base64.urlsafe_b64encode(f"a:{assignment_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str, kind_expected: str = "t") -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        ticket_id = parse_id(value)
        if kind != kind_expected or ticket_id is None:
            raise ValueError
        return ticket_id
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None


# A search matching at most this many tickets is answered from the trigram indexes' matches;
# one matching more, newest first along the ids (at that density a page is soon found).
TEXT_MATCHES_BY_INDEX: Final = 5_000
# A search looks first among this many newest tickets (below the cursor), along the ids.
TEXT_WALK_FIRST: Final = 25_000
# The ranges of newest ids a search without other filters looks through for its trigram matches,
# in turn, until one holds a page of them (None: all).
TEXT_SPANS: Final = (250_000, 2_500_000, None)
# A ticket number (any case): its own index finds it at once, so no walk is needed first.
NUMBER_SHAPED: Final = re.compile(f"^{NUMBER_PATTERN}$", re.IGNORECASE)
# The matches of a description or a number; an address's are found through the distinct
# addresses (migration 0017), each address's tickets by ``tickets_by_address``.
_INDEXED_MATCH = "(t.description LIKE $1 OR t.number = upper($2))"
_ADDRESS_MATCH = (
    "SELECT m.id FROM ticket_addresses a CROSS JOIN LATERAL "
    "(SELECT t.id FROM tickets t WHERE t.address = a.address{bounds} ORDER BY t.id DESC LIMIT $3) m "
    "WHERE a.address LIKE $1"
)
# The same match without the trigram indexes (strpos is LIKE '%text%'): the planner can then
# only walk the ids newest first, whatever it guesses of the string.
_WALKED_MATCH = "(strpos(t.description, {text}) > 0 OR strpos(t.address, {text}) > 0 OR t.number = upper({text}))"


async def _text_matches(
    conn: asyncpg.Connection, text: str, *, below: int | None = None, since: int | None = None
) -> list[int] | None:
    """The ids of the tickets a search for ``text`` matches (a substring of the description or
    the address, or the exact number), or None when there are more than ``TEXT_MATCHES_BY_INDEX``;
    with ``below`` and ``since``, only among the ids from ``since`` up to ``below``.

    PostgreSQL cannot know how many tickets a substring matches. Left to guess, it walked every
    ticket newest first for an address its statistics hold as common though a few thousand
    tickets have it, and sorted tens of thousands of matches of a phrase they do not hold; so
    the matches are counted first through the trigram indexes, up to a bound, and the bound
    decides the plan (docs/benchmarks.md, "10,000,000 tickets: search and Open311 list"). A range
    of ids is one more bitmap ANDed with the description's trigrams' (``tickets_pkey``), so only
    the matches in it are read from the heap; an address is matched among the distinct addresses
    and its tickets in the range read from ``tickets_by_address`` alone."""
    contains = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    args: list[Any] = [contains, text, TEXT_MATCHES_BY_INDEX + 1]
    bounds = ""
    if below is not None:
        args.append(below)
        bounds += f" AND t.id < ${len(args)}"
    if since is not None:
        args.append(since)
        bounds += f" AND t.id >= ${len(args)}"
    async with conn.transaction():
        # Planned for this string each time: a prepared statement's generic plan cannot see it,
        # guesses it common, and walks the ids with the filter (28 s for a rare address over
        # 10,000,000 tickets, against 1 ms through the indexes).
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        # Each side bounded, then their union (a ticket may match on both).
        matches = await conn.fetch(
            f"(SELECT t.id FROM tickets t WHERE {_INDEXED_MATCH}{bounds} LIMIT $3)"
            f" UNION ({_ADDRESS_MATCH.format(bounds=bounds)} LIMIT $3) LIMIT $3",
            *args,
        )
    if len(matches) > TEXT_MATCHES_BY_INDEX:
        return None
    return [row["id"] for row in matches]


async def _newest_text_matches(conn: asyncpg.Connection, text: str, top: int, wanted: int) -> list[int] | None:
    """The newest ``wanted`` ids below ``top`` that a search for ``text`` matches, found in
    ranges of ids growing tenfold from the newest (each match read from the heap is one page,
    and a rare address's few thousand tickets lie scattered over years of them: reading the
    newest range's first is reading a handful); None when a range holds more than
    ``TEXT_MATCHES_BY_INDEX`` (then the matches are dense and walking the ids finds a page)."""
    for span in TEXT_SPANS:
        since = top - span if span is not None else None
        matches = await _text_matches(conn, text, below=top, since=since)
        if matches is None:
            return None
        if len(matches) >= wanted or since is None or since <= 1:
            return sorted(matches, reverse=True)[:wanted]
    raise AssertionError("the last span is unbounded")  # pragma: no cover


def _text_condition(matches: list[int] | None, text: str, arg: Callable[[Any], str]) -> str:
    """The condition of a search for ``text`` whose matches ``_text_matches`` found."""
    if matches is not None:
        return f"t.id = ANY({arg(matches)}::bigint[])"
    return _WALKED_MATCH.format(text=arg(text))


def _ticket_conditions(filters: TicketFilter, arg: Callable[[Any], str]) -> list[str]:
    """The conditions of the filters on the ticket's own columns (``t``): status, priority,
    district, category, caller and creation dates; ``arg`` numbers each value."""
    conditions = [
        f"t.{column} = {arg(value)}"
        for column, value in (
            ("status", filters.status),
            ("priority", filters.priority),
            ("district", filters.district),
            ("category", filters.category),
            ("caller_phone", filters.caller_phone),
        )
        if value
    ]
    if filters.created_from:
        conditions.append(f"t.created_at >= {arg(filters.created_from)}")
    if filters.created_to:
        conditions.append(f"t.created_at < {arg(filters.created_to)}")
    return conditions


async def list_tickets(
    conn: asyncpg.Connection, principal: Principal, filters: TicketFilter, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A page of visible tickets, newest first, and the cursor of the next page (None at the end).

    The cursor is the last id returned, so pages stay stable while tickets are created.
    With ``filters.assignment_states`` the page is ``list_by_assignment``'s instead.
    """
    if filters.assignment_states is not None and filters.agency is not None:
        return await list_by_assignment(conn, principal, filters, cursor=cursor, limit=limit)
    clause, args = ticket_clause(principal, 1)
    where = [clause]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where += _ticket_conditions(filters, arg)
    if filters.agency:
        where.append(
            f"EXISTS (SELECT 1 FROM assignments fa WHERE fa.ticket_id = t.id AND fa.agency = {arg(filters.agency)})"
        )
    # Whether only the text and the cursor choose the page (then the newest matches are the page).
    text_alone = where == ["true"]
    if cursor:
        where.append(f"t.id < {arg(decode_cursor(cursor))}")

    async def page_where(*conditions: Callable[[Callable[[Any], str]], str]) -> list[asyncpg.Record]:
        page_args = list(args)

        def page_arg(value: Any) -> str:
            page_args.append(value)
            return f"${len(page_args)}"

        chosen = [*where, *(condition(page_arg) for condition in conditions)]
        found: list[asyncpg.Record] = await conn.fetch(
            f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE {' AND '.join(chosen)} "
            f"ORDER BY t.id DESC LIMIT {page_arg(limit + 1)}",
            *page_args,
        )
        return found

    text = filters.text
    if not text:
        rows = await page_where()
    elif NUMBER_SHAPED.match(text):  # a number: straight to the indexes' matches
        matches = await _text_matches(conn, text)
        rows = await page_where(lambda a: _text_condition(matches, text, a))
    else:
        # A common word fills a page among the newest tickets: look there first, along the ids.
        top = decode_cursor(cursor) if cursor else await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM tickets")
        low = top - TEXT_WALK_FIRST
        rows = await page_where(lambda a: _text_condition(None, text, a), lambda a: f"t.id >= {a(low)}")
        if len(rows) <= limit and low > 1:
            # Alone, the text's newest matches are the page; with other filters, all its matches
            # are candidates.
            if text_alone:
                matches = await _newest_text_matches(conn, text, top, limit + 1)
            else:
                matches = await _text_matches(conn, text)
            rows = await page_where(lambda a: _text_condition(matches, text, a))
    page = rows[:limit]
    items = await _with_assignments(conn, principal, page)
    next_cursor = encode_cursor(page[-1]["id"]) if len(rows) > limit else None
    return items, next_cursor


async def _with_assignments(
    conn: asyncpg.Connection, principal: Principal, rows: list[asyncpg.Record]
) -> list[dict[str, Any]]:
    by_ticket = await _assignments_by_ticket(conn, [r["id"] for r in rows])
    items = []
    for row in rows:
        ticket = ticket_dict(row, principal)
        ticket["assignments"] = by_ticket[row["id"]]
        items.append(ticket)
    return items


async def list_by_assignment(
    conn: asyncpg.Connection, principal: Principal, filters: TicketFilter, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """A desk's open work as a page of tickets: those whose assignment of ``filters.agency``
    is in one of ``filters.assignment_states``, that assignment newest first, each ticket
    with all its assignments; and the cursor of the next page (the last assignment's id).

    The assignments are found through ``assignments_open_by_agency`` (open states only), so a
    page costs what it returns whatever the history holds; the ticket filters (status,
    priority, district, category, dates, text, phone) apply to the page's tickets as usual.
    """
    assert filters.agency is not None and filters.assignment_states is not None
    clause, args = ticket_clause(principal, 1)
    where = [clause]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where.append(f"a.agency = {arg(filters.agency)}")
    where += _ticket_conditions(filters, arg)
    if filters.text:
        where.append(_text_condition(await _text_matches(conn, filters.text), filters.text, arg))
    if cursor:
        where.append(f"a.id < {arg(decode_cursor(cursor, 'a'))}")
    # One branch per state, each walking ``assignments_open_by_agency`` (agency, state, id DESC)
    # in order and stopping at a page: merged, they are the page in id order, and a page costs
    # what it returns, not the agency's whole open work. The state is written out (one of the
    # open states, never the caller's text) so that the planner sees the partial index applies.
    top = arg(limit + 1)
    branches = [
        f"""(SELECT a.id AS assignment_id, {TICKET_COLUMNS}
             FROM assignments a JOIN tickets t ON t.id = a.ticket_id
             WHERE a.state = '{state}' AND {" AND ".join(where)}
             ORDER BY a.id DESC LIMIT {top})"""
        for state in sorted(set(filters.assignment_states) & OPEN_STATES)
    ]
    if not branches:
        return [], None
    rows = await conn.fetch(
        f"SELECT * FROM ({' UNION ALL '.join(branches)}) page ORDER BY assignment_id DESC LIMIT {top}",
        *args,
    )
    page = rows[:limit]
    items = await _with_assignments(conn, principal, page)
    next_cursor = encode_assignment_cursor(page[-1]["assignment_id"]) if len(rows) > limit else None
    return items, next_cursor


# Reports and merges -------------------------------------------------------------------------


async def _lock_ticket(conn: asyncpg.Connection, ticket_id: int, principal: Principal) -> asyncpg.Record:
    clause, args = ticket_clause(principal, 2)
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
    "TicketFilter",
    "add_report",
    "get_ticket",
    "list_tickets",
    "merge_tickets",
]
