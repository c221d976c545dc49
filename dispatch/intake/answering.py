"""From a call-taker's request with an ``answer`` to an answered consultation (直接答复): the
router's proposal is kept beside it (to learn which consultations it took for incidents), but
nothing is dispatched."""

from __future__ import annotations

from typing import Any

import asyncpg

import routing
from dispatch.api.schemas import TicketCreate
from dispatch.intake.decision import classification_dict, propose
from dispatch.store.answers import Answer, create_answered_ticket
from dispatch.store.tickets import CreatedTicket
from dispatch.store.users import Principal

# A consultation answered on the phone needs no action from anyone: the lowest priority.
CONSULTATION_PRIORITY = "P4"


async def answer_call(
    conn: asyncpg.Connection,
    principal: Principal,
    body: TicketCreate,
    *,
    idempotency_key: str | None,
    request_hash: bytes,
) -> CreatedTicket:
    """File ``body`` (which has an ``answer``) as an answered ticket."""
    assert body.answer is not None
    location = body.location
    district = location.district or (
        routing.locate_district(location.address, None, location.lat, location.lon)
        if location.address or location.lat is not None
        else None
    )
    proposal = propose(body.description, location.address or None, district)
    classification: dict[str, Any] | None = (
        {"proposed": classification_dict(proposal), "overridden": [], "answered": True} if proposal else None
    )
    return await create_answered_ticket(
        conn,
        principal,
        description=body.description,
        channel=body.channel,
        caller_phone=body.caller.phone,
        caller_name=body.caller.name,
        address=location.address,
        district=district,
        lat=location.lat,
        lon=location.lon,
        category=body.category,
        priority=body.priority or CONSULTATION_PRIORITY,
        classification=classification,
        answer=Answer(body.answer.kb_entry, body.answer.text),
        idempotency_key=idempotency_key,
        request_hash=request_hash,
        facts=body.facts,
    )
