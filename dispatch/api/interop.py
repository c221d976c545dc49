"""Other systems' formats: a ticket as an EIDO incident (NENA-STA-021) or a CAP 1.2 warning,
and an EIDO incident handed over by a neighbouring centre imported as a ticket (channel
``eido``). See docs/interop.md for the field mapping."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import structlog
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id
from dispatch.api.responses import json_response, read_model, validation_details
from dispatch.api.schemas import Location, TicketOut
from dispatch.api.spec import describe
from dispatch.errors import Conflict, NotFound, ValidationFailed
from dispatch.intake.filing import file_ticket
from dispatch.intake.new_ticket import NewTicket
from dispatch.interop import cap, eido
from dispatch.runtime.app_keys import DB, DESKS, GAZETTEER, SETTINGS
from dispatch.store import eido as eido_store
from dispatch.store.events import NewEvent
from dispatch.store.tickets import get_ticket

log = structlog.get_logger("dispatch.interop")


class _Open(BaseModel):
    """EIDO components: the fields we read are typed as NENA's schema types them, anything else
    passes through (``$id``, ``$ref``, the components we do not read, other centres' extensions)."""

    model_config = ConfigDict(extra="allow")


class EidoIncidentComponent(_Open):
    incidentTypeInternalCode: str | None = Field(default=None, max_length=200)
    incidentTypeInternalText: str | None = Field(default=None, max_length=500)
    incidentTypeCommonRegistryText: str | None = Field(default=None, max_length=200)
    incidentPriorityInternalText: str | None = Field(default=None, max_length=50)
    incidentCommonPriorityNumber: int | None = None


class EidoNotesComponent(_Open):
    notesActionComments: str = Field(max_length=50_000, description="HTML fragment")


class EidoLocationComponent(_Open):
    locationTypeDescriptionRegistryText: str | None = Field(default=None, max_length=200)
    locationByValue: str | None = Field(default=None, max_length=eido.MAX_PIDF, description="PIDF-LO document")
    locationByReferenceUrl: str | None = Field(default=None, max_length=2000)
    locationDescriptionText: str | None = Field(default=None, max_length=1000)


class EidoAgencyComponent(_Open):
    agencyJcard: str | None = Field(default=None, max_length=5000)
    agencyRoleDescriptionRegistryText: list[str] | None = None
    incidentOwningAgencyIndicator: bool | None = None
    agencyType: list[str] | None = None


class EidoPersonComponent(_Open):
    personIncidentRoleRegistryText: list[str] | None = None


class EidoCallbackComponent(_Open):
    callBackInformationUri: list[str] | None = Field(default=None, max_length=20)


class EidoDocument(_Open):
    """An Emergency Incident Data Object (NENA-STA-021.1b) in JSON; ``$id`` is the incident
    tracking identifier."""

    eidoVersion: str | None = Field(default=None, max_length=20)
    issuingElementIdentification: str | None = Field(default=None, max_length=500)
    incidentComponent: EidoIncidentComponent | list[EidoIncidentComponent] | None = None
    callComponent: list[_Open] = Field(default=[], max_length=100)
    callbackComponent: list[EidoCallbackComponent] = Field(default=[], max_length=50)
    locationComponent: list[EidoLocationComponent] = Field(default=[], max_length=100)
    agencyComponent: list[EidoAgencyComponent] = Field(default=[], max_length=50)
    dispatchComponent: list[_Open] = Field(default=[], max_length=100)
    notesComponent: list[EidoNotesComponent] = Field(default=[], max_length=eido.MAX_NOTES)
    personComponent: list[EidoPersonComponent] = Field(default=[], max_length=50)
    additionalDataComponent: list[_Open] = Field(default=[], max_length=50)


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
    document = eido.export_ticket(ticket, domain=request.app[SETTINGS].interop_domain)
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


def _location(incident: eido.Incident) -> Location:
    if not incident.address and incident.lat is None:
        # The schema lets an EIDO locate nothing (or only by a reference we do not fetch).
        return Location.model_construct(address="", district=incident.district, lat=None, lon=None)
    try:
        return Location(address=incident.address, district=incident.district, lat=incident.lat, lon=incident.lon)
    except ValidationError as exc:
        details = [{**d, "field": f"locationComponent.{d['field']}"} for d in validation_details(exc)]
        raise ValidationFailed("the EIDO's location does not fit", details=details) from None


def _queue_reason(incident: eido.Incident) -> dict[str, Any]:
    if incident.incident_type is None:
        reason, text = "incident_type_missing", "EIDO 未给出事件类型 / the EIDO gives no incident type"
    elif not incident.registered_type:
        reason = "incident_type_not_in_registry"
        text = f"事件类型 {incident.incident_type} 不在 NENA 登记表中 / not a value of the incident type registry"
    else:
        reason = "incident_type_unmapped"
        text = f"登记类型 {incident.incident_type} 无对应类别，待接警员分类 / no category fits; a call-taker decides"
    # The queue's own shape (cause, reason) first, then what the hand-over said.
    return {"cause": "uncategorised", "reason": text, "code": reason, "incident_type": incident.incident_type}


def _new_ticket(incident: eido.Incident, location: Location, events: list[tuple[str, dict[str, Any]]]) -> NewTicket:
    """The hand-over as a new ticket: routed by its mapped category, or to the call-takers'
    queue when the type maps to none."""
    return NewTicket(
        description=incident.description,
        channel="eido",
        address=location.address,
        district=location.district,
        lat=location.lat,
        lon=location.lon,
        caller_phone=incident.caller_phone,
        caller_name=incident.caller_name,
        category=incident.category,
        priority=incident.priority or (eido.QUEUE_PRIORITY if incident.category is None else None),
        agencies=incident.agencies or None,
        queue=incident.category is None,
        events=events,
    )


def _note_event(note: eido.Note) -> tuple[str, dict[str, Any]]:
    return "ticket.note", {"text": note.text, "noted_at": note.noted_at, "source": "eido", "note_id": note.key}


def _provenance(incident: eido.Incident) -> dict[str, Any]:
    return {
        "format": "eido",
        "source": incident.source,
        "incident_tracking_id": incident.tracking_id,
        "incident_type": incident.incident_type,
        "updated_at": incident.updated_at,
        "callbacks": incident.callbacks,
        "location_references": incident.location_references,
        "notes": len(incident.notes),
    }


@describe(
    "Import an EIDO incident handed over by another centre as a ticket (channel eido); the same"
    " incident again (its tracking identifier, the document's $id) adds to the same ticket",
    tag="interop",
    body=EidoDocument,
    responses={201: TicketOut, 200: TicketOut, 409: None},
    operation="eido.import",
)
async def import_eido(request: web.Request) -> web.Response:
    """POST /api/v1/eido: 201 with the new ticket; the same incident again 200 (same ticket,
    with any new notes and callback numbers added)."""
    principal = await authenticate(request, "eido.import")
    document = await read_model(request, EidoDocument)
    raw: dict[str, Any] = document.model_dump(mode="json", exclude_none=True)
    incident = eido.import_incident(raw)
    location = _location(incident)
    request_hash = hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).digest()
    callback_digests = [eido_store.digest(uri) for uri in incident.callbacks]
    created = True
    duplicates: list[dict[str, Any]] = []
    async with request.app[DB].acquire() as conn, conn.transaction():
        imported = None
        if incident.tracking_id:
            await eido_store.lock_incident(conn, incident.tracking_id)
            imported = await eido_store.find_incident(conn, incident.tracking_id)
        if imported is not None and incident.tracking_id:
            created = False
            ticket_id = imported.ticket_id
            try:
                await get_ticket(conn, ticket_id, principal, detail=False)
            except NotFound:
                raise Conflict(
                    "this incident was imported by another system; ask the centre to add to it",
                    code="incident_imported_elsewhere",
                ) from None
            if imported.document_hash != request_hash:
                new_notes = [n for n in incident.notes if n.key not in imported.notes]
                new_callbacks = [
                    uri
                    for uri, key in zip(incident.callbacks, callback_digests, strict=True)
                    if key not in imported.callbacks
                ]
                events = [
                    NewEvent(
                        "ticket.eido_updated",
                        ticket_id,
                        data=_provenance(incident) | {"callbacks": new_callbacks, "notes": len(new_notes)},
                    ),
                    *(NewEvent("ticket.note", ticket_id, data=_note_event(n)[1]) for n in new_notes),
                ]
                await eido_store.merge_update(
                    conn,
                    incident.tracking_id,
                    imported,
                    principal,
                    document_hash=request_hash,
                    events=events,
                    notes=[n.key for n in new_notes],
                    callbacks=callback_digests,
                    caller_phone=incident.caller_phone,
                )
        else:
            extra: list[tuple[str, dict[str, Any]]] = [("ticket.imported", _provenance(incident))]
            if incident.category is None:
                extra.append(("ticket.queued", _queue_reason(incident)))
            extra.extend(_note_event(n) for n in incident.notes)
            filed = await file_ticket(
                conn,
                principal,
                _new_ticket(incident, location, extra),
                gazetteer=await request.app[GAZETTEER].get(conn),
                desks=await request.app[DESKS].get(conn),
            )
            ticket_id, duplicates = filed.id, filed.duplicates
            if incident.tracking_id:
                await eido_store.record_incident(
                    conn,
                    incident.tracking_id,
                    ticket_id,
                    principal,
                    document_hash=request_hash,
                    notes=[n.key for n in incident.notes],
                    callbacks=callback_digests,
                )
        ticket = await get_ticket(conn, ticket_id, principal)
    if ticket["category"]:
        ticket["duplicates"] = duplicates
    log.info("eido.imported", ticket_id=ticket_id, source=incident.source, created=created)
    return json_response(ticket, status=201 if created else 200, headers={"Location": f"/api/v1/tickets/{ticket_id}"})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/tickets/{id}/eido", export_eido)
    app.router.add_get("/api/v1/tickets/{id}/cap", export_cap)
    app.router.add_post("/api/v1/eido", import_eido)
