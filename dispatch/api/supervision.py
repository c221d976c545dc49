"""What supervisors do from the dashboard beside the lifecycle moves:

- ``POST /api/v1/assignments/{id}/urge``: 催办, a manual reminder to the desk holding open
  work, recorded on the timeline and pushed live to that agency's desks;
- ``POST /api/v1/assignments/{id}/redispatch``: the open assignment to another agency (a
  transfer) or to another desk of its agency.

Only supervisors and admins may call them (docs/api.md, role matrix).
"""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import AgencyCode, AssignmentOut, EventOut, RequiredText, Strict, Text, TicketOut
from dispatch.api.spec import describe
from dispatch.runtime.app_keys import DB
from dispatch.store import supervision as store
from dispatch.store.tickets import get_ticket


class UrgeRequest(Strict):
    text: Annotated[Text, Field(max_length=500)] = Field(
        default="", description="what the desk should hear, e.g. 请立即签收并回报现场情况"
    )


class UrgeOut(BaseModel):
    event: EventOut


class RedispatchRequest(Strict):
    agency: AgencyCode | None = Field(default=None, description="another agency: a transfer (转派)")
    desk: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="a desk code (e.g. police.xiping): of the target agency, or of the same one"
    )
    reason: Annotated[RequiredText, Field(max_length=2000)]

    @model_validator(mode="after")
    def _somewhere(self) -> RedispatchRequest:
        if self.agency is None and self.desk is None:
            raise ValueError("give an agency, a desk, or both")
        return self


class RedispatchOut(BaseModel):
    assignment: AssignmentOut = Field(description="the assignment after the move (transferred, or on its new desk)")
    created: AssignmentOut | None = Field(description="the new assignment a transfer opened")
    ticket: TicketOut


@describe(
    "催办: remind the desk holding open work, recorded and pushed live",
    tag="assignments",
    body=UrgeRequest,
    responses={201: UrgeOut, 409: None},
    operation="assignment.urge",
)
async def urge(request: web.Request) -> web.Response:
    """POST /api/v1/assignments/{id}/urge: a ``ticket.reminder`` event with the supervisor as its
    actor, to the agency's desks."""
    principal = await authenticate(request, "assignment.urge")
    assignment_id = path_id(request)
    body = await read_model(request, UrgeRequest)
    async with request.app[DB].acquire() as conn:
        event = await store.urge(conn, assignment_id, principal, body.text)
    return json_response({"event": event}, status=201)


@describe(
    "Re-dispatch open work to another agency or another desk",
    tag="assignments",
    body=RedispatchRequest,
    responses={200: RedispatchOut, 409: None},
    operation="assignment.redispatch",
)
async def redispatch(request: web.Request) -> web.Response:
    """POST /api/v1/assignments/{id}/redispatch: a transfer, or a change of desk."""
    principal = await authenticate(request, "assignment.redispatch")
    assignment_id = path_id(request)
    body = await read_model(request, RedispatchRequest)
    async with request.app[DB].acquire() as conn:
        result = await store.redispatch(
            conn, assignment_id, principal, agency=body.agency, desk=body.desk, reason=body.reason
        )
        ticket = await get_ticket(conn, result["assignment"]["ticket_id"], principal, detail=False)
    return json_response(result | {"ticket": ticket})


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/assignments/{id}/urge", urge)
    app.router.add_post("/api/v1/assignments/{id}/redispatch", redispatch)
