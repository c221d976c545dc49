"""What the service's stores and encoders can hold, checked once at the edge.

A value that passes the first parse (a string of digits, a date, a JSON document) can still
be one PostgreSQL, orjson or an XML writer cannot take: an id past ``bigint``, a year 1 date
whose zone shift leaves the calendar, a document nested deeper than an encoder recurses.
Every channel (REST, Open311, EIDO, consoles) checks its input against these limits before
anything runs on it, so that such a value is a 4xx and never reaches the database.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Final

from dispatch.normalise import strip_unsafe

MAX_BIGINT: Final = 2**63 - 1  # PostgreSQL bigint (every id column)
MIN_BIGINT: Final = -(2**63)
# Dates outside these years are typing mistakes (no ticket predates the Unix epoch), and would
# overflow date arithmetic (a zone shift of 9999-12-31, a default window before 0001-01-01).
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(2200, 1, 1, tzinfo=UTC)
# Far deeper than any body the API takes (an EIDO is about six levels), far shallower than
# where orjson (255) or pydantic's serialiser give up.
MAX_JSON_DEPTH: Final = 32
_MAX_ID_DIGITS: Final = len(str(MAX_BIGINT))


class OutOfBounds(ValueError):
    """A value the stores cannot hold; ``where`` names it (a JSON path or a parameter)."""

    def __init__(self, where: str, message: str) -> None:
        super().__init__(message)
        self.where = where
        self.message = message


def parse_id(raw: str) -> int | None:
    """The positive ``bigint`` that ``raw`` spells in ASCII digits, else None.

    Never converts a long string (Python refuses more than 4300 digits, and anything past
    19 digits is no id anyway)."""
    if not raw or len(raw) > _MAX_ID_DIGITS or not raw.isascii() or not raw.isdigit():
        return None
    value = int(raw)
    return value if 0 < value <= MAX_BIGINT else None


def in_window(moment: datetime) -> bool:
    """Whether a moment lies in the years the service deals in (naive ones taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    try:
        return EARLIEST <= aware <= LATEST
    except OverflowError:  # a zone offset that pushes past year 1 or 9999
        return False


def check_window(moment: datetime) -> datetime:
    """``moment`` unchanged, or ValueError naming the window (for pydantic validators)."""
    if not in_window(moment):
        raise ValueError(f"must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return moment


def bound_json(value: Any, path: str = "body", depth: int = 0) -> Any:
    """A decoded JSON document fit for every store: strings without the characters no text
    may carry (``normalise.strip_unsafe``, keys too), integers within ``bigint``, nesting at
    most ``MAX_JSON_DEPTH``. Raises :class:`OutOfBounds` for what cannot be made to fit."""
    if depth > MAX_JSON_DEPTH:
        raise OutOfBounds(path, f"nested deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        return strip_unsafe(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        if not MIN_BIGINT <= value <= MAX_BIGINT:
            raise OutOfBounds(path, "an integer beyond the 64-bit range")
        return value
    if isinstance(value, list):
        return [bound_json(item, f"{path}.{index}", depth + 1) for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {
            strip_unsafe(key): bound_json(item, f"{path}.{strip_unsafe(key)[:64]}", depth + 1)
            for key, item in value.items()
        }
    return value
