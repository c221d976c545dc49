"""From a call-taker's request to a routing decision: the router proposes, the call-taker's
explicit choices win, and what was overridden is recorded to learn from."""

from __future__ import annotations

from typing import Any

import structlog

import agencies
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


def decide(body: TicketCreate, gazetteer: routing.Gazetteer | None = None) -> Decision:
    """The ticket's category, priority, agencies, district and (from the gazetteer, when the
    request has no coordinates) place; 422 if nothing can be decided."""
    location = body.location
    district = location.district or routing.locate_district(location.address, None, location.lat, location.lon)
    proposal = propose(body.description, location.address, district, gazetteer)
    place = proposal.place if proposal else None
    if place is not None and location.district is None and (location.lat is None or location.lon is None):
        district = place.district  # more specific than a name found in the address text
    placed = place is not None and (location.lat is None or location.lon is None)
    category = body.category or (proposal.category if proposal else None)
    if category is None:
        raise ValidationFailed(
            "no category given and the classifier is unavailable; choose a category",
            details=[{"field": "category", "message": "required while the classifier is unavailable"}],
        )
    if body.priority:
        priority = body.priority
    elif proposal and proposal.category == category:
        priority = proposal.priority
    else:
        priority = agencies.CATEGORIES[category].default_priority
    if body.agencies:
        chosen = list(body.agencies)
    else:
        lead = agencies.CATEGORIES[category].agency
        assisting = [a for a in (proposal.agencies[1:] if proposal else ()) if a != lead]
        chosen = [lead, *assisting]
    classification: dict[str, Any] | None = None
    if proposal:
        overridden = [
            name
            for name, given, proposed in (
                ("category", body.category, proposal.category),
                ("priority", body.priority, proposal.priority),
                ("agencies", body.agencies, list(proposal.agencies)),
            )
            if given is not None and given != proposed
        ]
        classification = {"proposed": classification_dict(proposal), "overridden": overridden}
    return Decision(
        category=category,
        priority=priority,
        agencies=chosen,
        district=district,
        classification=classification,
        lat=place.lat if placed and place else None,
        lon=place.lon if placed and place else None,
    )
