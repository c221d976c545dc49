"""The assignment lifecycle and the ticket status it implies. Pure: no I/O.

    dispatched ──acknowledge──▶ acknowledged ──start──▶ in_progress ──resolve──▶ resolved
        │  ╲                        │  ╲                    │  ╲
        │   return / transfer       │   resolve             │   return / transfer
        ▼                           ▼                       ▼
    returned · transferred · released (closed; the ticket moves on without them)

A resolved assignment may be reopened (the citizen was not satisfied): back to dispatched.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, Literal

AssignmentState = Literal[
    "dispatched", "acknowledged", "in_progress", "resolved", "returned", "transferred", "released"
]
TicketStatus = Literal[
    "new", "dispatched", "acknowledged", "in_progress", "resolved", "closed", "merged", "cancelled", "answered"
]
Action = Literal["acknowledge", "start", "resolve", "return", "transfer", "release", "reopen"]

OPEN_STATES: Final[frozenset[str]] = frozenset({"dispatched", "acknowledged", "in_progress"})
CLOSED_STATES: Final[frozenset[str]] = frozenset({"returned", "transferred", "released"})
# ``answered``: a consultation answered at first contact (直接答复), never dispatched.
FINAL_TICKET_STATUSES: Final[frozenset[str]] = frozenset({"closed", "merged", "cancelled", "answered"})

# action → (states it may start from, state it leads to)
TRANSITIONS: Final[dict[Action, tuple[frozenset[str], AssignmentState]]] = {
    "acknowledge": (frozenset({"dispatched"}), "acknowledged"),
    "start": (frozenset({"acknowledged"}), "in_progress"),
    "resolve": (frozenset({"acknowledged", "in_progress"}), "resolved"),
    "return": (OPEN_STATES, "returned"),
    "transfer": (OPEN_STATES, "transferred"),
    "release": (OPEN_STATES, "released"),
    "reopen": (frozenset({"resolved"}), "dispatched"),
}

EVENT_TYPES: Final[dict[Action, str]] = {
    "acknowledge": "assignment.acknowledged",
    "start": "assignment.started",
    "resolve": "assignment.resolved",
    "return": "assignment.returned",
    "transfer": "assignment.transferred",
    "release": "assignment.released",
    "reopen": "assignment.reopened",
}


class IllegalTransition(Exception):
    """The action is not allowed from the assignment's current state."""

    def __init__(self, action: str, state: str) -> None:
        allowed = ", ".join(sorted(TRANSITIONS[action][0])) if action in TRANSITIONS else "nothing"
        super().__init__(f"cannot {action} an assignment that is {state} (only from: {allowed})")
        self.action = action
        self.state = state


def next_state(action: Action, state: str) -> AssignmentState:
    """The state ``action`` leads to from ``state``; raise :class:`IllegalTransition` if none."""
    sources, target = TRANSITIONS[action]
    if state not in sources:
        raise IllegalTransition(action, state)
    return target


def derive_ticket_status(current: str, assignments: Iterable[tuple[str, str]]) -> TicketStatus:
    """The ticket's status from its assignments' ``(role, state)``.

    Final statuses (closed, merged, cancelled) stay. A ticket with no live lead is ``new``:
    back in the call-takers' queue to be routed again. Otherwise it is resolved when every
    live assignment is resolved, and else takes the most advanced open state, so that work
    under way is never shown as merely dispatched.
    """
    if current in FINAL_TICKET_STATUSES:
        return current  # type: ignore[return-value]
    live = [(role, state) for role, state in assignments if state not in CLOSED_STATES]
    if not any(role == "lead" for role, _ in live):
        return "new"
    states = {state for _, state in live}
    if states == {"resolved"}:
        return "resolved"
    progress: tuple[TicketStatus, ...] = ("in_progress", "acknowledged", "dispatched")
    for state in progress:
        if state in states:
            return state
    return "new"
