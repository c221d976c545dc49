"""Races, proved with requests that really run at the same time."""

import asyncio

import aiohttp
import asyncpg

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


async def _ticket(http: aiohttp.ClientSession, token: str, **overrides: object) -> dict:
    status, ticket = await call(http, "POST", "/api/v1/tickets", token, ticket_body(**overrides))
    assert status == 201, ticket
    return ticket


async def test_concurrent_acknowledges_yield_exactly_one_success(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    desks = [(await make_user("desk", agency="police"))[1] for _ in range(8)]
    for _ in range(5):
        ticket = await _ticket(http, taker)
        lead = ticket["assignments"][0]["id"]
        results = await asyncio.gather(
            *(call(http, "POST", f"/api/v1/assignments/{lead}/acknowledge", token, {}) for token in desks)
        )
        statuses = sorted(status for status, _ in results)
        assert statuses == [200] + [409] * (len(desks) - 1)
        assert all(body["error"]["code"] == "illegal_transition" for status, body in results if status == 409)
        events = await pool.fetchval(
            "SELECT count(*) FROM events WHERE assignment_id = $1 AND type = 'assignment.acknowledged'", lead
        )
        assert events == 1


async def test_acknowledge_racing_resolve_never_leaves_an_unasked_state(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, desk_a = await make_user("desk", agency="police")
    _, desk_b = await make_user("desk", agency="police")
    for _ in range(10):
        ticket = await _ticket(http, taker)
        lead = ticket["assignments"][0]["id"]
        (ack_status, _), (resolve_status, _) = await asyncio.gather(
            call(http, "POST", f"/api/v1/assignments/{lead}/acknowledge", desk_a, {}),
            call(http, "POST", f"/api/v1/assignments/{lead}/resolve", desk_b, {"resolution": "done"}),
        )
        state = await pool.fetchval("SELECT state FROM assignments WHERE id = $1", lead)
        assert ack_status == 200
        # Resolve succeeds only if it ran after the acknowledge; it never skips the lifecycle.
        assert (resolve_status, state) in ((409, "acknowledged"), (200, "resolved"))
        transitions = await pool.fetch(
            "SELECT type FROM events WHERE assignment_id = $1 AND type <> 'assignment.created' ORDER BY id", lead
        )
        expected = ["assignment.acknowledged"] + (["assignment.resolved"] if resolve_status == 200 else [])
        assert [t["type"] for t in transitions] == expected


async def test_concurrent_resolves_of_two_assignments_resolve_the_ticket(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")
    for _ in range(5):
        ticket = await _ticket(http, taker)
        lead, assist = (a["id"] for a in ticket["assignments"])
        await call(http, "POST", f"/api/v1/assignments/{lead}/acknowledge", police, {})
        await call(http, "POST", f"/api/v1/assignments/{assist}/acknowledge", health, {})
        await asyncio.gather(
            call(http, "POST", f"/api/v1/assignments/{lead}/resolve", police, {"resolution": "a"}),
            call(http, "POST", f"/api/v1/assignments/{assist}/resolve", health, {"resolution": "b"}),
        )
        _, final = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", taker)
        assert final["status"] == "resolved"


async def test_same_idempotency_key_yields_one_ticket_sequentially_and_concurrently(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    body = ticket_body()
    first_status, first = await call(http, "POST", "/api/v1/tickets", taker, body, {"Idempotency-Key": "call-1"})
    again_status, again = await call(http, "POST", "/api/v1/tickets", taker, body, {"Idempotency-Key": "call-1"})
    assert (first_status, again_status) == (201, 200)
    assert again["id"] == first["id"] and again["number"] == first["number"]

    results = await asyncio.gather(
        *(call(http, "POST", "/api/v1/tickets", taker, body, {"Idempotency-Key": "double-click"}) for _ in range(10))
    )
    statuses = sorted(status for status, _ in results)
    assert statuses == [200] * 9 + [201]
    assert len({ticket["id"] for _, ticket in results}) == 1
    count = await pool.fetchval("SELECT count(*) FROM tickets WHERE idempotency_key = 'double-click'")
    assert count == 1
    events = await pool.fetchval(
        "SELECT count(*) FROM events WHERE ticket_id = $1 AND type = 'ticket.created'", results[0][1]["id"]
    )
    assert events == 1


async def test_idempotency_key_reused_for_another_request_is_refused(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    await call(http, "POST", "/api/v1/tickets", taker, ticket_body(), {"Idempotency-Key": "k"})
    status, error = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(description="另一件事"), {"Idempotency-Key": "k"}
    )
    assert status == 409 and error["error"]["code"] == "idempotency_key_reused"
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 1


async def test_idempotency_keys_belong_to_their_user(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker_a = await make_user("call_taker")
    _, taker_b = await make_user("call_taker")
    _, a = await call(http, "POST", "/api/v1/tickets", taker_a, ticket_body(), {"Idempotency-Key": "same"})
    status, b = await call(http, "POST", "/api/v1/tickets", taker_b, ticket_body(), {"Idempotency-Key": "same"})
    assert status == 201 and b["id"] != a["id"]
