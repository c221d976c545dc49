"""From a new ticket to a routing decision: the router proposes, the explicit choices win, and
what was overridden is recorded to learn from. One path for every channel, for re-routing a
queued ticket and for consultations answered at first contact."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

import agencies as agencies_module
import routing
from dispatch.classifier import current_model
from dispatch.errors import ValidationFailed
from dispatch.intake.new_ticket import NewTicket

log = structlog.get_logger("dispatch.intake")

# A consultation answered on the phone needs no action from anyone: the lowest priority.
CONSULTATION_PRIORITY = "P4"
# A ticket filed to the queue with neither a priority nor a category to take one from.
QUEUE_PRIORITY = "P3"


@dataclass(frozen=True, slots=True)
class Decision:
    """What a new ticket becomes: routed facts, whether proposed by routing or given."""

    category: str | None
    priority: str
    agencies: Sequence[str]  # lead first; none: the 待分派 queue (or an answered consultation)
    district: str | None
    classification: dict[str, Any] | None
    # Where the gazetteer placed the ticket when the request gave no coordinates.
    lat: float | None = None
    lon: float | None = None


@dataclass(frozen=True, slots=True)
class Before:
    """A queued ticket's own category and priority, when it is decided again."""

    category: str | None
    priority: str


def propose(
    text: str, address: str | None, district: str | None, gazetteer: routing.Gazetteer | None = None
) -> routing.Classification | None:
    """The router's proposal, or None when no model is available (never an error)."""
    try:
        return routing.classify(text, address=address, district=district, model=current_model(), gazetteer=gazetteer)
    except (OSError, routing.ModelFormatError) as exc:
        log.error("routing.unavailable", error=repr(exc))
        return None


def classification_dict(proposal: routing.Classification) -> dict[str, Any]:
    """The proposal as the API and the events show it."""
    return {
        "category": proposal.category,
        "agency": proposal.agency,
        "agencies": list(proposal.agencies),
        "priority": proposal.priority,
        "confidence": round(proposal.confidence, 4),
        "reasons": list(proposal.reasons),
        "district": proposal.district,
        "uncertain": proposal.uncertain,
        "place": proposal.place.to_dict() if proposal.place else None,
    }


def decide(new: NewTicket, gazetteer: routing.Gazetteer | None = None, *, before: Before | None = None) -> Decision:
    """The ticket's category, priority, agencies, district and (from the gazetteer, when the
    request has no coordinates) place; 422 if nothing can be decided.

    - ``new.answer``: an answered consultation, dispatched to no one; the proposal is kept
      beside it (to learn which consultations the router took for incidents).
    - ``new.queue``: filed undispatched to the 待分派 queue, with the category given (or none);
      the priority given, else the category's default, else the proposal's, else P3.
    - otherwise: the category given, else (re-routing) the ticket's own, else the proposal's.
      Priority: given, else (re-routing, same category) the ticket's own, else the proposal's
      when it proposed this category, else the category's default. Agencies: given, else the
      category's lead and the proposal's assisting agencies.
    """
    district = new.district or routing.locate_district(new.address, None, new.lat, new.lon)
    proposal = propose(new.description, new.address or None, district, gazetteer)
    if new.answer is not None:
        answered = {"proposed": classification_dict(proposal), "overridden": [], "answered": True} if proposal else None
        return Decision(
            category=new.category,
            priority=new.priority or CONSULTATION_PRIORITY,
            agencies=[],
            district=district,
            classification=answered,
        )
    place = proposal.place if proposal else None
    unplaced = new.lat is None or new.lon is None
    if place is not None and new.district is None and unplaced:
        district = place.district  # more specific than a name found in the address text
    given_priority = new.priority
    agencies: list[str] = []
    if new.queue:
        category = new.category
        default = agencies_module.CATEGORIES[category].default_priority if category else None
        priority = new.priority or default or (proposal.priority if proposal else QUEUE_PRIORITY)
    else:
        category = new.category or (before.category if before else None) or (proposal.category if proposal else None)
        if category is None:
            raise ValidationFailed(
                "no category given and the classifier is unavailable; choose a category",
                details=[
                    {
                        "field": "category",
                        "message": "required while the classifier is unavailable",
                        "type": "category_required",
                    }
                ],
            )
        if before is not None and before.category == category:
            given_priority = new.priority or before.priority  # kept, perhaps set by a call-taker
        if given_priority:
            priority = given_priority
        elif proposal and proposal.category == category:
            priority = proposal.priority
        else:
            priority = agencies_module.CATEGORIES[category].default_priority
        if new.agencies:
            agencies = list(new.agencies)
        else:
            lead = agencies_module.CATEGORIES[category].agency
            agencies = [lead, *(a for a in (proposal.agencies[1:] if proposal else ()) if a != lead)]
    return Decision(
        category=category,
        priority=priority,
        agencies=agencies,
        district=district,
        classification=_classification(proposal, new.category, given_priority, new.agencies),
        lat=place.lat if place is not None and unplaced else None,
        lon=place.lon if place is not None and unplaced else None,
    )


def _classification(
    proposal: routing.Classification | None,
    category: str | None,
    priority: str | None,
    agencies: Sequence[str] | None,
) -> dict[str, Any] | None:
    """What the router proposed and which of its proposals a person overrode."""
    if proposal is None:
        return None
    overridden = [
        name
        for name, given, proposed in (
            ("category", category, proposal.category),
            ("priority", priority, proposal.priority),
            ("agencies", list(agencies) if agencies else None, list(proposal.agencies)),
        )
        if given is not None and given != proposed
    ]
    return {"proposed": classification_dict(proposal), "overridden": overridden}
