"""Ticket views: create (idempotent), read, list, reports, merges, extra assignments."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id, query
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import (
    AgencyCode,
    AssignmentCreate,
    CategoryCode,
    DistrictCode,
    MergeRequest,
    Moment,
    Phone,
    PriorityCode,
    ReportCreate,
    ReportOut,
    Text,
    TicketCreate,
    TicketOut,
    TicketPage,
)
from dispatch.api.spec import describe
from dispatch.encoding import dumps
from dispatch.errors import BadRequest, ValidationFailed
from dispatch.intake.filing import file_ticket
from dispatch.intake.new_ticket import NewTicket
from dispatch.lifecycle import OPEN_STATES, TicketStatus
from dispatch.runtime.app_keys import DB, DESKS, GAZETTEER
from dispatch.store import tickets as store
from dispatch.store.answers import Answer
from dispatch.store.assignments import add_assignment

OPEN_ASSIGNMENT_STATES = tuple(sorted(OPEN_STATES))


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 200 or not key.isprintable():
        raise BadRequest("Idempotency-Key must be 1 to 200 printable characters", code="bad_idempotency_key")
    return key


@describe(
    "Create a ticket: classify, route, dispatch",
    tag="tickets",
    body=TicketCreate,
    responses={201: TicketOut, 200: TicketOut, 409: None},
    operation="ticket.create",
    headers={"Idempotency-Key": "a retried or double-clicked create returns the first ticket (200)"},
)
async def create_ticket(request: web.Request) -> web.Response:
    """POST /api/v1/tickets: 201 with the new ticket; a replay of the same Idempotency-Key 200."""
    principal = await authenticate(request, "ticket.create")
    key = _idempotency_key(request)
    body = await read_model(request, TicketCreate)
    new = NewTicket(
        description=body.description,
        channel=body.channel,
        address=body.location.address,
        district=body.location.district,
        lat=body.location.lat,
        lon=body.location.lon,
        caller_phone=body.caller.phone,
        caller_name=body.caller.name,
        no_phone_reason=body.caller.no_phone_reason,
        category=body.category,
        priority=body.priority,
        agencies=body.agencies,
        queue=body.queue,
        answer=Answer(body.answer.kb_entry, body.answer.text) if body.answer is not None else None,
        facts=body.facts or {},
        idempotency_key=key,
        request_hash=hashlib.sha256(dumps(body.model_dump(mode="json"))).digest(),
    )
    async with request.app[DB].acquire() as conn:
        filed = await file_ticket(
            conn,
            principal,
            new,
            gazetteer=await request.app[GAZETTEER].get(conn),
            desks=await request.app[DESKS].get(conn),
        )
    ticket = filed.ticket
    if ticket["category"] and body.answer is None:
        ticket["duplicates"] = filed.duplicates
    status = 201 if filed.created else 200
    return json_response(ticket, status=status, headers={"Location": f"/api/v1/tickets/{filed.id}"})


@describe(
    "A ticket with assignments, reports and timeline",
    tag="tickets",
    responses={200: TicketOut},
    operation="ticket.read",
)
async def get_ticket(request: web.Request) -> web.Response:
    """GET /api/v1/tickets/{id}: the ticket, its assignments, reports and timeline."""
    principal = await authenticate(request, "ticket.read")
    async with request.app[DB].acquire() as conn:
        return json_response(await store.get_ticket(conn, path_id(request), principal))


class TicketQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: TicketStatus | None = None
    agency: AgencyCode | None = None
    priority: PriorityCode | None = None
    district: DistrictCode | None = None
    category: CategoryCode | None = None
    created_from: Moment | None = None
    created_to: Moment | None = None
    q: Annotated[Text, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="text in description or address, or a ticket number"
    )
    phone: Phone | None = Field(default=None, description="the caller's earlier tickets")
    assignment_state: Literal["dispatched", "acknowledged", "in_progress", "open"] | None = Field(
        default=None,
        description=(
            "with agency (a desk: its own by default): tickets whose assignment of that agency is in this "
            "state (open: any of the three), listed by that assignment, newest first"
        ),
    )
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


@describe(
    "Tickets visible to the caller, newest first",
    tag="tickets",
    query=TicketQuery,
    responses={200: TicketPage},
    operation="ticket.list",
)
async def list_tickets(request: web.Request) -> web.Response:
    """GET /api/v1/tickets: visible tickets newest first, filtered, with a cursor."""
    principal = await authenticate(request, "ticket.list")
    params = query(request, TicketQuery)
    agency = params.agency
    states: tuple[str, ...] | None = None
    if params.assignment_state is not None:
        agency = agency or (principal.agency if principal.role == "desk" else None)
        if agency is None:
            raise ValidationFailed(
                "assignment_state needs agency: whose assignments to list by",
                details=[{"field": "agency", "message": "required with assignment_state"}],
            )
        states = OPEN_ASSIGNMENT_STATES if params.assignment_state == "open" else (params.assignment_state,)
    filters = store.TicketFilter(
        status=params.status,
        agency=agency,
        priority=params.priority,
        district=params.district,
        category=params.category,
        created_from=params.created_from,
        created_to=params.created_to,
        text=params.q,
        caller_phone=params.phone,
        assignment_states=states,
    )
    async with request.app[DB].acquire() as conn:
        items, next_cursor = await store.list_tickets(
            conn, principal, filters, cursor=params.cursor, limit=params.limit
        )
    return json_response({"items": items, "next_cursor": next_cursor})


@describe(
    "Attach a further call about the same incident",
    tag="tickets",
    body=ReportCreate,
    responses={201: ReportOut, 409: None},
    operation="ticket.report",
)
async def add_report(request: web.Request) -> web.Response:
    """POST /api/v1/tickets/{id}/reports: a further call about the same incident."""
    principal = await authenticate(request, "ticket.report")
    ticket_id = path_id(request)
    body = await read_model(request, ReportCreate)
    async with request.app[DB].acquire() as conn:
        report = await store.add_report(
            conn,
            ticket_id,
            principal,
            description=body.description,
            channel=body.channel,
            caller_phone=body.caller.phone if body.caller else None,
            caller_name=body.caller.name if body.caller else None,
            no_phone_reason=body.caller.no_phone_reason if body.caller else None,
        )
    return json_response(report, status=201, headers={"Location": f"/api/v1/tickets/{ticket_id}"})


@describe(
    "Fold this duplicate into another ticket",
    tag="tickets",
    body=MergeRequest,
    responses={200: TicketOut, 409: None},
    operation="ticket.merge",
)
async def merge(request: web.Request) -> web.Response:
    """POST /api/v1/tickets/{id}/merge: fold this duplicate into another ticket."""
    principal = await authenticate(request, "ticket.merge")
    duplicate_id = path_id(request)
    body = await read_model(request, MergeRequest)
    async with request.app[DB].acquire() as conn:
        await store.merge_tickets(conn, duplicate_id, body.into, principal)
        return json_response(await store.get_ticket(conn, body.into, principal))


@describe(
    "Dispatch the ticket to one more agency (re-route, or ask for help)",
    tag="tickets",
    body=AssignmentCreate,
    responses={201: TicketOut, 409: None},
    operation="ticket.assign",
)
async def add_assignment_view(request: web.Request) -> web.Response:
    """POST /api/v1/tickets/{id}/assignments: dispatch to one more agency (re-route or 联动)."""
    principal = await authenticate(request, "ticket.assign")
    ticket_id = path_id(request)
    body = await read_model(request, AssignmentCreate)
    async with request.app[DB].acquire() as conn:
        await add_assignment(conn, ticket_id, principal, agency=body.agency, role=body.role, reason=body.reason)
        return json_response(await store.get_ticket(conn, ticket_id, principal), status=201)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/tickets", create_ticket)
    app.router.add_get("/api/v1/tickets", list_tickets)
    app.router.add_get("/api/v1/tickets/{id}", get_ticket)
    app.router.add_post("/api/v1/tickets/{id}/reports", add_report)
    app.router.add_post("/api/v1/tickets/{id}/merge", merge)
    app.router.add_post("/api/v1/tickets/{id}/assignments", add_assignment_view)
