"""Webhook signatures (pure): what a receiver accepts and refuses."""

from __future__ import annotations

import time

from dispatch.delivery.signing import signed_headers, verify
from tests.agencies import conftest

SECRET = "whsec_" + "k" * 43
BODY = b'{"type":"assignment.created","cursor":"7"}'


def _headers(now: float | None = None) -> dict[str, str]:
    return signed_headers(SECRET, BODY, delivery_id="7.1", event_type="assignment.created", agency="health", now=now)


def test_a_fresh_signature_of_the_same_body_is_accepted() -> None:
    headers = _headers()
    assert headers["X-Dispatch-Signature"].startswith("v1=")
    assert verify(SECRET, headers, BODY)
    assert conftest.verify(SECRET, headers, BODY)  # the receiver of docs/agencies.md agrees


def test_another_body_or_secret_is_refused() -> None:
    headers = _headers()
    assert not verify(SECRET, headers, BODY + b" ")
    assert not verify(SECRET + "x", headers, BODY)


def test_a_signature_older_than_five_minutes_is_refused() -> None:
    old = _headers(now=time.time() - 301)
    assert not verify(SECRET, old, BODY)
    assert not conftest.verify(SECRET, old, BODY)
    assert verify(SECRET, _headers(now=time.time() - 250), BODY)


def test_missing_or_garbled_headers_are_refused() -> None:
    assert not verify(SECRET, {}, BODY)
    assert not verify(SECRET, {**_headers(), "X-Dispatch-Timestamp": "soon"}, BODY)
