"""What a channel hands the intake service: a new ticket as the caller and the call-taker (or
the partner system, or the other centre) gave it, before anything is decided."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from dispatch.store.answers import Answer


@dataclass(frozen=True, slots=True)
class NewTicket:
    """A request to file a ticket. ``category``, ``priority`` and ``agencies`` are the choices
    given (None: the router proposes); ``queue`` files it to the 待分派 queue undispatched;
    ``answer`` files it as a consultation answered at first contact."""

    description: str
    channel: str
    address: str = ""
    district: str | None = None
    lat: float | None = None
    lon: float | None = None
    caller_phone: str | None = None
    caller_name: str | None = None
    no_phone_reason: str | None = None
    category: str | None = None
    priority: str | None = None
    agencies: Sequence[str] | None = None
    queue: bool = False
    answer: Answer | None = None
    facts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Events the channel adds after ``ticket.created`` and ``assignment.created`` (type, data).
    events: Sequence[tuple[str, dict[str, Any]]] = ()
    idempotency_key: str | None = None
    request_hash: bytes | None = None
