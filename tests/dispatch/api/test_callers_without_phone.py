"""Callers without a usable mobile number: a reason instead of a number, landlines with or
without the area code, short service numbers; bad numbers refused with a typed error."""

from __future__ import annotations

import aiohttp
import asyncpg
import pytest

from dispatch.normalise import normalise_phone
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("138 0000 0000", "+8613800000000"),
        ("0396-2345678", "+863962345678"),
        ("(0396)2345678", "+863962345678"),
        ("（0396）2345678", "+863962345678"),
        ("2345678", "+863962345678"),  # a local number: Zhumadian's area code
        ("2345 6789", "+8639623456789"),
        ("0396 2345 6789", "+8639623456789"),
        ("010-12345678", "+861012345678"),
        ("12345", "12345"),
        ("95598", "95598"),
        ("１００８６", "10086"),
    ],
)
def test_landlines_and_service_numbers_are_normalised(raw: str, stored: str) -> None:
    assert normalise_phone(raw) == stored


@pytest.mark.parametrize("raw", ["110", "120", "12", "1234567", "0000000", "電話", "+86 138"])
def test_numbers_that_cannot_be_called_back_are_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        normalise_phone(raw)


@pytest.mark.parametrize("reason", ["not_shown", "refused", "payphone", "on_behalf"])
async def test_a_call_without_a_number_needs_only_a_reason(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, reason: str
) -> None:
    _, taker = await make_user("call_taker")
    status, ticket = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(caller={"no_phone_reason": reason, "name": "匿名"})
    )
    assert status == 201, ticket
    assert ticket["caller"] == {"phone": None, "name": "匿名", "no_phone_reason": reason}
    stored = await pool.fetchrow("SELECT caller_phone, caller_no_phone_reason FROM tickets WHERE id = $1", ticket["id"])
    assert tuple(stored) == (None, reason)


async def test_a_landline_is_stored_as_e164(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(caller={"phone": "2345678"}))
    assert status == 201
    assert ticket["caller"]["phone"] == "+863962345678"
    _, page = await call(http, "GET", "/api/v1/tickets?phone=0396-2345678", taker)
    assert [t["id"] for t in page["items"]] == [ticket["id"]]


async def test_a_report_without_a_number_keeps_its_reason(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    body = {"description": "又有人打电话说这事", "caller": {"no_phone_reason": "payphone"}}
    status, report = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reports", taker, body)
    assert status == 201
    assert report["no_phone_reason"] == "payphone" and report["caller_phone"] is None
    _, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", taker)
    assert full["reports"][0]["no_phone_reason"] == "payphone"


async def _counts(pool: asyncpg.Pool) -> tuple[int, int, int]:
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM events), (SELECT count(*) FROM reports)"
    )
    return tuple(row)


@pytest.mark.parametrize(
    ("caller", "field", "kind"),
    [
        ({}, "caller", "phone_or_reason"),
        ({"name": "王"}, "caller", "phone_or_reason"),
        ({"phone": "13800000000", "no_phone_reason": "refused"}, "caller", "phone_and_reason"),
        ({"phone": "110"}, "caller.phone", "phone_invalid"),
        ({"phone": "12"}, "caller.phone", "phone_too_short"),
        ({"no_phone_reason": "forgot"}, "caller.no_phone_reason", "literal_error"),
    ],
)
async def test_a_caller_without_number_or_reason_is_refused_with_a_typed_detail(
    http: aiohttp.ClientSession,
    make_user: UserFactory,
    pool: asyncpg.Pool,
    caller: dict[str, str],
    field: str,
    kind: str,
) -> None:
    _, taker = await make_user("call_taker")
    before = await _counts(pool)
    status, error = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(caller=caller))
    assert status == 422
    details = error["error"]["details"]
    expected = "string_too_short" if kind == "phone_too_short" else kind
    assert any(d["field"] == field and d["type"] == expected for d in details), details
    assert await _counts(pool) == before
