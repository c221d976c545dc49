"""The intake decision for calls that are not dispatched at once: filed to the 待分派 queue, or
arriving uncategorised while the classifier is unavailable, and decided again on re-routing."""

from __future__ import annotations

from typing import Any

import pytest

from dispatch.errors import ValidationFailed
from dispatch.intake import decision as intake
from dispatch.intake.new_ticket import NewTicket


def _body(**overrides: Any) -> NewTicket:
    fields: dict[str, Any] = {
        "description": "说不清是什么事，想找人问问",
        "channel": "phone",
        "no_phone_reason": "not_shown",
        "address": "驿城区解放路",
    } | overrides
    return NewTicket(**fields)


def test_a_call_filed_to_the_queue_has_no_agencies_and_keeps_no_category() -> None:
    decision = intake.decide(_body(queue=True))
    assert (decision.category, list(decision.agencies)) == (None, [])
    assert decision.priority in ("P1", "P2", "P3", "P4")
    assert decision.district == "yicheng"


def test_a_call_filed_to_the_queue_with_a_category_takes_its_default_priority() -> None:
    decision = intake.decide(_body(queue=True, category="urban.street_light"))
    assert (decision.category, decision.priority, list(decision.agencies)) == ("urban.street_light", "P4", [])


def test_without_a_classifier_a_call_needs_a_category_unless_it_is_filed_to_the_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "propose", lambda *args: None)
    with pytest.raises(ValidationFailed) as refused:
        intake.decide(_body())
    assert refused.value.details[0]["type"] == "category_required"
    queued = intake.decide(_body(queue=True))
    assert (queued.category, list(queued.agencies), queued.priority) == (None, [], "P3")


def _redecide(
    category: str | None = "urban.street_light", *, new_category: str | None = None, district: str | None = None
) -> intake.Decision:
    """Decide again for a queued ticket filed in 西平县 with ``category`` and priority P2."""
    ticket = NewTicket(
        description="小区门口的路灯坏了好几天",
        channel="phone",
        address="西平县柏城街道",
        district=district or "xiping",
        category=new_category,
    )
    return intake.decide(ticket, before=intake.Before(category, "P2"))


def test_rerouting_with_the_same_category_keeps_the_tickets_priority_and_district() -> None:
    decision = _redecide()
    assert (decision.category, decision.priority, decision.district) == ("urban.street_light", "P2", "xiping")
    assert decision.agencies[0] == "urban"


def test_rerouting_to_another_category_takes_its_lead_and_the_given_district() -> None:
    decision = _redecide(new_category="transport.road_damage", district="kaifaqu")
    assert (decision.agencies[0], decision.district, decision.priority) == ("transport", "kaifaqu", "P3")


def test_rerouting_an_uncategorised_ticket_without_a_classifier_needs_a_category(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(intake, "propose", lambda *args: None)
    with pytest.raises(ValidationFailed):
        _redecide(category=None)
