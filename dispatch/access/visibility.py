"""Who may see which ticket and which event: the one place that says it.

- Tickets: call-takers, supervisors and admins see every ticket; a desk sees the tickets its
  agency is or was assigned to; a partner system sees the tickets it filed.
- Live events (the websocket stream and its catch-up): supervisors and admins see every event;
  a desk its agency's; call-takers and partners the events of the tickets they filed, and
  call-takers also every ticket entering or leaving the 待分派 queue.
- Some events are for the centre's own staff only (``CENTRE_ONLY_EVENTS``: the duplicate
  candidates found for a ticket a partner filed name other callers' tickets); a partner never
  sees them, in its stream or in a ticket's timeline.

The store turns these rules into SQL (``ticket_clause``), the hub applies them to bus entries
(``may_see_event``); both read them from here.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Final

from dispatch.store.users import Principal

SEES_EVERY_TICKET: Final = frozenset({"call_taker", "supervisor", "admin"})
SEES_EVERY_EVENT: Final = frozenset({"supervisor", "admin"})
# Events of every ticket that call-takers see besides their own tickets' (the 待分派 queue).
QUEUE_EVENT_TYPES: Final = frozenset({"ticket.queued", "ticket.rerouted", "ticket.merged"})
CENTRE_ONLY_EVENTS: Final = frozenset({"ticket.duplicates_suggested"})


def may_see_ticket(principal: Principal, agencies: Collection[str], created_by: int | None) -> bool:
    """Whether ``principal`` may see a ticket assigned (now or before) to ``agencies``."""
    if principal.role in SEES_EVERY_TICKET:
        return True
    if principal.role == "desk":
        return principal.agency in agencies
    return created_by == principal.id


def ticket_clause(principal: Principal, param: int) -> tuple[str, list[Any]]:
    """SQL (on alias ``t``) limiting tickets to what ``principal`` may see, with its arguments
    numbered from ``$param``."""
    if principal.role in SEES_EVERY_TICKET:
        return "true", []
    if principal.role == "desk":
        return (
            f"EXISTS (SELECT 1 FROM assignments va WHERE va.ticket_id = t.id AND va.agency = ${param})",
            [principal.agency],
        )
    return f"t.created_by = ${param}", [principal.id]


def sees_centre_events(principal: Principal | None) -> bool:
    """Whether ``principal`` (None: the service itself) sees ``CENTRE_ONLY_EVENTS``."""
    return principal is None or principal.role != "partner"


@dataclass(frozen=True, slots=True)
class EventScope:
    """The events a stream subscriber may see, as filters the store can apply in SQL."""

    everything: bool
    agency: str | None  # only events that reach this agency
    created_by: int | None  # only events of tickets this user filed ...
    also_types: frozenset[str]  # ... and every event of these types
    hidden_types: frozenset[str]  # never these


def event_scope(principal: Principal) -> EventScope:
    """What ``principal`` sees of the event stream."""
    hidden = frozenset() if sees_centre_events(principal) else CENTRE_ONLY_EVENTS
    if principal.role in SEES_EVERY_EVENT:
        return EventScope(True, None, None, frozenset(), hidden)
    if principal.role == "desk":
        return EventScope(False, principal.agency, None, frozenset(), hidden)
    also = QUEUE_EVENT_TYPES if principal.role == "call_taker" else frozenset()
    return EventScope(False, None, principal.id, also, hidden)


def may_see_event(scope: EventScope, *, event_type: str, agencies: Collection[str], created_by: int | None) -> bool:
    """Whether an event of ``event_type`` reaching ``agencies``, on a ticket filed by
    ``created_by``, is in ``scope``."""
    if event_type in scope.hidden_types:
        return False
    if scope.everything:
        return True
    if scope.agency is not None:
        return scope.agency in agencies
    return event_type in scope.also_types or created_by == scope.created_by
