"""The 待分派 queue: tickets that belong to nobody, oldest first, and re-routing them out."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id, query
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import QueuePage, RerouteRequest, TicketOut
from dispatch.api.spec import describe
from dispatch.errors import Conflict
from dispatch.intake.decision import Before, decide
from dispatch.intake.new_ticket import NewTicket
from dispatch.runtime.app_keys import DB, GAZETTEER
from dispatch.store import queue as store
from dispatch.store.tickets import get_ticket


class QueueQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=100, ge=1, le=500)


@describe(
    "The 待分派 queue: every ticket in status new, oldest first, with why it is there",
    tag="queue",
    query=QueueQuery,
    responses={200: QueuePage},
    operation="queue.read",
)
async def list_queue(request: web.Request) -> web.Response:
    """GET /api/v1/queue: tickets waiting to be routed, the longest-waiting first."""
    principal = await authenticate(request, "queue.read")
    params = query(request, QueueQuery)
    async with request.app[DB].acquire() as conn:
        items, next_cursor = await store.list_queue(conn, principal, cursor=params.cursor, limit=params.limit)
    return json_response({"items": items, "next_cursor": next_cursor})


@describe(
    "Re-route a ticket from the 待分派 queue: decide again and dispatch",
    tag="queue",
    body=RerouteRequest,
    responses={200: TicketOut, 409: None},
    operation="ticket.reroute",
)
async def reroute(request: web.Request) -> web.Response:
    """POST /api/v1/tickets/{id}/reroute: 200 with the dispatched ticket; 409 when it is not
    in the queue (a second click finds it dispatched and changes nothing)."""
    principal = await authenticate(request, "ticket.reroute")
    ticket_id = path_id(request)
    body = await read_model(request, RerouteRequest)
    async with request.app[DB].acquire() as conn:
        ticket = await get_ticket(conn, ticket_id, principal, detail=False)
        if ticket["status"] != "new":
            raise Conflict(
                f"ticket {ticket['number']} is {ticket['status']}, not waiting in the queue",
                code="not_in_queue",
                details=[{"ticket_id": ticket_id, "status": ticket["status"]}],
            )
        decision = decide(
            NewTicket(
                description=ticket["description"],
                channel=ticket["channel"],
                address=ticket["location"]["address"],
                district=body.district or ticket["location"]["district"],
                lat=ticket["location"]["lat"],
                lon=ticket["location"]["lon"],
                category=body.category,
                priority=body.priority,
                agencies=body.agencies,
            ),
            await request.app[GAZETTEER].get(conn),
            before=Before(ticket["category"], ticket["priority"]),
        )
        route = store.Route(
            decision.category, decision.priority, decision.agencies, decision.district, decision.classification
        )
        routed = await store.reroute(conn, ticket_id, principal, route, expected=ticket)
    return json_response(routed)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/queue", list_queue)
    app.router.add_post("/api/v1/tickets/{id}/reroute", reroute)
