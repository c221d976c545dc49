"""Other systems' formats: a ticket as an EIDO incident (NENA-STA-021) or a CAP 1.2 warning,
and an EIDO incident handed over by a neighbouring centre imported as a ticket (channel
``eido``). See docs/interop.md for the field mapping."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatch.api.params import path_id
from dispatch.api.responses import json_response, read_model, validation_details
from dispatch.api.schemas import Location, TicketCreate, TicketOut
from dispatch.api.spec import describe
from dispatch.app_keys import DB, SETTINGS
from dispatch.auth import authenticate
from dispatch.errors import Conflict, ValidationFailed
from dispatch.intake import decide
from dispatch.interop import cap, eido
from dispatch.store.tickets import create_ticket, get_ticket

log = structlog.get_logger("dispatch.interop")


class _Open(BaseModel):
    """EIDO components: the fields we read are typed, anything else passes through (``$id``,
    ``$ref`` and extensions of other centres)."""

    model_config = ConfigDict(extra="allow")


class EidoIncidentComponent(_Open):
    incidentTrackingIdentifier: str | None = Field(default=None, max_length=500)
    incidentTypeInternalCode: str | None = Field(default=None, max_length=200)
    incidentTypeInternalText: str | None = Field(default=None, max_length=500)
    incidentTypeCommonRegistryText: str | list[str] | None = None
    incidentPriorityInternalText: str | None = Field(default=None, max_length=50)
    incidentCommonPriorityNumber: int | None = Field(default=None, ge=0, le=10)


class EidoNotesComponent(_Open):
    lastUpdateTimestamp: str | None = Field(default=None, max_length=64)
    notesActionComments: str | None = Field(default=None, max_length=50_000)


class EidoLocationComponent(_Open):
    locationTypeDescriptionRegistryText: str | None = Field(default=None, max_length=200)
    locationByValue: str | None = Field(default=None, max_length=20_000, description="PIDF-LO document")
    locationDescriptionText: str | None = Field(default=None, max_length=1000)


class EidoAgencyComponent(_Open):
    agencyJcard: str | None = Field(default=None, max_length=5000)
    agencyRoleDescriptionRegistryText: list[str] | None = None
    incidentOwningAgencyIndicator: bool | None = None
    agencyType: list[str] | None = None


class EidoPersonComponent(_Open):
    personJcard: str | None = Field(default=None, max_length=5000)


class EidoDocument(_Open):
    """An Emergency Incident Data Object (NENA-STA-021) in JSON."""

    eidoVersion: str | None = Field(default=None, max_length=20)
    issuingElementIdentification: str | None = Field(default=None, max_length=500)
    lastUpdateTimestamp: str | None = Field(default=None, max_length=64)
    incidentTrackingIdentifier: str | None = Field(default=None, max_length=500)
    incidentComponent: EidoIncidentComponent | list[EidoIncidentComponent]
    callComponent: list[_Open] = Field(default=[], max_length=100)
    locationComponent: list[EidoLocationComponent] = Field(default=[], max_length=100)
    agencyComponent: list[EidoAgencyComponent] = Field(default=[], max_length=50)
    dispatchComponent: list[_Open] = Field(default=[], max_length=100)
    notesComponent: list[EidoNotesComponent] = Field(default=[], max_length=eido.MAX_NOTES)
    personComponent: list[EidoPersonComponent] = Field(default=[], max_length=50)


@describe(
    "A ticket as an EIDO incident (NENA-STA-021 JSON) for another centre",
    tag="interop",
    responses={200: EidoDocument},
    operation="ticket.export",
)
async def export_eido(request: web.Request) -> web.Response:
    """GET /api/v1/tickets/{id}/eido: the ticket, its agencies and timeline as an EIDO."""
    principal = await authenticate(request, "ticket.export")
    async with request.app[DB].acquire() as conn:
        ticket = await get_ticket(conn, path_id(request), principal)
    document = eido.export_ticket(ticket, domain=request.app[SETTINGS].interop_domain, now=datetime.now(UTC))
    return json_response(document)


@describe(
    "A ticket as a CAP 1.2 public warning (application/cap+xml), without personal data",
    tag="interop",
    responses={200: None},
    operation="ticket.export",
)
async def export_cap(request: web.Request) -> web.Response:
    """GET /api/v1/tickets/{id}/cap: a CAP 1.2 alert for public warning systems."""
    principal = await authenticate(request, "ticket.export")
    async with request.app[DB].acquire() as conn:
        ticket = await get_ticket(conn, path_id(request), principal, detail=False)
    body = cap.render_alert(ticket, domain=request.app[SETTINGS].interop_domain)
    return web.Response(body=body, content_type=cap.CONTENT_TYPE, charset="utf-8")


def _ticket_body(incident: eido.Incident) -> TicketCreate:
    try:
        location = Location(address=incident.address, district=incident.district, lat=incident.lat, lon=incident.lon)
    except ValidationError as exc:
        details = [{**d, "field": f"locationComponent.{d['field']}"} for d in validation_details(exc)]
        raise ValidationFailed("the EIDO's location does not fit", details=details) from None
    # Checked facts only (category, priority and agencies are known codes, the location is
    # validated above), so the router and store see the same body as POST /tickets.
    fields: dict[str, Any] = {
        "description": incident.description,
        "channel": "eido",
        "caller": None,
        "location": location,
        "category": incident.category,
        "priority": incident.priority,
        "agencies": incident.agencies or None,
    }
    return TicketCreate.model_construct(**fields)


@describe(
    "Import an EIDO incident handed over by another centre as a ticket (channel eido)",
    tag="interop",
    body=EidoDocument,
    responses={201: TicketOut, 200: TicketOut, 409: None},
    operation="eido.import",
)
async def import_eido(request: web.Request) -> web.Response:
    """POST /api/v1/eido: 201 with the new ticket; the same incident again 200 (same ticket)."""
    principal = await authenticate(request, "eido.import")
    document = await read_model(request, EidoDocument)
    raw: dict[str, Any] = document.model_dump(mode="json", exclude_none=True)
    try:
        incident = eido.import_incident(raw)
    except eido.EidoError as exc:
        raise ValidationFailed(str(exc), details=[{"field": exc.field, "message": str(exc)}]) from None
    body = _ticket_body(incident)
    # A hand-over cannot be sent back for a category: unrouted, it waits on the 待分派 queue.
    decision = decide(body, queue_when_unrouted=True)
    # One ticket per incident and importer: a re-sent hand-over finds the first ticket.
    key = None
    if incident.tracking_id:
        key = "eido:" + hashlib.sha256(incident.tracking_id.encode("utf-8")).hexdigest()
    request_hash = hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).digest()
    async with request.app[DB].acquire() as conn:
        try:
            outcome = await create_ticket(
                conn,
                principal,
                description=incident.description,
                channel="eido",
                caller_phone=incident.caller_phone,
                caller_name=incident.caller_name,
                address=body.location.address,
                lat=body.location.lat,
                lon=body.location.lon,
                decision=decision,
                idempotency_key=key,
                request_hash=request_hash,
                extra_events=[
                    (
                        "ticket.imported",
                        {
                            "format": "eido",
                            "source": incident.source,
                            "incident_tracking_id": incident.tracking_id,
                            "notes": len(incident.notes),
                        },
                    ),
                    *(
                        ("ticket.note", {"text": n.text, "noted_at": n.noted_at, "source": "eido"})
                        for n in incident.notes
                    ),
                    *((("ticket.queued", {"cause": "uncategorised"}),) if not decision.agencies else ()),
                ],
            )
            ticket_id, created = outcome.id, outcome.created
        except Conflict as exc:
            if exc.code != "idempotency_key_reused":
                raise
            raise Conflict(
                "this incident was already imported, with other content; updates are not imported",
                code="incident_already_imported",
                details=exc.details,
            ) from None
        ticket = await get_ticket(conn, ticket_id, principal)
    log.info("eido.imported", ticket_id=ticket_id, source=incident.source, created=created)
    return json_response(ticket, status=201 if created else 200, headers={"Location": f"/api/v1/tickets/{ticket_id}"})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/tickets/{id}/eido", export_eido)
    app.router.add_get("/api/v1/tickets/{id}/cap", export_cap)
    app.router.add_post("/api/v1/eido", import_eido)
