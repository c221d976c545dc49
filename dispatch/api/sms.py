"""``GET /api/v1/sms``: the text messages sent (or logged) to callers, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dispatch.access.auth import authenticate
from dispatch.api.params import query
from dispatch.api.responses import json_response
from dispatch.api.spec import describe
from dispatch.runtime.app_keys import DB
from dispatch.store.sms import list_messages


class SmsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ticket: int | None = Field(default=None, ge=1, le=2**62, description="one ticket's messages")
    state: Literal["pending", "sent", "logged", "failed"] | None = None
    cursor: int | None = Field(default=None, ge=1, le=2**62, description="next_cursor of the page before")
    limit: int = Field(default=50, ge=1, le=200)


class SmsOut(BaseModel):
    id: int
    ticket_id: int
    number: str
    phone: str | None
    body: str | None = Field(description="the text, once the notifier wrote it")
    state: str = Field(description="pending, sent (by the gateway), logged (no gateway configured), failed")
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class SmsPage(BaseModel):
    items: list[SmsOut]
    next_cursor: int | None


@describe(
    "Text messages to callers, newest first (admins)",
    tag="sms",
    query=SmsQuery,
    responses={200: SmsPage},
    operation="sms.read",
)
async def list_sms(request: web.Request) -> web.Response:
    """GET /api/v1/sms."""
    await authenticate(request, "sms.read")
    params = query(request, SmsQuery)
    async with request.app[DB].acquire() as conn:
        items = await list_messages(
            conn, ticket_id=params.ticket, state=params.state, before=params.cursor, limit=params.limit + 1
        )
    page = items[: params.limit]
    next_cursor = page[-1]["id"] if len(items) > params.limit else None
    return json_response({"items": page, "next_cursor": next_cursor})


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/sms", list_sms)
