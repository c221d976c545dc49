"""JSON in and out: one encoder (orjson) and one way to read a request body (JSON or a form).

A body is held to ``dispatch/bounds.py`` before any model or encoder runs on it: at most
``max_body_bytes``, nesting at most ``MAX_JSON_DEPTH``, integers within ``bigint``, strings
without the characters no stored text may carry. A body that cannot be read at all (a
``Content-Encoding`` that does not decode, a form in an unknown charset) is a 400.
"""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError
from multidict import MultiDict, MultiDictProxy
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dispatch.bounds import OutOfBounds, bound_json
from dispatch.encoding import dumps
from dispatch.errors import BadRequest, PayloadTooLarge, ValidationFailed
from dispatch.normalise import strip_unsafe
from dispatch.runtime.app_keys import SETTINGS

M = TypeVar("M", bound=BaseModel)


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with the service's encoder."""
    return web.Response(body=dumps(data), status=status, headers=headers, content_type="application/json")


# What reading a body raises when the client sent something that cannot be read: a body that
# does not decode (Content-Encoding), a form in an unknown charset or with a broken multipart.
UNREADABLE_BODY = (RequestPayloadError, HttpProcessingError, ValueError, LookupError, AssertionError)


def _too_large(request: web.Request) -> PayloadTooLarge:
    limit = request.config_dict[SETTINGS].max_body_bytes
    return PayloadTooLarge(f"the request body is larger than {limit} bytes", details=[{"limit": limit}])


async def read_json(request: web.Request) -> Any:
    """The request body as JSON held to the bounds; 400 if it is not JSON or out of bounds,
    413 if it is too large."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large(request) from None
    except UNREADABLE_BODY as exc:
        raise BadRequest(f"the request body cannot be read: {type(exc).__name__}", code="unreadable_body") from None
    if not raw.strip():
        raise BadRequest("the request body is empty; send a JSON object", code="malformed_json")
    try:
        document = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}", code="malformed_json") from None
    try:
        return bound_json(document)
    except OutOfBounds as exc:
        raise BadRequest(
            f"the request body is out of bounds: {exc.message}",
            code="out_of_bounds",
            details=[{"field": exc.where[:200], "message": exc.message}],
        ) from None


async def read_form(request: web.Request, *, code: str = "malformed_form") -> MultiDictProxy[Any]:
    """A form body (urlencoded or multipart), its text values without the characters no
    stored text may carry; 400 ``code`` if it cannot be read, 413 if it is too large."""
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise _too_large(request) from None
    except UNREADABLE_BODY as exc:
        raise BadRequest(f"the form cannot be read: {type(exc).__name__}", code=code) from None
    cleaned: MultiDict[Any] = MultiDict()
    for key, value in form.items():
        cleaned.add(strip_unsafe(key), strip_unsafe(value) if isinstance(value, str) else value)
    return MultiDictProxy(cleaned)


def validation_details(exc: PydanticValidationError) -> list[dict[str, Any]]:
    """pydantic's errors as the API's ``details``: the field path, what is wrong, the type."""
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


async def read_model(request: web.Request, model: type[M]) -> M:
    """The request body validated as ``model``; 422 with field paths when it does not fit."""
    data = await read_json(request)
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise ValidationFailed("the request does not fit the schema", details=validation_details(exc)) from None
