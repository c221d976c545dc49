"""Ticket numbers past the six-digit serial: a province passes 999999 tickets within months,
and every number must stay its own (found by the history bench: creation failed there)."""

from __future__ import annotations

import aiohttp
import asyncpg

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


async def test_serials_past_999999_keep_all_their_digits(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    before = await pool.fetchval("SELECT last_value FROM ticket_number_seq")
    await pool.execute("SELECT setval('ticket_number_seq', 999998)")
    numbers = []
    try:
        for _ in range(3):
            status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
            assert status == 201, ticket
            numbers.append(ticket["number"])
    finally:  # the other tests' numbers stay six digits
        await pool.execute("SELECT setval('ticket_number_seq', $1)", before)
    assert [n.rsplit("-", 1)[1] for n in numbers] == ["999999", "1000000", "1000001"]
