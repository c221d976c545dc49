"""Service levels (the deadlines) and the deadline clock of an assignment.

- ``GET /api/v1/service-levels``: every row, general and refined
- ``PUT /api/v1/service-levels`` (admin): set one, for assignments created afterwards
- ``POST /api/v1/assignments/{id}/pause`` ``{"reason"}`` and ``/resume``: stop the clock
  while waiting on the citizen, and start it again with the deadlines moved by the pause
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import structlog
from aiohttp import web
from pydantic import BaseModel, Field

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import (
    AgencyCode,
    AssignmentOut,
    CategoryCode,
    Empty,
    PriorityCode,
    ReasonRequest,
    Strict,
    TicketOut,
)
from dispatch.api.spec import describe
from dispatch.deadlines import store as deadlines
from dispatch.runtime.app_keys import DB
from dispatch.store.events import actor_label
from dispatch.store.service_levels import list_service_levels, set_service_level
from dispatch.store.tickets import get_ticket

log = structlog.get_logger("dispatch.service_levels")

# A month: longer deadlines are a typing mistake, not a service level.
MAX_SECONDS = 30 * 24 * 3600
Seconds = Annotated[int, Field(ge=1, le=MAX_SECONDS, description="seconds")]


class ServiceLevelIn(Strict):
    priority: PriorityCode
    category: CategoryCode | None = Field(default=None, description="refine for one category")
    agency: AgencyCode | None = Field(default=None, description="refine for one agency")
    ack_seconds: Seconds
    resolve_seconds: Seconds


class ServiceLevelOut(BaseModel):
    id: int
    priority: PriorityCode
    category: str | None
    agency: str | None
    ack_seconds: int
    resolve_seconds: int
    updated_at: datetime
    updated_by: str | None


class ServiceLevelPage(BaseModel):
    items: list[ServiceLevelOut]


class ClockAssignmentOut(AssignmentOut):
    paused_at: datetime | None
    pause_reason: str | None
    deadline_round: int
    paused_seconds: float | None = Field(default=None, description="on resume: how long the clock stood still")


class ClockOut(BaseModel):
    assignment: ClockAssignmentOut
    ticket: TicketOut


@describe(
    "Service levels: deadlines per priority, refined per category and agency",
    tag="service-levels",
    responses={200: ServiceLevelPage},
    operation="service_level.read",
)
async def get_service_levels(request: web.Request) -> web.Response:
    """GET /api/v1/service-levels: every service level."""
    await authenticate(request, "service_level.read")
    async with request.app[DB].acquire() as conn:
        return json_response({"items": await list_service_levels(conn)})


@describe(
    "Set a service level (applies to assignments created afterwards)",
    tag="service-levels",
    body=ServiceLevelIn,
    responses={200: ServiceLevelOut, 201: ServiceLevelOut},
    operation="service_level.write",
)
async def put_service_level(request: web.Request) -> web.Response:
    """PUT /api/v1/service-levels: 201 with a new scope's row, 200 with a replaced one."""
    principal = await authenticate(request, "service_level.write")
    body = await read_model(request, ServiceLevelIn)
    async with request.app[DB].acquire() as conn:
        level, inserted = await set_service_level(
            conn,
            priority=body.priority,
            category=body.category,
            agency=body.agency,
            ack_seconds=body.ack_seconds,
            resolve_seconds=body.resolve_seconds,
            updated_by=actor_label(principal),
        )
    log.info("service_level.set", **{k: v for k, v in level.items() if k != "updated_at"})
    return json_response(level, status=201 if inserted else 200)


@describe(
    "Pause the deadlines while waiting on the citizen (a reason is required)",
    tag="assignments",
    body=ReasonRequest,
    responses={200: ClockOut, 409: None},
    operation="assignment.pause",
)
async def pause_assignment(request: web.Request) -> web.Response:
    """POST /api/v1/assignments/{id}/pause: stop the clock; 409 if paused already or closed."""
    principal = await authenticate(request, "assignment.pause")
    assignment_id = path_id(request)
    body = await read_model(request, ReasonRequest)
    async with request.app[DB].acquire() as conn:
        assignment = await deadlines.pause(conn, assignment_id, principal, body.reason)
        ticket = await get_ticket(conn, assignment["ticket_id"], principal, detail=False)
    return json_response({"assignment": assignment, "ticket": ticket})


@describe(
    "Resume the deadlines: those not yet passed move later by the time paused",
    tag="assignments",
    body=Empty,
    responses={200: ClockOut, 409: None},
    operation="assignment.pause",
)
async def resume_assignment(request: web.Request) -> web.Response:
    """POST /api/v1/assignments/{id}/resume: restart the clock; 409 if not paused."""
    principal = await authenticate(request, "assignment.pause")
    assignment_id = path_id(request)
    if (await request.read()).strip():  # {} or no body at all
        await read_model(request, Empty)
    async with request.app[DB].acquire() as conn:
        assignment = await deadlines.resume(conn, assignment_id, principal)
        ticket = await get_ticket(conn, assignment["ticket_id"], principal, detail=False)
    return json_response({"assignment": assignment, "ticket": ticket})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/service-levels", get_service_levels)
    app.router.add_put("/api/v1/service-levels", put_service_level)
    app.router.add_post("/api/v1/assignments/{id}/pause", pause_assignment)
    app.router.add_post("/api/v1/assignments/{id}/resume", resume_assignment)
