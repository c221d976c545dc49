"""Per-request context: a request id bound to every log line, and one access log line."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from aiohttp import web

from dispatch.access.auth import PRINCIPAL_KEY
from dispatch.api.errors import Handler

log = structlog.get_logger("dispatch.access")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


async def _close_if_body_unreadable(request: web.Request, response: web.StreamResponse) -> None:
    # aiohttp drains an unread body before the next request on the connection; a body that
    # failed to decode, or a compressed one nobody read, fails there, after the answer, with
    # an unhandled traceback. Instead: send the answer now and close the connection.
    body = request.content
    if body.exception() is None and (body.is_eof() or not request.headers.get("Content-Encoding")):
        return
    if not response.prepared:
        response.force_close()
        await response.prepare(request)
        await response.write_eof()
    request.protocol.force_close()


@web.middleware
async def request_context_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Bind ``request_id`` (from ``X-Request-Id`` when sane, else new) and log the outcome."""
    given = request.headers.get("X-Request-Id", "")
    request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=request_id)
    started = time.perf_counter()
    status = 500
    try:
        try:
            response = await handler(request)
        except web.HTTPException as exc:  # a redirect raised by a view
            await _close_if_body_unreadable(request, exc)
            status = exc.status
            raise
        status = response.status
        response.headers["X-Request-Id"] = request_id
        await _close_if_body_unreadable(request, response)
        return response
    finally:
        principal = request.get(PRINCIPAL_KEY)
        log.info(
            "http.request",
            method=request.method,
            path=request.path,
            status=status,
            ms=round((time.perf_counter() - started) * 1000, 2),
            user=getattr(principal, "name", None),
        )
        structlog.contextvars.clear_contextvars()
