"""From a call-taker's request to a routing decision: the router proposes, the call-taker's
explicit choices win, and what was overridden is recorded to learn from."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import structlog

import agencies as agencies_module
import routing
from dispatch.api.schemas import TicketCreate
from dispatch.classifier import current_model
from dispatch.errors import ValidationFailed
from dispatch.store.tickets import Decision

log = structlog.get_logger("dispatch.intake")


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


def decide(
    body: TicketCreate, gazetteer: routing.Gazetteer | None = None, *, queue_when_unrouted: bool = False
) -> Decision:
    """The ticket's category, priority, agencies, district and (from the gazetteer, when the
    request has no coordinates) place; 422 if nothing can be decided.

    With ``body.queue`` the ticket is filed without dispatch (no agencies) and waits on the
    待分派 queue, with the category given (or none). ``queue_when_unrouted`` (channels that
    cannot ask anyone, such as EIDO hand-overs) files an uncategorised ticket to the queue
    instead of refusing it when the classifier is unavailable and no category was given.
    """
    location = body.location
    district = location.district or routing.locate_district(location.address, None, location.lat, location.lon)
    proposal = propose(body.description, location.address, district, gazetteer)
    place = proposal.place if proposal else None
    unplaced = location.lat is None or location.lon is None
    if place is not None and location.district is None and unplaced:
        district = place.district  # more specific than a name found in the address text
    decision = _decide(body, district, proposal, queue_when_unrouted=queue_when_unrouted)
    if place is not None and unplaced:
        decision = dataclasses.replace(decision, lat=place.lat, lon=place.lon)
    return decision


def _decide(
    body: TicketCreate, district: str | None, proposal: routing.Classification | None, *, queue_when_unrouted: bool
) -> Decision:
    if body.queue:
        return _queued(body.category, body.priority, district, proposal, body)
    category = body.category or (proposal.category if proposal else None)
    if category is None:
        if queue_when_unrouted:
            return _queued(None, body.priority, district, proposal, body)
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
    return route(
        category=category,
        priority=body.priority,
        agencies=body.agencies,
        district=district,
        proposal=proposal,
        given_category=body.category,
    )


def route(
    *,
    category: str,
    priority: str | None,
    agencies: Sequence[str] | None,
    district: str | None,
    proposal: routing.Classification | None,
    given_category: str | None,
) -> Decision:
    """A dispatch decision: the choices given win, the proposal fills in what it agrees on.

    Priority: given, else the proposal's when it proposed this category, else the category's
    default. Agencies: given, else the category's lead and the proposal's assisting agencies.
    """
    if priority:
        chosen_priority = priority
    elif proposal and proposal.category == category:
        chosen_priority = proposal.priority
    else:
        chosen_priority = agencies_module.CATEGORIES[category].default_priority
    if agencies:
        chosen = list(agencies)
    else:
        lead = agencies_module.CATEGORIES[category].agency
        assisting = [a for a in (proposal.agencies[1:] if proposal else ()) if a != lead]
        chosen = [lead, *assisting]
    return Decision(
        category=category,
        priority=chosen_priority,
        agencies=chosen,
        district=district,
        classification=_classification(proposal, given_category, priority, agencies),
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


def _queued(
    category: str | None,
    priority: str | None,
    district: str | None,
    proposal: routing.Classification | None,
    body: TicketCreate,
) -> Decision:
    """A ticket filed to the 待分派 queue: no agencies; the priority given, else the
    category's default, else the proposal's, else P3 (一般) until someone routes it."""
    if priority:
        chosen_priority = priority
    elif category:
        chosen_priority = agencies_module.CATEGORIES[category].default_priority
    else:
        chosen_priority = proposal.priority if proposal else "P3"
    return Decision(
        category=category,
        priority=chosen_priority,
        agencies=[],
        district=district,
        classification=_classification(proposal, category, priority, body.agencies),
    )


def redecide(
    ticket: dict[str, Any],
    *,
    category: str | None,
    priority: str | None,
    agencies: Sequence[str] | None,
    district: str | None,
) -> Decision:
    """Decide again for a ticket on the 待分派 queue (``POST /tickets/{id}/reroute``): what is
    given wins, then the ticket's own category and district, then the router's proposal."""
    location = ticket["location"]
    chosen_district = district or location["district"]
    if chosen_district is None:
        chosen_district = routing.locate_district(location["address"], None, location["lat"], location["lon"])
    proposal = propose(ticket["description"], location["address"], chosen_district)
    chosen_category = category or ticket["category"] or (proposal.category if proposal else None)
    if chosen_category is None:
        raise ValidationFailed(
            "the ticket has no category and the classifier is unavailable; choose a category",
            details=[{"field": "category", "message": "required", "type": "category_required"}],
        )
    # The same category keeps the ticket's priority (perhaps set by a call-taker) unless a new one is given.
    keep_priority = ticket["priority"] if chosen_category == ticket["category"] else None
    return route(
        category=chosen_category,
        priority=priority or keep_priority,
        agencies=agencies,
        district=chosen_district,
        proposal=proposal,
        given_category=category,
    )
