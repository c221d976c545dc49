"""Reading path and query parameters with the same errors as bodies (422 with the field)."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dispatch.api.responses import validation_details
from dispatch.errors import NotFound, ValidationFailed

Q = TypeVar("Q", bound=BaseModel)
MAX_ID = 2**63 - 1


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the path; 404 (not 500) for anything that is not one."""
    raw = request.match_info[name]
    if not raw.isascii() or not raw.isdigit() or not 0 < int(raw) <= MAX_ID:
        raise NotFound(f"no such {name.removesuffix('_id') or 'item'}: {raw!r}")
    return int(raw)


def query(request: web.Request, model: type[Q]) -> Q:
    """The query string validated as ``model``; a repeated parameter keeps its last value."""
    try:
        return model.model_validate(dict(request.query.items()))
    except PydanticValidationError as exc:
        raise ValidationFailed("bad query parameter", details=validation_details(exc)) from None
