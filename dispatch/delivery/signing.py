"""Webhook signatures: HMAC-SHA256 over ``timestamp + "." + body``.

Headers sent with every delivery:

- ``X-Dispatch-Timestamp``: Unix seconds when this attempt was signed;
- ``X-Dispatch-Signature``: ``v1=<hex HMAC-SHA256(secret, timestamp + "." + body)>``;
- ``X-Dispatch-Delivery-Id``: ``<cursor>.<webhook id>``, the same on every attempt and replay,
  so that a receiver drops repeats;
- ``X-Dispatch-Event``, ``X-Dispatch-Agency``: the event type and the agency, for routing.

A receiver recomputes the HMAC over the raw body, compares in constant time and refuses
timestamps more than five minutes away from its clock (:func:`verify` does all three).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from typing import Final

SIGNATURE_HEADER: Final = "X-Dispatch-Signature"
TIMESTAMP_HEADER: Final = "X-Dispatch-Timestamp"
DELIVERY_ID_HEADER: Final = "X-Dispatch-Delivery-Id"
EVENT_HEADER: Final = "X-Dispatch-Event"
AGENCY_HEADER: Final = "X-Dispatch-Agency"
TOLERANCE_S: Final = 300
SCHEME: Final = "v1"


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """The signature header value for this body at this timestamp: ``v1=<hex>``."""
    message = str(timestamp).encode("ascii") + b"." + body
    return f"{SCHEME}=" + hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: bytes, *, delivery_id: str, event_type: str, agency: str, now: float | None = None
) -> dict[str, str]:
    """Every header of one delivery attempt, signed now (or at ``now``)."""
    timestamp = int(time.time() if now is None else now)
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_ID_HEADER: delivery_id,
        EVENT_HEADER: event_type,
        AGENCY_HEADER: agency,
    }


def verify(
    secret: str, headers: Mapping[str, str], body: bytes, *, now: float | None = None, tolerance_s: int = TOLERANCE_S
) -> bool:
    """True when the headers carry a valid signature of ``body`` made within ``tolerance_s``.

    What a receiver runs before trusting a delivery (header names are case-insensitive in
    aiohttp's and most frameworks' header mappings).
    """
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    if not timestamp.isascii() or not timestamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, timestamp, body), given)
