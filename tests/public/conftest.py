"""Helpers for citizens' and partners' tests: tickets in the states a citizen meets them in."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.api_helpers import call, ticket_body

CALLER_PHONE_DIGITS = ("13800000000", "138 0000 0000", "8613800000000")
CALLER_NAME = "李先生"
# The resolving desk's words, with the caller's name and number in them, as desks write.
RESOLUTION = "已联系李先生（13800000000）现场调解，双方和解"


def street_light_body(**overrides: Any) -> dict[str, Any]:
    """A routine request (one agency), from the default caller 李先生 / 138 0000 0000."""
    body = ticket_body(
        description="路灯不亮了，晚上很黑，我是李先生电话13800000000",
        category="urban.street_light",
        priority="P4",
        agencies=["urban"],
        location={"address": "驿城区解放路与交通路交叉口", "district": "驿城区", "lat": 32.98, "lon": 114.02},
    )
    body.update(overrides)
    return body


async def create(http: aiohttp.ClientSession, token: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    status, ticket = await call(http, "POST", "/api/v1/tickets", token, body or street_light_body())
    assert status == 201, ticket
    return dict(ticket)


async def resolve_all(
    http: aiohttp.ClientSession, supervisor: str, ticket: dict[str, Any], resolution: str = RESOLUTION
) -> dict[str, Any]:
    """Acknowledge and resolve every assignment of ``ticket`` as a supervisor; the final ticket."""
    result: dict[str, Any] = {}
    for assignment in ticket["assignments"]:
        base = f"/api/v1/assignments/{assignment['id']}"
        status, result = await call(http, "POST", f"{base}/acknowledge", supervisor, {})
        assert status == 200, result
        status, result = await call(http, "POST", f"{base}/resolve", supervisor, {"resolution": resolution})
        assert status == 200, result
    assert result["ticket"]["status"] == "resolved"
    return dict(result["ticket"])


def assert_no_personal_data(raw: bytes) -> None:
    """The caller's phone (in any notation) and name appear nowhere in ``raw``."""
    text = raw.decode("utf-8")
    for digits in CALLER_PHONE_DIGITS:
        assert digits not in text, f"phone {digits} leaked"
    assert CALLER_NAME not in text, "caller name leaked"
