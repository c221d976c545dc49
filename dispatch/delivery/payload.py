"""The webhook body: the event as the live feed carries it, plus what the agency's own
system needs: which assignment is its own, and its agency module's section (agencies/).

    {"delivery_id": "1234.7", "webhook_id": 7, "agency": "health",
     "type": "assignment.created", "cursor": "1234", "event_id": 987, "at": "...", "actor": "...",
     "data": {...}, "ticket": {... "facts": {...}, "assignments": [...]},
     "assignment": {...}, "own_assignment": {...}, "medical": {...}}
"""

from __future__ import annotations

from typing import Any

import agencies
from dispatch.encoding import dumps
from dispatch.lifecycle import CLOSED_STATES
from dispatch.store.webhooks import Webhook


def delivery_id(seq: int, webhook_id: int) -> str:
    """The idempotency id of an event's delivery to a webhook: the same on every attempt."""
    return f"{seq}.{webhook_id}"


def own_assignment(ticket: dict[str, Any], agency: str) -> dict[str, Any] | None:
    """The agency's assignment on the ticket: the live one, else its most recent."""
    mine = [a for a in ticket.get("assignments") or () if a.get("agency") == agency]
    live = [a for a in mine if a.get("state") not in CLOSED_STATES]
    chosen = live or mine
    return chosen[-1] if chosen else None


def wanted_by(webhook: Webhook, event: dict[str, Any]) -> bool:
    """Whether the event concerns this webhook: every event of its agency's tickets, or for
    a desk's webhook those where the agency's assignment is that desk's."""
    if webhook.desk_id is None:
        return True
    mine = own_assignment(event.get("ticket") or {}, webhook.agency)
    return mine is not None and mine.get("desk_id") == webhook.desk_id


def body_for(webhook: Webhook, event: dict[str, Any], seq: int) -> bytes:
    """The JSON body POSTed to the webhook for this feed event."""
    ticket = event.get("ticket") or {}
    body = {
        "delivery_id": delivery_id(seq, webhook.id),
        "webhook_id": webhook.id,
        "agency": webhook.agency,
        **event,
        "own_assignment": own_assignment(ticket, webhook.agency),
    }
    profile = agencies.AGENCIES.get(webhook.agency)
    if profile is not None:
        body |= profile.delivery_extra(ticket)
    return dumps(body)
