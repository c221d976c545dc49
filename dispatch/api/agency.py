"""What agencies' own systems and supervisors use beside the lifecycle moves:

- ``POST /api/v1/assignments/{id}/notes``: a progress note (到场 on scene, 伤亡 casualties,
  需要联动 needs another agency, or free text) on the timeline, to every agency of the ticket;
- ``GET /api/v1/deliveries/dead``: webhook deliveries that failed past the retry bound;
- ``POST /api/v1/deliveries/dead/replay``: send them once more.

An agency system calls these with an agency-scoped desk token (``dispatch user add NAME
--role desk --agency CODE``); see docs/agencies.md.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id, query
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import AgencyCode, AssignmentOut, EventOut, Moment, Strict, Text
from dispatch.api.spec import describe
from dispatch.delivery import dead
from dispatch.runtime.app_keys import DB, REDIS, SETTINGS
from dispatch.store.notes import add_note

NoteKind = Literal["on_scene", "casualties", "needs_agency", "note"]
Count = Annotated[int, Field(ge=0, le=100_000)]


class NoteData(Strict):
    """Structured facts of a note; which ones a kind needs is checked with the kind."""

    injured: Count | None = Field(default=None, description="casualties: 受伤人数 injured")
    dead: Count | None = Field(default=None, description="casualties: 死亡人数 dead")
    trapped: Count | None = Field(default=None, description="casualties: 被困人数 trapped")
    agency: AgencyCode | None = Field(default=None, description="needs_agency: the agency needed (联动)")
    unit: Annotated[Text, Field(max_length=100)] | None = Field(
        default=None, description="the unit or crew, e.g. 120-3"
    )
    arrived_at: Moment | None = Field(default=None, description="on_scene: when the unit arrived (default: now)")


class NoteCreate(Strict):
    kind: NoteKind = Field(description="on_scene 到场, casualties 伤亡, needs_agency 需要联动, note 其他")
    text: Annotated[Text, Field(max_length=2000)] = ""
    data: NoteData | None = None

    @model_validator(mode="after")
    def _kind_needs(self) -> NoteCreate:
        data = self.data or NoteData()
        if self.kind == "note" and not self.text:
            raise ValueError("a note of kind 'note' needs a text")
        if self.kind == "casualties" and data.injured is None and data.dead is None and data.trapped is None:
            raise ValueError("a casualties note gives data.injured, data.dead or data.trapped")
        if self.kind == "needs_agency" and data.agency is None:
            raise ValueError("a needs_agency note names the agency needed in data.agency")
        return self


class NoteOut(BaseModel):
    event: EventOut
    assignment: AssignmentOut


class DeadQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency: AgencyCode | None = None
    limit: int = Field(default=100, ge=1, le=1000)


class DeadLetterOut(BaseModel):
    id: str = Field(description="AGENCY:ENTRY, what replay takes")
    agency: str
    webhook_id: int
    delivery_id: str
    type: str
    cursor: str
    ticket_id: int | None
    attempts: int
    error: str
    failed_at: str


class DeadLetterPage(BaseModel):
    items: list[DeadLetterOut]
    next_cursor: str | None = None


class ReplayRequest(Strict):
    ids: list[Annotated[str, Field(max_length=80)]] | None = Field(
        default=None, min_length=1, max_length=1000, description="dead letters to replay"
    )
    all: bool = Field(default=False, description="replay every dead letter (of `agency`, if given)")
    agency: AgencyCode | None = None

    @model_validator(mode="after")
    def _one_choice(self) -> ReplayRequest:
        if (self.ids is None) == (not self.all):
            raise ValueError("give either ids or all: true")
        return self


class ReplayResultOut(BaseModel):
    id: str
    delivered: bool
    status: int | None
    error: str | None


class ReplayOut(BaseModel):
    items: list[ReplayResultOut]


@describe(
    "Post a progress note (到场、伤亡、需要联动) on an assignment",
    tag="assignments",
    body=NoteCreate,
    responses={201: NoteOut, 409: None},
    operation="assignment.note",
)
async def post_note(request: web.Request) -> web.Response:
    """POST /api/v1/assignments/{id}/notes: a note on the timeline, to every agency of the ticket."""
    principal = await authenticate(request, "assignment.note")
    assignment_id = path_id(request)
    body = await read_model(request, NoteCreate)
    data: dict[str, Any] = body.data.model_dump(mode="json", exclude_none=True) if body.data else {}
    async with request.app[DB].acquire() as conn:
        event, assignment = await add_note(conn, assignment_id, principal, kind=body.kind, text=body.text, data=data)
    return json_response({"event": event, "assignment": assignment}, status=201)


@describe(
    "Webhook deliveries that failed past the retry bound (dead letters)",
    tag="deliveries",
    query=DeadQuery,
    responses={200: DeadLetterPage},
    operation="deliveries.read",
)
async def list_dead_letters(request: web.Request) -> web.Response:
    """GET /api/v1/deliveries/dead: dead letters, oldest first."""
    await authenticate(request, "deliveries.read")
    params = query(request, DeadQuery)
    items = await dead.list_dead(request.app[REDIS], agency=params.agency, limit=params.limit)
    return json_response({"items": items, "next_cursor": None})


@describe(
    "Send dead letters once more",
    tag="deliveries",
    body=ReplayRequest,
    responses={200: ReplayOut, 404: None},
    operation="deliveries.replay",
)
async def replay_dead_letters(request: web.Request) -> web.Response:
    """POST /api/v1/deliveries/dead/replay: each named dead letter (or all) sent once more."""
    await authenticate(request, "deliveries.replay")
    body = await read_model(request, ReplayRequest)
    settings = request.app[SETTINGS]
    async with aiohttp.ClientSession() as http:
        results = await dead.replay(
            request.app[REDIS],
            request.app[DB],
            http,
            ids=body.ids,
            agency=body.agency,
            timeout_s=settings.delivery_timeout_s,
        )
    return json_response({"items": [_result(r) for r in results]})


def _result(result: dead.ReplayResult) -> dict[str, Any]:
    return {"id": result.id, "delivered": result.delivered, "status": result.status, "error": result.error}


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/assignments/{id}/notes", post_note)
    app.router.add_get("/api/v1/deliveries/dead", list_dead_letters)
    app.router.add_post("/api/v1/deliveries/dead/replay", replay_dead_letters)
