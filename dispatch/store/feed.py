"""The event feed as clients see it: each event with the full current state of its ticket
and assignment, in publish order (outbox ``seq``), built for the relay and for replays."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import orjson

from dispatch.access.visibility import EventScope
from dispatch.encoding import dumps
from dispatch.privacy.personal_data import mask_caller
from dispatch.store.ticket_shape import ASSIGNMENT_COLUMNS, TICKET_COLUMNS, ticket_dict


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """One event ready to publish: the client payload (its ticket and assignment already JSON,
    see ``build_feed``: serialise it with ``dispatch.encoding.dumps``) plus what the hub filters on."""

    seq: int
    payload: dict[str, Any]
    agencies: tuple[str, ...]
    created_by: int | None
    district: str | None


EVENT_COLUMNS = "o.seq, e.id, e.ticket_id, e.assignment_id, e.type, e.actor, e.agencies, e.data, e.at"


async def build_feed(conn: asyncpg.Connection, rows: Sequence[asyncpg.Record]) -> list[FeedEvent]:
    """Turn event rows (with ``seq``) into feed events carrying current ticket state."""
    if not rows:
        return []
    ticket_ids = sorted({r["ticket_id"] for r in rows})
    tickets = {
        t["id"]: t
        for t in await conn.fetch(f"SELECT {TICKET_COLUMNS} FROM tickets t WHERE t.id = ANY($1::bigint[])", ticket_ids)
    }
    assignments: dict[int, dict[str, Any]] = {}
    by_ticket: dict[int, list[dict[str, Any]]] = {tid: [] for tid in ticket_ids}
    for a in await conn.fetch(
        f"SELECT {ASSIGNMENT_COLUMNS} FROM assignments WHERE ticket_id = ANY($1::bigint[]) ORDER BY id", ticket_ids
    ):
        record = dict(a)
        assignments[a["id"]] = record
        by_ticket[a["ticket_id"]].append(record)
    # A ticket's state is the same in every event of the batch about it: it is written as JSON
    # once (an orjson Fragment that later serialisations copy as it is), and so is each assignment.
    built: dict[int, orjson.Fragment] = {}
    assignment_json: dict[int, orjson.Fragment] = {}
    feed = []
    for row in rows:
        ticket_row = tickets.get(row["ticket_id"])
        if ticket_row is None:
            continue  # tickets are never deleted; only a test emptying tables gets here
        ticket = built.get(row["ticket_id"])
        if ticket is None:
            # The feed reaches every agency on the ticket: no tracking token or short code, caller masked.
            state = mask_caller(ticket_dict(ticket_row, None))
            state["tracking_token"] = None
            state["short_code"] = None
            state["assignments"] = by_ticket[row["ticket_id"]]
            ticket = built[row["ticket_id"]] = orjson.Fragment(dumps(state))
        assignment = None
        assignment_id = row["assignment_id"]
        if assignment_id and assignment_id in assignments:
            assignment = assignment_json.get(assignment_id)
            if assignment is None:
                assignment = assignment_json[assignment_id] = orjson.Fragment(dumps(assignments[assignment_id]))
        payload = {
            "type": row["type"],
            "cursor": str(row["seq"]),
            "event_id": row["id"],
            "at": row["at"],
            "actor": row["actor"],
            "data": row["data"],
            "ticket": ticket,
            "assignment": assignment,
        }
        feed.append(
            FeedEvent(
                seq=row["seq"],
                payload=payload,
                agencies=tuple(row["agencies"]),
                created_by=ticket_row["created_by"],
                district=ticket_row["district"],
            )
        )
    return feed


async def events_after(
    conn: asyncpg.Connection,
    after_seq: int,
    *,
    before_seq: int | None = None,
    scope: EventScope | None = None,
    limit: int = 1000,
) -> list[FeedEvent]:
    """Published (sequenced) events after ``after_seq`` (and before ``before_seq``), oldest
    first; with ``scope``, only those it lets a subscriber see (``dispatch.access.visibility``)."""
    conditions = ["o.seq > $1"]
    args: list[Any] = [after_seq]
    if before_seq is not None:
        args.append(before_seq)
        conditions.append(f"o.seq < ${len(args)}")
    if scope is not None and scope.hidden_types:
        args.append(sorted(scope.hidden_types))
        conditions.append(f"NOT (e.type = ANY(${len(args)}::text[]))")
    if scope is not None and scope.agency is not None:
        args.append([scope.agency])
        conditions.append(f"e.agencies @> ${len(args)}::text[]")
    if scope is not None and scope.created_by is not None:
        args.append(scope.created_by)
        own = f"e.ticket_id IN (SELECT id FROM tickets WHERE created_by = ${len(args)})"
        if scope.also_types:
            args.append(sorted(scope.also_types))
            own = f"({own} OR e.type = ANY(${len(args)}::text[]))"
        conditions.append(own)
    args.append(limit)
    rows = await conn.fetch(
        f"""
        SELECT {EVENT_COLUMNS} FROM outbox o JOIN events e ON e.id = o.event_id
        WHERE {" AND ".join(conditions)} ORDER BY o.seq LIMIT ${len(args)}
        """,
        *args,
    )
    return await build_feed(conn, rows)


async def latest_seq(conn: asyncpg.Connection | asyncpg.Pool) -> int:
    """The highest sequence number given out so far (0 when none)."""
    value = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM outbox")
    return int(value)
