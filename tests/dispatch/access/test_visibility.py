"""Who sees which ticket and which event, from the one place that decides it."""

from __future__ import annotations

from dispatch.access.visibility import event_scope, may_see_event, may_see_ticket
from dispatch.store.users import Principal


def _user(role: str, user_id: int = 7, agency: str | None = None) -> Principal:
    return Principal(id=user_id, name=role, role=role, agency=agency, district=None, desk_id=None)  # type: ignore[arg-type]


def _sees(principal: Principal, event_type: str, agencies: tuple[str, ...], created_by: int) -> bool:
    return may_see_event(event_scope(principal), event_type=event_type, agencies=agencies, created_by=created_by)


def test_tickets_are_seen_by_the_centre_the_agencies_on_them_and_their_filer() -> None:
    assert may_see_ticket(_user("call_taker"), ["police"], created_by=1)
    assert may_see_ticket(_user("desk", agency="police"), ["health", "police"], created_by=1)
    assert not may_see_ticket(_user("desk", agency="urban"), ["police"], created_by=1)
    assert may_see_ticket(_user("partner", user_id=3), [], created_by=3)
    assert not may_see_ticket(_user("partner", user_id=3), ["police"], created_by=1)


def test_events_reach_the_agency_the_filer_and_call_takers_for_the_queue() -> None:
    assert _sees(_user("supervisor"), "ticket.created", ("police",), 1)
    assert _sees(_user("desk", agency="police"), "ticket.created", ("police",), 1)
    assert not _sees(_user("desk", agency="urban"), "ticket.created", ("police",), 1)
    assert not _sees(_user("call_taker"), "ticket.created", ("police",), 1)
    assert _sees(_user("call_taker"), "ticket.queued", (), 1)
    assert _sees(_user("call_taker", user_id=1), "ticket.created", ("police",), 1)


def test_duplicate_suggestions_are_for_the_centre_only() -> None:
    assert _sees(_user("supervisor"), "ticket.duplicates_suggested", ("police",), 3)
    assert _sees(_user("desk", agency="police"), "ticket.duplicates_suggested", ("police",), 3)
    assert not _sees(_user("partner", user_id=3), "ticket.duplicates_suggested", ("police",), 3)
    assert _sees(_user("partner", user_id=3), "ticket.created", ("police",), 3)
