"""``GET /api/v1/assignments/handled``: what an agency's desk handled this shift (resolved,
returned, transferred, released), newest first, searchable by ticket number.

A desk sees its own agency's (asking for another is 403); supervisors and admins any agency's,
or all. The period starts at ``since`` (default: one shift, 12 hours, ago).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from dispatch.access.auth import authenticate
from dispatch.api.params import query
from dispatch.api.responses import json_response
from dispatch.api.schemas import AgencyCode, AssignmentOut
from dispatch.api.spec import describe
from dispatch.errors import Forbidden
from dispatch.runtime.app_keys import DB
from dispatch.store.handled import handled

SHIFT = timedelta(hours=12)
LONGEST = timedelta(days=31)


class HandledQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency: AgencyCode | None = Field(default=None, description="a desk: its own agency (the default)")
    since: AwareDatetime | None = Field(default=None, description="period start; default 12 h ago, at most 31 days")
    number: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9-]+$")] | None = Field(
        default=None, description="only tickets whose number contains this (e.g. the last digits)"
    )
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


class HandledTicketOut(BaseModel):
    id: int
    number: str
    priority: str
    category: str | None
    status: str
    created_at: datetime
    location: dict[str, str | None]


class HandledItemOut(BaseModel):
    ended_at: datetime = Field(description="when the assignment was resolved or closed")
    assignment: AssignmentOut
    ticket: HandledTicketOut


class HandledPage(BaseModel):
    items: list[HandledItemOut]
    next_cursor: str | None


@describe(
    "What an agency handled this shift: assignments resolved, returned, transferred or released",
    tag="assignments",
    query=HandledQuery,
    responses={200: HandledPage, 403: None},
    operation="assignment.read",
)
async def list_handled(request: web.Request) -> web.Response:
    """GET /api/v1/assignments/handled: the shift's closed assignments, newest first."""
    principal = await authenticate(request, "assignment.read")
    params = query(request, HandledQuery)
    agency = params.agency
    if principal.role == "desk":
        if agency is not None and agency != principal.agency:
            raise Forbidden("a desk sees its own agency's work only", code="other_agency")
        agency = principal.agency
    now = datetime.now(UTC)
    since = max(params.since or now - SHIFT, now - LONGEST)
    async with request.app[DB].acquire() as conn:
        items, next_cursor = await handled(
            conn, agency=agency, since=since, number=params.number, cursor=params.cursor, limit=params.limit
        )
    return json_response({"items": items, "next_cursor": next_cursor})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/assignments/handled", list_handled)
