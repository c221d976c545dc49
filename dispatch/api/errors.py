"""Where errors become HTTP: one middleware maps the exception tree to JSON responses.

Body: ``{"error": {"code", "message", "details"}}``. A dependency that is down answers
503 with ``Retry-After``; anything unexpected is logged with its traceback and answers
500 (a bug by definition). A value PostgreSQL refuses as data (SQLSTATE class 22: out of
range, a character it cannot hold) is the client's, so it answers 400; that it got past
the checks of ``dispatch/bounds.py`` is a bug all the same, logged as ``bug.data_exception``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from http import HTTPStatus

import asyncpg
import redis.exceptions
import structlog
from aiohttp import web
from aiohttp.http_exceptions import InvalidURLError
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest

from dispatch.api.responses import UNREADABLE_BODY, json_response
from dispatch.errors import ApiError, BadRequest

log = structlog.get_logger("dispatch.api")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    411: "length_required",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}

# Errors that mean PostgreSQL or Redis is unreachable right now: the client should retry.
_UNAVAILABLE = (
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or is gone
    asyncpg.OperatorInterventionError,  # class 57: shutdown, cannot connect now
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    # A connection the server dropped mid-operation can leave asyncpg's protocol in a state
    # it reports this way; the next connection is fine.
    asyncpg.InternalClientError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterDownError,  # a Cluster slot's primary is down, no replica took over yet
    ConnectionError,
    OSError,
    asyncio.TimeoutError,
)


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[object] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """The one shape of every error body."""
    body = {"error": {"code": code, "message": message, "details": details or []}}
    return json_response(body, status=status, headers=headers)


def _protocol_error(
    self: RequestHandler,
    request: BaseRequest,
    status: int = 500,
    exc: BaseException | None = None,
    message: str | None = None,
) -> web.StreamResponse:
    """What aiohttp answers when a request cannot reach the app at all, in the one error shape.

    A request line or header aiohttp's parser refuses (raw non-ASCII in the URL, a line over
    8 KiB, bytes HTTP forbids, no ``Host``) is the client's mistake: one warning line
    ``http.malformed_request``, no traceback, so that a traceback in the log always means a bug.
    """
    if status >= 500:
        self.log_exception("Error handling request from %s", request.remote, exc_info=exc)
        body = error_response(status, "internal", "internal error; it has been logged")
    else:
        reason = (message or HTTPStatus(status).phrase).splitlines()[0][:200]
        log.warning("http.malformed_request", status=status, reason=reason, error=type(exc).__name__)
        text = "the request cannot be parsed as HTTP: " + reason.split(":", 1)[0].strip()
        if isinstance(exc, InvalidURLError):
            text += " (percent-encode every character outside ASCII as UTF-8, e.g. 驿 as %E9%A9%BF)"
        body = error_response(status, _HTTP_CODES.get(status, "http_error"), text)
    if request.writer.output_size > 0:
        raise ConnectionError("the response has begun: no error response can follow")
    body.force_close()
    return body


def install_protocol_errors() -> None:
    """Answer requests aiohttp's own HTTP layer refuses in the JSON error shape.

    aiohttp builds those answers (plain text) in ``RequestHandler.handle_error`` before any
    middleware runs, and offers no hook for them; this replaces that one method.
    """
    RequestHandler.handle_error = _protocol_error  # type: ignore[method-assign]


def data_exception(exc: asyncpg.DataError) -> BadRequest:
    """The 400 for a value PostgreSQL refused as data (class 22), logged as the bug it is:
    the bounds at the edge should have caught it."""
    log.error("bug.data_exception", sqlstate=getattr(exc, "sqlstate", None), error=type(exc).__name__)
    return BadRequest("a value in the request is out of range or cannot be stored", code="invalid_value")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn every failure into the JSON error shape with the right status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)
    except asyncpg.DataError as exc:
        error = data_exception(exc)
        return error_response(error.status, error.code, error.message)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        message = exc.reason
        if exc.status == 413:
            message = "the request body is too large"
        return error_response(exc.status, _HTTP_CODES.get(exc.status, "http_error"), message, headers=headers)
    except _UNAVAILABLE as exc:
        log.warning("request.dependency_unavailable", error=repr(exc))
        return error_response(
            503,
            "unavailable",
            "a service dependency is unavailable; retry shortly",
            headers={"Retry-After": "2"},
        )
    except asyncio.CancelledError:
        raise
    except UNREADABLE_BODY as exc:
        if request.content.exception() is None:
            log.exception("request.failed")
            return error_response(500, "internal", "internal error; it has been logged")
        # Read outside ``responses.read_json`` / ``read_form`` (a view reading the raw body).
        message = f"the request body cannot be read: {type(exc).__name__}"
        return error_response(400, "unreadable_body", message)
    except Exception:
        log.exception("request.failed")
        return error_response(500, "internal", "internal error; it has been logged")
