"""Reading path and query parameters with the same errors as bodies (422 with the field).

Every view reads its path ids and query strings here, so that the limits of
``dispatch/bounds.py`` hold for all of them: an id is a positive ``bigint`` or the thing is
not found, a query value carries no character a stored text may not, and a query model's
dates lie in the service's window (``schemas.Moment``).
"""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from dispatch.api.responses import validation_details
from dispatch.bounds import MAX_BIGINT, parse_id
from dispatch.errors import NotFound, ValidationFailed
from dispatch.normalise import strip_unsafe

Q = TypeVar("Q", bound=BaseModel)
MAX_ID = MAX_BIGINT


def path_id(request: web.Request, name: str = "id") -> int:
    """A numeric id from the path; 404 (not 500) for anything that is not one."""
    raw = request.match_info[name]
    value = parse_id(raw)
    if value is None:
        raise NotFound(f"no such {name.removesuffix('_id') or 'item'}: {raw[:40]!r}")
    return value


def path_text(request: web.Request, name: str, *, max_length: int = 64) -> str:
    """A name from the path (a code, a number, a token); 404 when it is too long or carries a
    character no stored text may (it cannot name anything then)."""
    raw = request.match_info[name]
    if not raw or len(raw) > max_length or strip_unsafe(raw) != raw:
        raise NotFound(f"no such {name}: {raw[:40]!r}")
    return raw


def query(request: web.Request, model: type[Q]) -> Q:
    """The query string validated as ``model``; a repeated parameter keeps its last value.

    Values lose the characters no stored text may carry before the model sees them."""
    try:
        return model.model_validate({key: strip_unsafe(value) for key, value in request.query.items()})
    except PydanticValidationError as exc:
        raise ValidationFailed("bad query parameter", details=validation_details(exc)) from None
