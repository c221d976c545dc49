"""Assignment transitions: acknowledge, start, resolve, return, transfer, release."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from pydantic import BaseModel

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import Empty, ReasonRequest, ResolveRequest, TransferRequest, TransitionOut
from dispatch.api.spec import describe
from dispatch.lifecycle import Action
from dispatch.runtime import metrics
from dispatch.runtime.app_keys import DB
from dispatch.store.assignments import transition
from dispatch.store.tickets import get_ticket

# action → the body it takes
BODIES: dict[Action, type[BaseModel]] = {
    "acknowledge": Empty,
    "start": Empty,
    "resolve": ResolveRequest,
    "return": ReasonRequest,
    "transfer": TransferRequest,
    "release": ReasonRequest,
}

SUMMARIES: dict[Action, str] = {
    "acknowledge": "Acknowledge (签收) a dispatched assignment",
    "start": "Start work on an acknowledged assignment",
    "resolve": "Resolve (办结) with a resolution",
    "return": "Return (退回) to the call-takers with a reason",
    "transfer": "Transfer (转派) to another agency with a reason",
    "release": "Release an assisting assignment that is no longer needed",
}


async def _read_optional_empty(request: web.Request) -> None:
    # acknowledge and start take {}; an empty body is accepted too (a bare POST).
    if (await request.read()).strip():
        await read_model(request, Empty)


def make_handler(action: Action) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        principal = await authenticate(request, "assignment.move")
        assignment_id = path_id(request)
        text = target = None
        model = BODIES[action]
        if model is Empty:
            await _read_optional_empty(request)
        else:
            body = await read_model(request, model)
            text = getattr(body, "resolution", None) or getattr(body, "reason", None)
            target = getattr(body, "agency", None)
        async with request.app[DB].acquire() as conn:
            result = await transition(conn, assignment_id, action, principal, text=text, target_agency=target)
            ticket = await get_ticket(conn, result.ticket_id, principal, detail=False)
        metrics.assignment_moved(action, result.assignment)
        return json_response({"assignment": result.assignment, "ticket": ticket, "created": result.created})

    handler.__name__ = f"assignment_{action}"
    handler.__doc__ = f"POST /api/v1/assignments/{{id}}/{action}"
    return describe(
        SUMMARIES[action],
        tag="assignments",
        body=BODIES[action],
        responses={200: TransitionOut, 409: None},
        operation="assignment.move",
    )(handler)


def setup(app: web.Application) -> None:
    for action in BODIES:
        app.router.add_post(f"/api/v1/assignments/{{id}}/{action}", make_handler(action))
