"""JSON in and out: one encoder (orjson) and one way to read a request body."""

from __future__ import annotations

from typing import Any, TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dispatch.app_keys import SETTINGS
from dispatch.encoding import dumps
from dispatch.errors import BadRequest, PayloadTooLarge, ValidationFailed

M = TypeVar("M", bound=BaseModel)


def json_response(data: Any, *, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response with the service's encoder."""
    return web.Response(body=dumps(data), status=status, headers=headers, content_type="application/json")


async def read_json(request: web.Request) -> Any:
    """The request body as JSON; 400 if it is not JSON, 413 if it is too large."""
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        limit = request.app[SETTINGS].max_body_bytes
        message = f"the request body is larger than {limit} bytes"
        raise PayloadTooLarge(message, details=[{"limit": limit}]) from None
    if not raw.strip():
        raise BadRequest("the request body is empty; send a JSON object", code="malformed_json")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"the request body is not valid JSON: {exc}", code="malformed_json") from None


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
