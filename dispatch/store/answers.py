"""Consultations answered at first contact (直接答复): a ticket filed as ``answered``, with no
assignment and no deadline, whose timeline records the answer given (the knowledge-base entry's
id, version and text, and/or the call-taker's own words)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from dispatch.errors import Conflict, NotFound, ValidationFailed
from dispatch.store.events import NewEvent, append_events
from dispatch.store.kb import get_version
from dispatch.store.tickets import NEXT_NUMBER_SQL, CreatedTicket, _replayed, _ticket_dict, new_tracking_token
from dispatch.store.users import Principal


@dataclass(frozen=True, slots=True)
class Answer:
    """What the caller was told: an entry of the knowledge base and/or free text."""

    kb_entry: int | None
    text: str | None


_INSERT = f"""
    INSERT INTO tickets AS t (number, tracking_token, channel, caller_phone, caller_name, address, district, lat, lon,
                              description, category, priority, status, classification, created_by, idempotency_key,
                              request_hash, facts, closed_at, kb_entry_id, kb_version)
    VALUES ({NEXT_NUMBER_SQL}, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'answered', $12, $13, $14, $15, $16,
            now(), $17, $18)
    ON CONFLICT (created_by, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
    RETURNING t
"""


async def create_answered_ticket(
    conn: asyncpg.Connection,
    principal: Principal,
    *,
    description: str,
    channel: str,
    caller_phone: str | None,
    caller_name: str | None,
    address: str,
    district: str | None,
    lat: float | None,
    lon: float | None,
    category: str | None,
    priority: str,
    classification: dict[str, Any] | None,
    answer: Answer,
    idempotency_key: str | None = None,
    request_hash: bytes | None = None,
    facts: dict[str, dict[str, Any]] | None = None,
) -> CreatedTicket:
    """File an answered consultation in one transaction: the ticket (status ``answered``,
    closed now), ``ticket.created`` and ``ticket.answered`` events with their outbox rows.

    The entry must be in force (not retired); its current version is the one recorded. Without
    a category given, the entry's category is the ticket's. A replayed Idempotency-Key returns
    the first ticket (``created=False``), as ``store.tickets.create_ticket`` does.
    """
    async with conn.transaction():
        entry: dict[str, Any] | None = None
        if answer.kb_entry is not None:
            try:
                entry = await get_version(conn, answer.kb_entry)
            except NotFound:
                # A field of the request names nothing: the request is invalid, not a missing page.
                raise ValidationFailed(
                    f"no knowledge-base entry {answer.kb_entry} / 没有该知识条目",
                    details=[{"field": "answer.kb_entry", "message": "no such entry", "type": "kb_entry_not_found"}],
                ) from None
            if entry["retired"]:
                raise Conflict(
                    f"knowledge-base entry {answer.kb_entry} is retired; answer from an entry in force "
                    "/ 该知识条目已停用",
                    code="kb_entry_retired",
                )
            category = category or entry["category"]
        row = await conn.fetchrow(
            _INSERT,
            new_tracking_token(),
            channel,
            caller_phone,
            caller_name,
            address,
            district,
            lat,
            lon,
            description,
            category,
            priority,
            classification,
            principal.id,
            idempotency_key,
            request_hash,
            facts or {},
            entry["entry_id"] if entry else None,
            entry["version"] if entry else None,
        )
        if row is None:
            return CreatedTicket(await _replayed(conn, principal, idempotency_key, request_hash), False, None)
        ticket = _ticket_dict(row["t"], principal)
        answered: dict[str, Any] = {"text": answer.text}
        if entry is not None:
            answered |= {
                "kb_entry": entry["entry_id"],
                "kb_version": entry["version"],
                "title": entry["title"],
                "answer": entry["answer"],
            }
        await append_events(
            conn,
            [
                NewEvent(
                    "ticket.created",
                    ticket["id"],
                    data={
                        "category": category,
                        "priority": priority,
                        "channel": channel,
                        "agencies": [],
                        "district": district,
                        "answered": True,
                    },
                ),
                NewEvent("ticket.answered", ticket["id"], data=answered),
            ],
            actor=principal,
            agencies=[],
        )
    ticket["assignments"] = []
    return CreatedTicket(ticket["id"], True, ticket)
