"""The HTTP contract as pydantic models: request bodies are validated by them and the
OpenAPI document is generated from them (``dispatch/api/openapi.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator

import agencies
from agencies.base import facts_json_schema, validate_intake_facts
from dispatch.bounds import MAX_BIGINT, check_window
from dispatch.normalise import clean_text, normalise_phone

Channel = Literal["phone", "web", "app", "sms", "open311", "eido"]
PriorityCode = Literal["P1", "P2", "P3", "P4"]
Role = Literal["lead", "assist"]


def _required_text(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


def _phone(value: str) -> str:
    return normalise_phone(value)


def _category(value: str) -> str:
    if value not in agencies.CATEGORIES:
        raise ValueError(f"unknown category {value!r}; see GET /api/v1/categories")
    return value


def _agency(value: str) -> str:
    if value not in agencies.AGENCIES:
        raise ValueError(f"unknown agency {value!r}; known: {', '.join(agencies.AGENCIES)}")
    return value


def _district(value: str) -> str:
    district = agencies.find_district(value)
    if district is None:
        raise ValueError(f"unknown district {value!r}")
    return district.code


Text = Annotated[str, AfterValidator(clean_text)]
RequiredText = Annotated[str, AfterValidator(clean_text), AfterValidator(_required_text)]
Phone = Annotated[str, Field(min_length=3, max_length=32), AfterValidator(_phone)]
CategoryCode = Annotated[str, Field(max_length=64), AfterValidator(_category)]
AgencyCode = Annotated[
    str, Field(max_length=32, json_schema_extra={"enum": list(agencies.AGENCIES)}), AfterValidator(_agency)
]
DistrictCode = Annotated[str, Field(max_length=32), AfterValidator(_district)]
# A moment the service deals in (dispatch/bounds.py: 1970 to 2200), so that no date reaches
# PostgreSQL or date arithmetic at the edges of the calendar.
Moment = Annotated[datetime, AfterValidator(check_window)]
# A row id: a positive PostgreSQL bigint.
RowId = Annotated[int, Field(ge=1, le=MAX_BIGINT)]


def _facts(value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return validate_intake_facts(agencies.AGENCIES, value)


# Intake facts keyed by agency code, each checked by its agency module (agencies/, docs/agencies.md).
IntakeFactsIn = Annotated[
    dict[str, dict[str, Any]],
    AfterValidator(_facts),
    WithJsonSchema(facts_json_schema(agencies.AGENCIES.values())),
]


class Strict(BaseModel):
    """Request bodies: unknown fields are refused, so that a typo is not silently ignored."""

    model_config = ConfigDict(extra="forbid", str_max_length=8000)


class Caller(Strict):
    phone: Phone = Field(description="any Chinese mobile or landline notation; stored as E.164")
    name: Annotated[Text, Field(max_length=100)] | None = None


class Location(Strict):
    address: Annotated[Text, Field(max_length=500)] = ""
    district: DistrictCode | None = Field(default=None, description="district code or Chinese name")
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude")
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude")

    @model_validator(mode="after")
    def _coordinates_in_pairs(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together: give both or neither")
        if not self.address and self.lat is None:
            raise ValueError("give an address or lat/lon")
        return self


class TicketCreate(Strict):
    description: Annotated[RequiredText, Field(max_length=4000)]
    channel: Channel = "phone"
    caller: Caller
    location: Location
    category: CategoryCode | None = Field(default=None, description="override the proposed category")
    priority: PriorityCode | None = Field(default=None, description="override the proposed priority")
    agencies: list[AgencyCode] | None = Field(
        default=None, min_length=1, max_length=5, description="override: lead first, then assisting"
    )
    facts: IntakeFactsIn | None = Field(
        default=None, description="extra facts per agency, e.g. {'health': {'breathing': true}}"
    )

    @field_validator("agencies")
    @classmethod
    def _unique_agencies(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise ValueError("an agency appears twice")
        return value


class ReportCreate(Strict):
    description: Annotated[RequiredText, Field(max_length=4000)]
    channel: Channel = "phone"
    caller: Caller | None = None


class MergeRequest(Strict):
    into: RowId = Field(description="id of the ticket the duplicate folds into")


class Empty(Strict):
    """A transition that needs nothing more (acknowledge, start)."""


class ResolveRequest(Strict):
    resolution: Annotated[RequiredText, Field(max_length=4000)]


class ReasonRequest(Strict):
    reason: Annotated[RequiredText, Field(max_length=2000)]


class TransferRequest(Strict):
    agency: AgencyCode
    reason: Annotated[RequiredText, Field(max_length=2000)]


class AssignmentCreate(Strict):
    """Dispatch a ticket to one more agency (re-routing after a return, or a 联动 request)."""

    agency: AgencyCode
    role: Role = "assist"
    reason: Annotated[RequiredText, Field(max_length=2000)]


# Responses ---------------------------------------------------------------------------------


class AssignmentOut(BaseModel):
    id: int
    ticket_id: int
    agency: str
    desk_id: int | None
    role: Role
    state: str
    ack_due: datetime
    resolve_due: datetime
    created_at: datetime
    acknowledged_at: datetime | None
    started_at: datetime | None
    resolved_at: datetime | None
    resolution: str | None
    closed_at: datetime | None
    closed_reason: str | None
    transferred_to: int | None
    version: int


class EventOut(BaseModel):
    id: int
    type: str
    actor: str
    at: datetime
    assignment_id: int | None
    data: dict[str, Any]


class ReportOut(BaseModel):
    id: int
    channel: str
    description: str
    caller_phone: str | None
    caller_name: str | None
    created_at: datetime
    moved_from: int | None


class DuplicateOut(BaseModel):
    id: int
    number: str
    score: float
    reason: str


class CallerOut(BaseModel):
    phone: str | None
    name: str | None


class LocationOut(BaseModel):
    address: str
    district: str | None
    lat: float | None
    lon: float | None


class TicketOut(BaseModel):
    id: int
    number: str
    tracking_token: str | None = Field(description="shown to call-takers, supervisors and admins only")
    status: str
    category: str | None
    priority: PriorityCode
    channel: str
    description: str
    caller: CallerOut
    location: LocationOut
    merged_into: int | None
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    classification: dict[str, Any] | None
    facts: dict[str, dict[str, Any]] = Field(default={}, description="intake facts per agency")
    assignments: list[AssignmentOut]
    duplicates: list[DuplicateOut] = []
    reports: list[ReportOut] | None = None
    timeline: list[EventOut] | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class TransitionOut(BaseModel):
    assignment: AssignmentOut
    ticket: TicketOut
    created: AssignmentOut | None = Field(default=None, description="the new assignment of a transfer")


class MeOut(BaseModel):
    id: int
    name: str
    role: str
    agency: str | None
    district: str | None
    desk_id: int | None


class HealthOut(BaseModel):
    status: str
    version: str


class ReadyOut(BaseModel):
    status: str
    checks: dict[str, str]


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[Any]


class ErrorOut(BaseModel):
    error: ErrorBody


class ClassifyRequest(Strict):
    text: Annotated[RequiredText, Field(max_length=4000)]
    address: Annotated[Text, Field(max_length=500)] | None = None
    district: DistrictCode | None = None
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    id: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="echoed back")


class ClassifyOut(BaseModel):
    id: str | None
    category: str
    agency: str
    agencies: list[str]
    priority: PriorityCode
    confidence: float
    reasons: list[str]
    district: str | None
    duplicates: list[DuplicateOut] = []
