"""The HTTP contract as pydantic models: request bodies are validated by them and the
OpenAPI document is generated from them (``dispatch/api/openapi.py``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, field_validator, model_validator
from pydantic_core import PydanticCustomError

import agencies
from agencies.base import facts_json_schema, validate_intake_facts
from dispatch.bounds import MAX_BIGINT, check_window
from dispatch.normalise import clean_text, normalise_phone
from routing.text import meaningful

Channel = Literal["phone", "web", "app", "sms", "open311", "eido"]
PriorityCode = Literal["P1", "P2", "P3", "P4"]
Role = Literal["lead", "assist"]
# Why a caller gave no number to call back: 未显示号码, 拒绝提供, 公用电话, 代他人报.
NoPhoneReason = Literal["not_shown", "refused", "payphone", "on_behalf"]

# Validation errors the consoles translate carry their own ``type`` in the details (besides
# pydantic's own: missing, string_too_long, extra_forbidden, literal_error, ...).


def _required_text(value: str) -> str:
    if not value:
        raise PydanticCustomError("text_empty", "must not be empty")
    return value


def _meaningful(value: str) -> str:
    if not meaningful(value):
        raise ValueError("names nothing to classify (no words, only punctuation, digits or symbols)")
    return value


def _phone(value: str) -> str:
    try:
        return normalise_phone(value)
    except ValueError as exc:
        raise PydanticCustomError("phone_invalid", "{reason}", {"reason": str(exc)}) from None


def _category(value: str) -> str:
    if value not in agencies.CATEGORIES:
        raise PydanticCustomError(
            "unknown_category", "unknown category {value!r}; see GET /api/v1/categories", {"value": value}
        )
    return value


def _agency(value: str) -> str:
    if value not in agencies.AGENCIES:
        raise PydanticCustomError(
            "unknown_agency",
            "unknown agency {value!r}; known: {known}",
            {"value": value, "known": ", ".join(agencies.AGENCIES)},
        )
    return value


def _district(value: str) -> str:
    district = agencies.find_district(value)
    if district is None:
        raise PydanticCustomError("unknown_district", "unknown district {value!r}", {"value": value})
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


def _cleaned(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list):
        return [_cleaned(item) for item in value]
    if isinstance(value, dict):
        return {key: _cleaned(item) for key, item in value.items()}
    return value


def _facts(value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    # Agency modules check their facts' shapes; every text among them goes through the one cleaner.
    checked: dict[str, dict[str, Any]] = _cleaned(validate_intake_facts(agencies.AGENCIES, value))
    return checked


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
    """Who called. A number to call back, or the reason there is none (never both)."""

    phone: Phone | None = Field(
        default=None,
        description="a mobile or landline in any usual notation (a 7-8 digit local number is 0396's), stored as "
        "E.164; or a short service number such as 12345, kept as its digits",
    )
    name: Annotated[Text, Field(max_length=100)] | None = None
    no_phone_reason: NoPhoneReason | None = Field(
        default=None,
        description="required without phone: not_shown 未显示号码, refused 拒绝提供, payphone 公用电话, "
        "on_behalf 代他人报",
    )

    @model_validator(mode="after")
    def _phone_or_reason(self) -> Caller:
        if self.phone is None and self.no_phone_reason is None:
            raise PydanticCustomError("phone_or_reason", "give phone, or no_phone_reason when there is no number")
        if self.phone is not None and self.no_phone_reason is not None:
            raise PydanticCustomError("phone_and_reason", "give phone or no_phone_reason, not both")
        return self


class Location(Strict):
    address: Annotated[Text, Field(max_length=500)] = ""
    district: DistrictCode | None = Field(default=None, description="district code or Chinese name")
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude")
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude")

    @model_validator(mode="after")
    def _coordinates_in_pairs(self) -> Location:
        if (self.lat is None) != (self.lon is None):
            raise PydanticCustomError("coordinates_pair", "lat and lon go together: give both or neither")
        if not self.address and self.lat is None:
            raise PydanticCustomError("address_required", "give an address or lat/lon")
        return self


class AnswerIn(Strict):
    """A consultation answered on the phone (直接答复): from a knowledge-base entry and/or in the
    call-taker's words. The ticket is filed as ``answered``, with no assignment."""

    kb_entry: int | None = Field(default=None, ge=1, le=2**62, description="id of the knowledge-base entry read out")
    text: Annotated[Text, Field(max_length=4000)] | None = Field(
        default=None, description="what the caller was told, in the call-taker's words (or a note beside the entry)"
    )

    @model_validator(mode="after")
    def _something_answered(self) -> AnswerIn:
        if self.kb_entry is None and not self.text:
            raise ValueError("give kb_entry, text, or both")
        return self


# An answered consultation may have no place at all; the model validator below still asks
# every other call for one.
_NO_LOCATION = Location.model_construct(address="", district=None, lat=None, lon=None)


class TicketCreate(Strict):
    description: Annotated[RequiredText, Field(max_length=4000)]
    channel: Channel = "phone"
    caller: Caller
    location: Location = Field(default=_NO_LOCATION, description="required unless the call is answered")
    category: CategoryCode | None = Field(default=None, description="override the proposed category")
    priority: PriorityCode | None = Field(default=None, description="override the proposed priority")
    agencies: list[AgencyCode] | None = Field(
        default=None, min_length=1, max_length=5, description="override: lead first, then assisting"
    )
    facts: IntakeFactsIn | None = Field(
        default=None, description="extra facts per agency, e.g. {'health': {'breathing': true}}"
    )
    queue: bool = Field(
        default=False,
        description="file the ticket on the 待分派 queue instead of dispatching it (status new, no assignments); "
        "category is then optional: without one the ticket waits as uncategorised",
    )
    answer: AnswerIn | None = Field(
        default=None, description="answered at first contact: filed as status answered, not dispatched"
    )

    @model_validator(mode="after")
    def _location_unless_answered(self) -> TicketCreate:
        if self.answer is None and "location" not in self.model_fields_set:
            raise ValueError("location is required (an answered consultation may leave it out)")
        if self.answer is not None and self.agencies:
            raise ValueError("an answered consultation is not dispatched: leave agencies out")
        if self.answer is not None and self.queue:
            raise ValueError("an answered consultation is not queued: leave queue out")
        return self

    @field_validator("agencies")
    @classmethod
    def _unique_agencies(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise PydanticCustomError("agency_twice", "an agency appears twice")
        return value


class ReportCreate(Strict):
    description: Annotated[RequiredText, Field(max_length=4000)]
    channel: Channel = "phone"
    caller: Caller | None = None


class RerouteRequest(Strict):
    """Decide again for a ticket on the 待分派 queue and dispatch it; every field is optional."""

    category: CategoryCode | None = Field(default=None, description="default: the ticket's, else the router's")
    priority: PriorityCode | None = Field(
        default=None, description="default: the ticket's (same category), else the router's or the category's"
    )
    agencies: list[AgencyCode] | None = Field(
        default=None, min_length=1, max_length=5, description="lead first, then assisting; default: by category"
    )
    district: DistrictCode | None = Field(default=None, description="district code or Chinese name")

    @field_validator("agencies")
    @classmethod
    def _unique_agencies(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and len(set(value)) != len(value):
            raise PydanticCustomError("agency_twice", "an agency appears twice")
        return value


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
    paused_at: datetime | None = Field(default=None, description="when the clock was paused; None: running")
    pause_reason: str | None = None
    deadlines_armed_at: datetime | None = Field(
        default=None, description="when the current deadlines started (reopened); None: at created_at"
    )
    escalation_level: int = Field(
        default=0, description="督办 level of the deadline running now (0: none), from the deadline watcher"
    )


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
    no_phone_reason: NoPhoneReason | None = None
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
    no_phone_reason: NoPhoneReason | None = None


class LocationOut(BaseModel):
    address: str
    district: str | None
    lat: float | None
    lon: float | None


class AnswerRef(BaseModel):
    kb_entry: int
    kb_version: int


class TicketOut(BaseModel):
    id: int
    number: str
    tracking_token: str | None = Field(description="shown to call-takers, supervisors and admins only")
    short_code: str | None = Field(
        default=None, description="6 digits to read out and type on a keypad; shown like tracking_token"
    )
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
    answer: AnswerRef | None = Field(default=None, description="the knowledge-base entry an answered call used")
    assignments: list[AssignmentOut]
    duplicates: list[DuplicateOut] = []
    reports: list[ReportOut] | None = None
    timeline: list[EventOut] | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


QueueCause = Literal["returned", "uncategorised", "released", "other"]


class QueueItemOut(BaseModel):
    ticket: TicketOut
    cause: QueueCause = Field(
        description="returned: its lead returned it (退回); released: its lead was released; "
        "uncategorised: filed without a category; other: filed to the queue on purpose"
    )
    reason: str | None = Field(description="the return or release reason")
    agency: str | None = Field(description="the agency that returned or released it")
    since: datetime = Field(description="when the ticket entered the queue")


class QueuePage(BaseModel):
    items: list[QueueItemOut]
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
    text: Annotated[RequiredText, Field(max_length=4000), AfterValidator(_meaningful)]
    address: Annotated[Text, Field(max_length=500)] | None = None
    district: DistrictCode | None = None
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False)
    id: Annotated[str, Field(max_length=200)] | None = Field(default=None, description="echoed back")


class PlaceOut(BaseModel):
    name: str
    district: str
    lat: float
    lon: float


class ClassifyOut(BaseModel):
    id: str | None
    category: str
    agency: str
    agencies: list[str]
    priority: PriorityCode
    confidence: float
    reasons: list[str]
    district: str | None
    uncertain: bool = Field(description="calibrated confidence under the threshold: ask the call-taker to choose")
    place: PlaceOut | None = Field(default=None, description="the gazetteer's place the address names")
    duplicates: list[DuplicateOut] = []
