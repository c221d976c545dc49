"""The one JSON encoder: orjson, datetimes as ISO 8601 with zone, pydantic models as dicts."""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel


def _default(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(data: Any) -> bytes:
    """Serialise to JSON bytes (UTF-8, no escapes)."""
    return orjson.dumps(data, default=_default, option=orjson.OPT_NON_STR_KEYS)
