"""Reading tickets for people and systems outside the centre: citizens holding a number and a
tracking token, and Open311 partners. Returns raw facts; what may be shown is decided by the
views (``dispatch/api/public.py``, ``dispatch/api/open311.py``) with
``dispatch/interop/public_text.py``.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from dispatch.lifecycle import CLOSED_STATES

# Compared against when the number is unknown, so that both failures cost the same work.
_DECOY_TOKEN = secrets.token_urlsafe(16)
# What a ticket number or token could look like; anything else is not looked up (and cannot
# carry bytes PostgreSQL refuses in text, such as NUL).
_PLAUSIBLE_NUMBER = re.compile(r"^[A-Za-z0-9-]{1,40}$")
_PLAUSIBLE_TOKEN = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# The six-digit short code read out over the phone (spaces a caller may type are dropped).
_SHORT_CODE = re.compile(r"^[0-9]{6}$")
_DECOY_CODE = "".join(secrets.choice("0123456789") for _ in range(6))
# Open311 status "closed": the agencies are done (resolved counts: the work is finished).
OPEN311_CLOSED_STATUSES = ("resolved", "closed", "merged", "cancelled")
OPEN311_CHANNEL = "open311"
# Tokens of Open311 requests resolve for this long (they are only needed right after filing).
TOKEN_LOOKUP_WINDOW = timedelta(days=90)


def short_code_of(token: str) -> str | None:
    """The six-digit short code ``token`` is, if it is one (spaces and dashes dropped), else None."""
    digits = token.replace(" ", "").replace("-", "")
    return digits if _SHORT_CODE.match(digits) else None


async def find_for_citizen(conn: asyncpg.Connection, number: str, token: str) -> int | None:
    """The id of the ticket with this number if ``token`` is its tracking token or its six-digit
    short code, else None.

    An unknown number and a wrong token do the same work (one indexed lookup and one
    constant-time comparison) and give the same answer, so numbers cannot be enumerated.
    Guessing short codes is bounded by the view's rate limits (docs/privacy.md).
    """
    row = None
    if _PLAUSIBLE_NUMBER.match(number):
        row = await conn.fetchrow("SELECT id, tracking_token, short_code FROM tickets WHERE number = $1", number)
    code = short_code_of(token)
    if code is not None:
        token = code
        stored = row["short_code"] if row is not None else _DECOY_CODE
    else:
        stored = row["tracking_token"] if row is not None else _DECOY_TOKEN
    matches = hmac.compare_digest(stored.encode("utf-8"), token.encode("utf-8", "replace"))
    if row is None or not matches:
        return None
    ticket_id: int = row["id"]
    return ticket_id


_LEAD = f"""
    LEFT JOIN LATERAL (
        SELECT a.agency, a.resolve_due, a.resolution, a.state FROM assignments a
        WHERE a.ticket_id = t.id AND a.role = 'lead'
        ORDER BY (a.state <> ALL ('{{{",".join(sorted(CLOSED_STATES))}}}'::text[])) DESC, a.id DESC
        LIMIT 1
    ) lead ON true
"""


async def citizen_view(conn: asyncpg.Connection, ticket_id: int) -> dict[str, Any]:
    """The facts behind a citizen's status page: the ticket, its lead assignment and its events.

    Contains the caller's phone and name only so that the view can redact them from texts.
    """
    row = await conn.fetchrow(
        f"""
        SELECT t.number, t.status, t.category, t.priority, t.created_at, t.updated_at, t.resolved_at,
               t.closed_at, t.caller_phone, t.caller_name,
               lead.agency AS lead_agency, lead.resolution AS lead_resolution, lead.state AS lead_state
        FROM tickets t {_LEAD}
        WHERE t.id = $1
        """,
        ticket_id,
    )
    assert row is not None, "the caller found this ticket a moment ago and tickets are never deleted"
    events = await conn.fetch(
        "SELECT type, at, assignment_id, data FROM events WHERE ticket_id = $1 ORDER BY id", ticket_id
    )
    view = dict(row)
    view["events"] = [dict(e) for e in events]
    return view


@dataclass(frozen=True, slots=True)
class Open311Query:
    """Filters of Open311 ``GET requests``; ``numbers`` set means only those (the rest ignored)."""

    numbers: list[str] | None = None
    categories: list[str] | None = None
    start: datetime | None = None
    end: datetime | None = None
    closed: bool | None = None  # None: both
    limit: int = 1000


_OPEN311_COLUMNS = f"""
    SELECT t.id, t.number, t.status, t.category, t.description, t.address, t.lat, t.lon,
           t.caller_phone, t.caller_name, t.created_at, t.updated_at,
           lead.agency AS lead_agency, lead.resolve_due AS lead_resolve_due,
           lead.resolution AS lead_resolution, lead.state AS lead_state,
           (SELECT e.data ->> 'media_url' FROM events e
            WHERE e.ticket_id = t.id AND e.type = 'ticket.service_request' ORDER BY e.id LIMIT 1) AS media_url
    FROM tickets t {_LEAD}
"""


async def open311_requests(conn: asyncpg.Connection, query: Open311Query) -> list[dict[str, Any]]:
    """Service requests filed through Open311, newest first, as Open311 ``GET requests`` filters them."""
    args: list[Any] = [OPEN311_CHANNEL]
    where = ["t.channel = $1"]

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    if query.numbers is not None:
        where.append(f"t.number = ANY({arg(query.numbers)}::text[])")
    else:
        if query.categories:
            where.append(f"t.category = ANY({arg(query.categories)}::text[])")
        if query.start is not None:
            where.append(f"t.created_at >= {arg(query.start)}")
        if query.end is not None:
            where.append(f"t.created_at <= {arg(query.end)}")
        if query.closed is True:
            where.append(f"t.status = ANY({arg(list(OPEN311_CLOSED_STATUSES))}::text[])")
        elif query.closed is False:
            where.append(f"t.status <> ALL({arg(list(OPEN311_CLOSED_STATUSES))}::text[])")
    order = f"ORDER BY t.created_at DESC, t.id DESC LIMIT {arg(query.limit)}"
    rows = await conn.fetch(f"{_OPEN311_COLUMNS} WHERE {' AND '.join(where)} {order}", *args)
    return [dict(row) for row in rows]


async def open311_number_by_token(conn: asyncpg.Connection, token: str) -> str | None:
    """The number of the recent Open311 request whose tracking token is ``token``, else None."""
    if not _PLAUSIBLE_TOKEN.match(token):
        return None
    number: str | None = await conn.fetchval(
        """
        SELECT number FROM tickets
        WHERE channel = $1 AND created_at > now() - $2::interval AND tracking_token = $3
        """,
        OPEN311_CHANNEL,
        TOKEN_LOOKUP_WINDOW,
        token,
    )
    return number
