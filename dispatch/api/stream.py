"""``GET /api/v1/stream``: the live feed over a websocket, and lifecycle commands over it.

Token in the ``Authorization`` header or ``?token=``; ``?cursor=N`` resumes after event N;
a desk may narrow its agency's feed with ``?districts=yicheng,xiping``. See docs/realtime.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

import orjson
import structlog
from aiohttp import WSMsgType, web
from pydantic import ValidationError as PydanticValidationError

from dispatch.access.auth import authenticate
from dispatch.access.permissions import roles_for
from dispatch.api.responses import validation_details
from dispatch.api.schemas import ReasonRequest, ResolveRequest, TransferRequest
from dispatch.encoding import dumps
from dispatch.errors import ApiError, BadRequest, DispatchError, Forbidden, RateLimited, ValidationFailed
from dispatch.lifecycle import Action
from dispatch.pipeline.hub import Subscriber
from dispatch.runtime.app_keys import DB, HUB, SETTINGS
from dispatch.store.assignments import transition
from dispatch.store.users import Principal

log = structlog.get_logger("dispatch.stream")

MAX_MESSAGE_BYTES = 64 * 1024
COMMANDS: dict[str, Action] = {
    "acknowledge": "acknowledge",
    "start": "start",
    "resolve": "resolve",
    "return": "return",
    "transfer": "transfer",
    "release": "release",
}


def _cursor(request: web.Request) -> int | None:
    raw = request.query.get("cursor")
    if raw is None or raw == "":
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise BadRequest("cursor is the number of the last event received", code="bad_cursor")
    return int(raw)


def _districts(request: web.Request) -> frozenset[str]:
    import agencies

    raw = request.query.get("districts", "")
    codes = set()
    for name in filter(None, (part.strip() for part in raw.split(","))):
        district = agencies.find_district(name)
        if district is None:
            raise BadRequest(f"unknown district {name!r}", code="bad_district")
        codes.add(district.code)
    return frozenset(codes)


async def stream(request: web.Request) -> web.StreamResponse:
    """Upgrade to a websocket that carries the caller's events, live and resumable."""
    principal = await authenticate(request, "stream", allow_query=True)
    cursor = _cursor(request)
    districts = _districts(request)
    hub = request.app[HUB]
    settings = request.app[SETTINGS]
    open_now = sum(1 for s in hub.subscribers if s.principal.id == principal.id)
    if open_now >= settings.ws_max_per_user:
        raise RateLimited(
            f"this user already has {open_now} open websockets (limit {settings.ws_max_per_user})",
            code="too_many_websockets",
            headers={"Retry-After": "5"},
        )
    ws = web.WebSocketResponse(heartbeat=settings.ws_heartbeat_s, max_msg_size=MAX_MESSAGE_BYTES, compress=False)
    await ws.prepare(request)
    transport = request.transport
    subscriber = Subscriber(
        ws=ws,
        principal=principal,
        districts=districts,
        live=cursor is None,
        queue_limit=settings.ws_queue_limit,
        drop=transport.abort if transport is not None else None,
    )
    if cursor is None:
        await hub.ready.wait()
        subscriber.last_seq = hub.last_seq
    hub.add(subscriber)
    log.info("ws.connected", user=principal.name, role=principal.role, cursor=cursor)
    writer = asyncio.create_task(subscriber.write_loop(), name=f"ws-writer-{principal.name}")
    try:
        hello = {"type": "hello", "user": principal.name, "role": principal.role, "cursor": str(subscriber.last_seq)}
        await ws.send_str(dumps(hello).decode())
        if cursor is not None:
            replayed = await hub.catch_up(subscriber, cursor)
            log.info("ws.caught_up", user=principal.name, replayed=replayed)
        bucket = TokenBucket(rate=settings.ws_commands_per_s, burst=2 * settings.ws_commands_per_s)
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                if not bucket.take():
                    limited = RateLimited("too many commands; slow down", code="rate_limited")
                    await ws.send_str(dumps(_error(None, limited)).decode())
                    continue
                reply = await handle_command(request, principal, message.data)
                await ws.send_str(dumps(reply).decode())
            elif message.type == WSMsgType.BINARY:
                await ws.send_str(dumps(_error(None, BadRequest("send JSON text frames"))).decode())
    except (ConnectionResetError, asyncio.CancelledError):
        raise
    finally:
        hub.remove(subscriber)
        writer.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await writer
        log.info("ws.disconnected", user=principal.name, code=ws.close_code)
    return ws


class TokenBucket:
    """Commands allowed per connection: ``rate`` per second, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: float) -> None:
        self.rate = rate
        self.capacity = burst
        self.tokens = burst
        self.updated = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def _error(request_id: Any, exc: DispatchError) -> dict[str, Any]:
    return {
        "type": "reply",
        "request_id": request_id,
        "ok": False,
        "error": {"code": exc.code, "message": exc.message, "details": exc.details},
    }


async def handle_command(request: web.Request, principal: Principal, text: str) -> dict[str, Any]:
    """Run one command; the reply has the REST call's result or its error."""
    request_id = None
    try:
        try:
            command = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise BadRequest("a command is a JSON object", code="malformed_json") from None
        if not isinstance(command, dict):
            raise BadRequest("a command is a JSON object", code="malformed_json")
        request_id = command.get("request_id")
        kind = command.get("type")
        if kind == "ping":
            return {"type": "pong", "request_id": request_id}
        if kind not in COMMANDS:
            raise BadRequest(f"unknown command {kind!r}; known: ping, {', '.join(COMMANDS)}", code="unknown_command")
        if principal.role not in roles_for("assignment.move"):
            raise Forbidden(f"role {principal.role} may not move assignments", code="forbidden")
        assignment_id = command.get("assignment_id")
        if not isinstance(assignment_id, int) or isinstance(assignment_id, bool) or not 0 < assignment_id < 2**63:
            raise ValidationFailed("assignment_id must be a positive integer", details=[{"field": "assignment_id"}])
        action = COMMANDS[kind]
        fields = {k: v for k, v in command.items() if k not in ("type", "assignment_id", "request_id")}
        text_value = target = None
        try:
            if action == "resolve":
                text_value = ResolveRequest.model_validate(fields).resolution
            elif action in ("return", "release"):
                text_value = ReasonRequest.model_validate(fields).reason
            elif action == "transfer":
                body = TransferRequest.model_validate(fields)
                text_value, target = body.reason, body.agency
            elif fields:
                raise ValidationFailed(f"{action} takes no fields", details=[{"field": k} for k in fields])
        except PydanticValidationError as exc:
            raise ValidationFailed("the command does not fit", details=validation_details(exc)) from None
        async with request.app[DB].acquire() as conn:
            result = await transition(conn, assignment_id, action, principal, text=text_value, target_agency=target)
        return {
            "type": "reply",
            "request_id": request_id,
            "ok": True,
            "assignment": result.assignment,
            "created": result.created,
        }
    except ApiError as exc:
        return _error(request_id, exc)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/stream", stream)
