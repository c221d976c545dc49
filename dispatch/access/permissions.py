"""The role matrix: which roles may do what. Views name an operation; nothing else lists roles.

Row-level limits come on top (docs/api.md): a desk sees only tickets its agency is or was
assigned to and moves only its agency's assignments; a partner sees only what it filed.
What a user may not see answers 404, not 403.
"""

from __future__ import annotations

from typing import Final

from dispatch.store.users import Role

ALL_ROLES: Final[tuple[Role, ...]] = ("call_taker", "desk", "supervisor", "admin", "partner")

PERMISSIONS: Final[dict[str, tuple[Role, ...]]] = {
    "ticket.create": ("call_taker", "supervisor", "admin"),
    "ticket.read": ALL_ROLES,
    "ticket.list": ALL_ROLES,
    "ticket.report": ("call_taker", "supervisor", "admin"),
    "ticket.merge": ("call_taker", "supervisor", "admin"),
    "ticket.assign": ("call_taker", "desk", "supervisor", "admin"),
    # The 待分派 queue (docs/api.md): tickets in status new, read and re-routed by the people
    # who route calls.
    "queue.read": ("call_taker", "supervisor", "admin"),
    "ticket.reroute": ("call_taker", "supervisor", "admin"),
    "assignment.move": ("desk", "supervisor", "admin"),
    "classify": ("call_taker", "desk", "supervisor", "admin"),
    "me": ALL_ROLES,
    "desk.read": ("call_taker", "desk", "supervisor", "admin"),
    "desk.write": ("admin",),
    # The gazetteer (docs/routing.md): read by staff, loaded by admins.
    "gazetteer.read": ("call_taker", "desk", "supervisor", "admin"),
    "gazetteer.write": ("admin",),
    # Interoperation (docs/interop.md, docs/open311.md): export a ticket as EIDO or CAP (a desk
    # only what its agency sees), import an EIDO hand-over, file through Open311 with an api_key.
    "ticket.export": ("call_taker", "desk", "supervisor", "admin"),
    "eido.import": ("call_taker", "supervisor", "admin", "partner"),
    "open311.submit": ("admin", "partner"),
    "stream": ALL_ROLES,
    # Deadlines (docs/operations.md): service levels are read by all staff and set by admins;
    # a desk pauses its own agency's clock; a desk sees only its own agency's numbers.
    "service_level.read": ("call_taker", "desk", "supervisor", "admin"),
    "service_level.write": ("admin",),
    "assignment.pause": ("desk", "supervisor", "admin"),
    "stats.read": ("desk", "supervisor", "admin"),
    # Agency handlers (docs/agencies.md): progress notes on an agency's own assignment; the
    # webhook deliveries that failed past the retry bound, seen and replayed by supervisors.
    "assignment.note": ("desk", "supervisor", "admin"),
    # What a desk handled this shift (its own agency's; supervisors any agency's).
    "assignment.read": ("desk", "supervisor", "admin"),
    "deliveries.read": ("supervisor", "admin"),
    "deliveries.replay": ("supervisor", "admin"),
    # Knowledge base (docs/api.md "Knowledge base"): every console user reads and searches it to
    # answer consultations; supervisors and admins write it.
    "kb.read": ("call_taker", "desk", "supervisor", "admin"),
    "kb.write": ("supervisor", "admin"),
    # An admin sets or resets a user's console password (dispatch user passwd does it too).
    "user.password": ("admin",),
    # Text messages sent to callers carry their numbers: admins only.
    "sms.read": ("admin",),
    # Supervision (docs/consoles.md): 催办 a desk, and re-dispatch open work to another agency
    # or desk; desks transfer their own work with assignment.move instead.
    "assignment.urge": ("supervisor", "admin"),
    "assignment.redispatch": ("supervisor", "admin"),
}


def roles_for(operation: str) -> tuple[Role, ...]:
    """The roles allowed to perform ``operation`` (a key of PERMISSIONS)."""
    return PERMISSIONS[operation]
