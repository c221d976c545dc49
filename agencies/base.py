"""The shape every agency module fills in: the agency, its categories, its service levels,
the extra intake facts it needs, and how its assignments are delivered to its own system.

An agency module (``agencies/police.py`` and its siblings) builds one :class:`AgencyProfile`.
Adding an agency is adding such a module and listing it in ``agencies/__init__.py``;
nothing in ``dispatch/`` or ``routing/`` names an agency (docs/agencies.md).

Everything here is pure: pydantic models and functions of data, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError

Priority = Literal["P1", "P2", "P3", "P4"]
PRIORITIES: Final[tuple[Priority, ...]] = ("P1", "P2", "P3", "P4")


@dataclass(frozen=True, slots=True)
class Category:
    """A classification target: a stable code, its lead agency and default priority."""

    code: str
    name_zh: str
    name_en: str
    agency: str
    default_priority: Priority
    # Agencies that typically assist; routing decides from the text whether they are needed.
    typical_assisting: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceLevel:
    """Seconds allowed to acknowledge and to resolve."""

    ack_seconds: int
    resolve_seconds: int


class IntakeFacts(BaseModel):
    """The extra facts a call-taker gathers for one agency (base of each agency's model).

    Every fact is optional: a caller often does not know, and a missing fact must never stop
    a dispatch. Unknown fields are refused so that a typo is not silently dropped. Models stay
    flat (no nested models), so that their JSON schema can be inlined in the OpenAPI document.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, str_max_length=500)


class NoFacts(IntakeFacts):
    """An agency that asks for no extra facts."""


# A webhook payload hook: from the ticket as delivered (with ``facts`` keyed by agency,
# ``category``, ``priority``), the agency-specific section its own system reads; None: nothing.
DeliverySection = Callable[[Mapping[str, Any]], "dict[str, Any] | None"]


def no_section(ticket: Mapping[str, Any]) -> dict[str, Any] | None:
    """The default hook: the generic webhook body is all the agency gets."""
    return None


def own_facts(ticket: Mapping[str, Any], agency: str) -> dict[str, Any]:
    """The facts a ticket carries for one agency (empty when none were gathered)."""
    facts = ticket.get("facts") or {}
    return dict(facts.get(agency) or {})


@dataclass(frozen=True, slots=True)
class AgencyProfile:
    """Everything that differs per agency."""

    code: str
    name_zh: str
    name_en: str
    covers: str
    categories: tuple[Category, ...]
    # Per-priority overrides of the city-wide defaults in DEFAULT_SERVICE_LEVELS.
    service_levels: dict[Priority, ServiceLevel] = field(default_factory=dict)
    # The extra intake facts this agency needs (validated at ticket creation).
    facts: type[IntakeFacts] = NoFacts
    # How its assignments are delivered: the section its own system reads (e.g. the 120
    # centre's "medical" block) under ``delivery_key`` in the webhook body.
    delivery_section: DeliverySection = no_section
    delivery_key: str = "details"

    def validate_facts(self, raw: Any) -> dict[str, Any]:
        """The facts checked against this agency's model, without the ones not given.

        Raises :class:`pydantic.ValidationError` with field locations inside the facts.
        """
        model = self.facts.model_validate(raw)
        return model.model_dump(mode="json", exclude_none=True)

    def delivery_extra(self, ticket: Mapping[str, Any]) -> dict[str, Any]:
        """What this agency adds to a webhook body: ``{delivery_key: section}``, or nothing."""
        section = self.delivery_section(ticket)
        return {self.delivery_key: section} if section is not None else {}


def validate_intake_facts(profiles: Mapping[str, AgencyProfile], raw: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Facts keyed by agency code, each checked by its agency's model; agencies with no
    facts given are left out.

    Raises one :class:`pydantic.ValidationError` listing every problem, located as
    ``(agency, field)``, so that a caller inside a pydantic model reports ``facts.health.breathing``.
    """
    checked: dict[str, dict[str, Any]] = {}
    errors: list[InitErrorDetails] = []
    for code, value in raw.items():
        profile = profiles.get(code)
        if profile is None:
            problem = PydanticCustomError(
                "unknown_agency",
                "unknown agency {agency}; known: {known}",
                {"agency": code, "known": ", ".join(profiles)},
            )
            errors.append({"type": problem, "loc": (code,), "input": value})
            continue
        try:
            facts = profile.validate_facts(value)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                detail: InitErrorDetails = {
                    "type": error["type"],
                    "loc": (code, *error["loc"]),
                    "input": error["input"],
                }
                if "ctx" in error:
                    detail["ctx"] = error["ctx"]
                errors.append(detail)
            continue
        if facts:
            checked[code] = facts
    if errors:
        raise ValidationError.from_exception_data("facts", errors)
    return checked


def facts_json_schema(profiles: Iterable[AgencyProfile]) -> dict[str, Any]:
    """The JSON schema of an intake-facts object: one optional member per agency."""
    properties = {}
    for profile in profiles:
        schema = profile.facts.model_json_schema()
        schema.pop("title", None)
        schema["description"] = f"{profile.name_zh} {profile.name_en}: " + (schema.get("description") or "").strip()
        properties[profile.code] = schema
    return {"type": "object", "properties": properties, "additionalProperties": False}


# The city-wide defaults from the taxonomy (shared/taxonomy.md).
DEFAULT_SERVICE_LEVELS: Final[dict[Priority, ServiceLevel]] = {
    "P1": ServiceLevel(ack_seconds=60, resolve_seconds=3600),
    "P2": ServiceLevel(ack_seconds=180, resolve_seconds=4 * 3600),
    "P3": ServiceLevel(ack_seconds=15 * 60, resolve_seconds=24 * 3600),
    "P4": ServiceLevel(ack_seconds=60 * 60, resolve_seconds=72 * 3600),
}

PRIORITY_NAMES: Final[dict[Priority, tuple[str, str]]] = {
    "P1": ("紧急", "emergency"),
    "P2": ("加急", "urgent"),
    "P3": ("一般", "normal"),
    "P4": ("非紧急", "non-urgent"),
}
