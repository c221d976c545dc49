"""Filing a ticket: the one way every channel creates one (REST and the consoles, Open311,
EIDO hand-overs, consultations answered at first contact).

``file_ticket`` decides (the router with the gazetteer in service, the choices given winning),
chooses each agency's desk, writes the ticket idempotently and looks for the open tickets it
may duplicate. Views turn a ``NewTicket`` out of their own format and ``Filed`` back into it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import asyncpg

import routing
from dispatch.access.visibility import SEES_EVERY_TICKET, may_see_ticket
from dispatch.intake.decision import Decision, decide
from dispatch.intake.new_ticket import NewTicket
from dispatch.runtime import metrics
from dispatch.store.answers import resolve_answer
from dispatch.store.desks import choose_desks
from dispatch.store.duplicates import CandidateSearch, find_duplicates
from dispatch.store.events import NewEvent, append_events
from dispatch.store.new_tickets import AssignmentRecord, Status, TicketRecord, insert_ticket
from dispatch.store.queue import queued_event
from dispatch.store.tickets import get_ticket
from dispatch.store.users import Principal

# Channels where no call-taker sees the ticket being filed: the duplicate candidates found go
# on its timeline (for the centre's staff only) so that someone can merge it.
UNATTENDED_CHANNELS: Final = frozenset({"open311", "eido"})


@dataclass(frozen=True, slots=True)
class Filed:
    """A filed ticket: as ``get_ticket(detail=False)`` shows it, whether this call created it
    (False: an idempotent replay), and the open tickets it may duplicate (those the filer may see)."""

    ticket: dict[str, Any]
    created: bool
    duplicates: list[dict[str, Any]]

    @property
    def id(self) -> int:
        ticket_id: int = self.ticket["id"]
        return ticket_id


async def file_ticket(
    conn: asyncpg.Connection,
    principal: Principal,
    new: NewTicket,
    *,
    gazetteer: routing.Gazetteer,
    desks: Sequence[routing.DeskInfo],
) -> Filed:
    """Decide (with ``gazetteer``), choose desks (from ``desks``), write and check for
    duplicates: ``created=True``, or the first ticket of a replayed idempotency key."""
    decision = decide(new, gazetteer)
    events = list(new.events)
    if new.answer is not None:
        answered = await resolve_answer(conn, new.answer)
        category = decision.category or answered.category
        record = _record(
            new, decision, category=category, status="answered", kb=(answered.kb_entry_id, answered.kb_version)
        )
        events.insert(0, ("ticket.answered", answered.event_data))
        search = None
    else:
        category = decision.category
        record = _record(new, decision, category=category, status="dispatched" if decision.agencies else "new")
        if not decision.agencies and not any(kind == "ticket.queued" for kind, _ in events):
            queued = queued_event(0, cause="uncategorised" if category is None else "other")
            events.append((queued.type, queued.data))
        search = CandidateSearch.around(category, record.district, record.lat, record.lon) if category else None
    outcome = await insert_ticket(
        conn,
        principal,
        record,
        _assignments(decision, desks),
        created_data=_created_data(new, decision, category),
        events=events,
        idempotency_key=new.idempotency_key,
        request_hash=new.request_hash,
        candidates=search,
    )
    ticket = outcome.ticket or await get_ticket(conn, outcome.id, principal, detail=False)
    duplicates: list[dict[str, Any]] = []
    if ticket["category"] and new.answer is None:
        # A new ticket's candidates came with it; a replayed one's are read now.
        duplicates = await find_duplicates(
            conn,
            candidates=outcome.candidates,
            exclude_id=ticket["id"],
            category=ticket["category"],
            text=ticket["description"],
            address=ticket["location"]["address"],
            district=ticket["location"]["district"],
            lat=ticket["location"]["lat"],
            lon=ticket["location"]["lon"],
            now=datetime.now(UTC),
        )
    if outcome.created:
        metrics.ticket_created(ticket["category"], ticket["priority"])
        if duplicates and new.channel in UNATTENDED_CHANNELS:
            await append_events(
                conn,
                [NewEvent("ticket.duplicates_suggested", ticket["id"], data={"duplicates": duplicates})],
                actor=principal,
                agencies=list(dict.fromkeys(decision.agencies)),
            )
    if principal.role not in SEES_EVERY_TICKET:
        # Only what the filer may see: a partner's own earlier tickets, a desk's agency's.
        duplicates = [d for d in duplicates if await _visible(conn, principal, d["id"])]
    return Filed(ticket, outcome.created, duplicates)


async def _visible(conn: asyncpg.Connection, principal: Principal, ticket_id: int) -> bool:
    row = await conn.fetchrow(
        "SELECT created_by, ARRAY(SELECT agency FROM assignments WHERE ticket_id = $1) AS agencies"
        " FROM tickets WHERE id = $1",
        ticket_id,
    )
    return row is not None and may_see_ticket(principal, row["agencies"], row["created_by"])


def _assignments(decision: Decision, desks: Sequence[routing.DeskInfo]) -> list[AssignmentRecord]:
    """Lead first, each at the desk ``routing.choose_desk`` picks (the district's, else the
    agency's city-level desk)."""
    desk_ids = choose_desks(desks, decision.agencies, decision.district)
    return [
        AssignmentRecord(agency, "lead" if i == 0 else "assist", desk_id)
        for i, (agency, desk_id) in enumerate(zip(decision.agencies, desk_ids, strict=True))
    ]


def _record(
    new: NewTicket,
    decision: Decision,
    *,
    category: str | None,
    status: Status,
    kb: tuple[int | None, int | None] = (None, None),
) -> TicketRecord:
    return TicketRecord(
        description=new.description,
        channel=new.channel,
        address=new.address,
        caller_phone=new.caller_phone,
        caller_name=new.caller_name,
        no_phone_reason=new.no_phone_reason,
        district=decision.district,
        lat=new.lat if new.lat is not None else decision.lat,
        lon=new.lon if new.lon is not None else decision.lon,
        category=category,
        priority=decision.priority,
        classification=decision.classification,
        facts=new.facts,
        status=status,
        kb_entry_id=kb[0],
        kb_version=kb[1],
    )


def _created_data(new: NewTicket, decision: Decision, category: str | None) -> dict[str, Any]:
    """The ``ticket.created`` event's data."""
    data: dict[str, Any] = {
        "category": category,
        "priority": decision.priority,
        "channel": new.channel,
        "agencies": list(decision.agencies),
        "district": decision.district,
    }
    if new.answer is not None:
        data["answered"] = True
    return data
