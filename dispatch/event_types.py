"""Every type of event the service appends to a ticket's timeline and sends on the live feed.

One list, so that the consoles can name each of them (tests/consoles/test_event_labels.py
compares it with the consoles' labels) and an event of a type nobody knows is refused when it
is written (``NewEvent``).
"""

from __future__ import annotations

from typing import Final

EVENT_TYPES: Final[frozenset[str]] = frozenset(
    {
        # a ticket's life
        "ticket.created",
        "ticket.answered",
        "ticket.report_added",
        "ticket.merged",
        "ticket.queued",
        "ticket.rerouted",
        "ticket.escalated",
        "ticket.reminder",
        "ticket.feedback",
        "ticket.closed",
        # arrived through the interfaces (EIDO, Open311)
        "ticket.imported",
        "ticket.eido_updated",
        "ticket.note",
        "ticket.service_request",
        "ticket.duplicates_suggested",  # the centre's own: never shown to partners
        # an agency's assignment
        "assignment.created",
        "assignment.acknowledged",
        "assignment.started",
        "assignment.resolved",
        "assignment.returned",
        "assignment.transferred",
        "assignment.released",
        "assignment.reopened",
        "assignment.paused",
        "assignment.resumed",
        "assignment.note",
        "assignment.desk_changed",
    }
)
