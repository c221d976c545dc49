"""Citizens' views, no account needed: a ticket's status and timeline by number and tracking
token, and feedback (回访) once it is resolved. Rate-limited per client address; a wrong token
answers exactly like an unknown number.

Also the grace-period job: resolved tickets nobody rated close after
``DISPATCH_FEEDBACK_GRACE_DAYS``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Annotated, Any

import asyncpg
import structlog
from aiohttp import web
from pydantic import BaseModel, Field

from dispatch.access.ratelimit import LIMITER, client_address, rule
from dispatch.api.params import query
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import PriorityCode, Strict, Text
from dispatch.api.spec import describe
from dispatch.errors import NotFound
from dispatch.interop.public_text import (
    agency_names,
    category_names,
    priority_names,
    public_timeline,
    redact,
    status_text,
)
from dispatch.runtime.app_keys import DB, SETTINGS
from dispatch.runtime.tasks import owned_task
from dispatch.store.feedback import close_resolved, record_feedback
from dispatch.store.public import citizen_view, find_for_citizen, short_code_of

log = structlog.get_logger("dispatch.public")

# The one answer to an unknown number and to a wrong token alike.
NOT_FOUND_MESSAGE = "no ticket with this number and token / 没有与该工单号和查询码相符的工单"


class TokenQuery(BaseModel):
    token: str = Field(
        min_length=1,
        max_length=100,
        description="the tracking token given with the ticket number, or its six-digit short code",
    )


class FeedbackCreate(Strict):
    satisfied: bool = Field(description="true: solved, the ticket closes; false: the lead agency works on it again")
    rating: int = Field(ge=1, le=5, description="1 (bad) to 5 (very good)")
    comment: Annotated[Text, Field(max_length=2000)] = ""


class BilingualText(BaseModel):
    zh: str
    en: str


class PublicAgency(BaseModel):
    code: str
    name: BilingualText


class PublicTimelineEntry(BaseModel):
    at: datetime
    type: str
    text: BilingualText


class PublicTicketOut(BaseModel):
    """What a citizen sees: no phone, name, description, notes, desk or user names."""

    number: str
    status: str
    status_text: BilingualText
    category: str | None
    category_name: BilingualText | None
    priority: PriorityCode
    priority_name: BilingualText
    agency: PublicAgency | None = Field(description="the lead agency (主办单位)")
    resolution: str | None = Field(description="how the lead agency resolved it, personal data removed")
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    feedback_open: bool = Field(description="feedback is taken now (the ticket is resolved)")
    timeline: list[PublicTimelineEntry]


def render_citizen_view(view: dict[str, Any]) -> dict[str, Any]:
    """The public form of ``store.public.citizen_view``'s facts."""
    category = category_names(view["category"])
    lead = view["lead_agency"]
    resolution = view["lead_resolution"]
    if resolution:
        resolution = redact(resolution, phone=view["caller_phone"], name=view["caller_name"])
    return {
        "number": view["number"],
        "status": view["status"],
        "status_text": status_text(view["status"]).as_dict(),
        "category": view["category"],
        "category_name": category.as_dict() if category else None,
        "priority": view["priority"],
        "priority_name": priority_names(view["priority"]).as_dict(),
        "agency": {"code": lead, "name": agency_names(lead).as_dict()} if lead else None,
        "resolution": resolution or None,
        "created_at": view["created_at"],
        "updated_at": view["updated_at"],
        "resolved_at": view["resolved_at"],
        "closed_at": view["closed_at"],
        "feedback_open": view["status"] == "resolved",
        "timeline": public_timeline(view["events"]),
    }


async def _find(request: web.Request, conn: asyncpg.Connection, token: str) -> int:
    """The ticket this citizen may see; 404 (the same answer) for an unknown number or a wrong token.

    Failed lookups count against the address's failure limit, which, once spent, refuses every
    lookup from that address for a while: guessing numbers or tokens gets nowhere. A six-digit
    short code is also limited per ticket number, whoever asks: once a number's wrong codes are
    spent, codes for that number are refused for the rest of the window (the long token still
    works), so spreading guesses over many addresses gets nowhere either (docs/privacy.md).
    """
    settings = request.config_dict[SETTINGS]
    limiter = request.config_dict[LIMITER]
    failures = rule("public_lookup_failures", settings.public_lookup_failure_limit)
    address = client_address(request)
    await limiter.check(failures, address)
    number = request.match_info["number"]
    code_failures = rule("public_code_failures", settings.public_code_failure_limit)
    is_code = short_code_of(token) is not None
    number_key = number.upper()[:40]
    if is_code:
        await limiter.check(code_failures, number_key)
    ticket_id = await find_for_citizen(conn, number, token)
    if ticket_id is None:
        await limiter.count(failures, address)
        if is_code:
            await limiter.count(code_failures, number_key)
        raise NotFound(NOT_FOUND_MESSAGE, code="ticket_not_found")
    return ticket_id


async def _limit(request: web.Request) -> None:
    settings = request.config_dict[SETTINGS]
    await request.config_dict[LIMITER].hit(rule("public", settings.public_rate_limit), client_address(request))


@describe(
    "A citizen's view of a ticket: status and plain-language timeline, no personal data",
    tag="public",
    query=TokenQuery,
    responses={200: PublicTicketOut, 404: None, 429: None, 503: None},
)
async def get_public_ticket(request: web.Request) -> web.Response:
    """GET /api/v1/public/tickets/{number}?token=: status, lead agency and timeline for the citizen."""
    await _limit(request)
    params = query(request, TokenQuery)
    async with request.config_dict[DB].acquire() as conn:
        ticket_id = await _find(request, conn, params.token)
        view = await citizen_view(conn, ticket_id)
    return json_response(render_citizen_view(view), headers={"Cache-Control": "no-store"})


@describe(
    "A citizen's feedback on a resolved ticket: satisfied closes it, not satisfied reopens it",
    tag="public",
    query=TokenQuery,
    body=FeedbackCreate,
    responses={200: PublicTicketOut, 404: None, 409: None, 429: None, 503: None},
)
async def post_feedback(request: web.Request) -> web.Response:
    """POST /api/v1/public/tickets/{number}/feedback?token=: 回访; answers the updated public view."""
    await _limit(request)
    params = query(request, TokenQuery)
    body = await read_model(request, FeedbackCreate)
    async with request.config_dict[DB].acquire() as conn:
        ticket_id = await _find(request, conn, params.token)
        await record_feedback(conn, ticket_id, satisfied=body.satisfied, rating=body.rating, comment=body.comment)
        view = await citizen_view(conn, ticket_id)
    return json_response(render_citizen_view(view), headers={"Cache-Control": "no-store"})


async def _close_periodically(app: web.Application, every: float, grace: timedelta) -> None:
    while True:
        try:
            async with app[DB].acquire() as conn:
                await close_resolved(conn, grace)
        except asyncio.CancelledError:
            raise
        except Exception:
            # A failed round (database briefly away) is retried next round; never kill the job.
            log.exception("feedback_grace.failed")
        await asyncio.sleep(every)


async def feedback_grace_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: close resolved tickets without feedback every
    ``DISPATCH_FEEDBACK_GRACE_CHECK_SECONDS`` (off when 0)."""
    settings = app[SETTINGS]
    if settings.feedback_grace_check_seconds <= 0:
        yield
        return
    grace = timedelta(days=settings.feedback_grace_days)
    async with owned_task(_close_periodically(app, settings.feedback_grace_check_seconds, grace), "feedback-grace"):
        yield


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/public/tickets/{number}", get_public_ticket)
    app.router.add_post("/api/v1/public/tickets/{number}/feedback", post_feedback)
