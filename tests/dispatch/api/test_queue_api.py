"""The 待分派 queue over REST: every ticket in status new is on it, oldest first, with why;
re-routing dispatches it again; errors change nothing."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


async def _queue(http: aiohttp.ClientSession, token: str) -> list[dict[str, Any]]:
    status, page = await call(http, "GET", "/api/v1/queue", token)
    assert status == 200, page
    items: list[dict[str, Any]] = page["items"]
    return items


async def _new_not_queued(pool: asyncpg.Pool, queued: list[dict[str, Any]]) -> list[int]:
    ids = {item["ticket"]["id"] for item in queued}
    rows = await pool.fetch("SELECT id FROM tickets WHERE status = 'new' ORDER BY id")
    return [r["id"] for r in rows if r["id"] not in ids]


async def _snapshot(pool: asyncpg.Pool) -> tuple[Any, ...]:
    row = await pool.fetchrow(
        """SELECT (SELECT count(*) FROM assignments), (SELECT count(*) FROM events),
                  (SELECT count(*) FROM outbox),
                  (SELECT string_agg(id || status || coalesce(category, '-') || priority, ',' ORDER BY id)
                   FROM tickets)"""
    )
    return tuple(row)


async def test_every_way_into_new_lands_on_the_queue_with_its_cause(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, supervisor = await make_user("supervisor")
    # returned by its lead
    _, returned = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"]))
    lead = returned["assignments"][0]["id"]
    await call(http, "POST", f"/api/v1/assignments/{lead}/return", police, {"reason": "不属公安职责"})
    # filed to the queue without a category, and with one
    _, unsure = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(category=None, agencies=None, queue=True)
    )
    _, held = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=None, queue=True))
    # its lead released by a supervisor
    _, released = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"]))
    await call(
        http,
        "POST",
        f"/api/v1/assignments/{released['assignments'][0]['id']}/release",
        supervisor,
        {"reason": "重复派单"},
    )
    # dispatched and merged into another: neither is in new
    _, target = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description="别处一起打架"))
    _, duplicate = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description="别处一起打架，又一个"))
    await call(http, "POST", f"/api/v1/tickets/{duplicate['id']}/merge", taker, {"into": target["id"]})

    assert unsure["status"] == "new" and unsure["assignments"] == [] and unsure["category"] is None
    queue = await _queue(http, taker)
    # oldest first by the time each entered the queue: the return came before the other filings
    assert [(i["ticket"]["id"], i["cause"]) for i in queue] == [
        (returned["id"], "returned"),
        (unsure["id"], "uncategorised"),
        (held["id"], "other"),
        (released["id"], "released"),
    ]
    by_id = {i["ticket"]["id"]: i for i in queue}
    assert by_id[returned["id"]]["reason"] == "不属公安职责" and by_id[returned["id"]]["agency"] == "police"
    assert by_id[released["id"]]["reason"] == "重复派单"
    assert by_id[unsure["id"]]["reason"] is None
    assert [i["since"] for i in queue] == sorted(i["since"] for i in queue)
    assert await _new_not_queued(pool, queue) == []
    types = await pool.fetch("SELECT ticket_id, data FROM events WHERE type = 'ticket.queued' ORDER BY id")
    assert [(r["ticket_id"], r["data"]["cause"]) for r in types] == [
        (returned["id"], "returned"),
        (unsure["id"], "uncategorised"),
        (held["id"], "other"),
        (released["id"], "released"),
    ]


async def test_the_queue_pages_oldest_first(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    ids = []
    for n in range(5):
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=f"事{n}", queue=True))
        ids.append(ticket["id"])
    seen: list[int] = []
    cursor = None
    while True:
        path = "/api/v1/queue?limit=2" + (f"&cursor={cursor}" if cursor else "")
        _, page = await call(http, "GET", path, taker)
        seen += [i["ticket"]["id"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_reroute_dispatches_a_returned_ticket_to_the_new_agency(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    body = ticket_body(description="小区门口路灯坏了好几天", category="police.dispute", priority="P3", agencies=None)
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    lead = ticket["assignments"][0]["id"]
    await call(http, "POST", f"/api/v1/assignments/{lead}/return", police, {"reason": "应由城管处理"})
    status, routed = await call(
        http,
        "POST",
        f"/api/v1/tickets/{ticket['id']}/reroute",
        taker,
        {"category": "urban.street_light", "district": "西平县"},
    )
    assert status == 200, routed
    assert routed["status"] == "dispatched"
    assert routed["category"] == "urban.street_light"
    assert routed["location"]["district"] == "xiping"
    assert routed["priority"] == "P4"  # the new category's default
    live = [(a["agency"], a["role"]) for a in routed["assignments"] if a["state"] == "dispatched"]
    assert live == [("urban", "lead")]
    assert [e["type"] for e in routed["timeline"]][-2:] == ["ticket.rerouted", "assignment.created"]
    assert await _queue(http, taker) == []


async def test_reroute_without_changes_keeps_category_and_priority(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(priority="P2", queue=True))
    status, routed = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reroute", taker, {})
    assert status == 200
    assert (routed["category"], routed["priority"]) == ("police.violence", "P2")
    assert routed["assignments"][0]["agency"] == "police"


async def test_reroute_with_agencies_given_uses_them_lead_first(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(queue=True, category=None))
    body = {"category": "emergency.fire", "agencies": ["emergency", "health"], "priority": "P1"}
    status, routed = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reroute", taker, body)
    assert status == 200
    assert [(a["agency"], a["role"]) for a in routed["assignments"]] == [("emergency", "lead"), ("health", "assist")]


async def test_a_second_reroute_is_409_and_changes_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(queue=True))
    path = f"/api/v1/tickets/{ticket['id']}/reroute"
    first, second = await asyncio.gather(
        call(http, "POST", path, taker, {"category": "police.dispute"}),
        call(http, "POST", path, taker, {"category": "police.dispute"}),
    )
    statuses = sorted([first[0], second[0]])
    assert statuses == [200, 409]
    refused = first if first[0] == 409 else second
    assert refused[1]["error"]["code"] == "not_in_queue"
    before = await _snapshot(pool)
    status, error = await call(http, "POST", path, taker, {"category": "urban.sanitation"})
    assert status == 409 and error["error"]["details"][0]["status"] == "dispatched"
    assert await _snapshot(pool) == before
    leads = await pool.fetchval("SELECT count(*) FROM assignments WHERE ticket_id = $1 AND role = 'lead'", ticket["id"])
    assert leads == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"category": "police.nothing"}, "category"),
        ({"agencies": ["police", "police"]}, "agencies"),
        ({"agencies": []}, "agencies"),
        ({"district": "火星"}, "district"),
        ({"priority": "P9"}, "priority"),
        ({"colour": "red"}, "colour"),
    ],
)
async def test_a_bad_reroute_is_422_and_changes_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, body: dict[str, Any], field: str
) -> None:
    _, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(queue=True))
    before = await _snapshot(pool)
    status, error = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reroute", taker, body)
    assert status == 422
    assert error["error"]["details"][0]["field"].startswith(field)
    assert await _snapshot(pool) == before


async def test_reroute_of_a_missing_ticket_is_404(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    status, error = await call(http, "POST", "/api/v1/tickets/999999/reroute", taker, {})
    assert status == 404 and error["error"]["code"] == "ticket_not_found"


@pytest.mark.parametrize("role", ["desk", "partner"])
async def test_desks_and_partners_neither_read_nor_reroute_the_queue(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, role: str
) -> None:
    _, taker = await make_user("call_taker")
    _, other = await make_user(role, **({"agency": "police"} if role == "desk" else {}))
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(queue=True))
    assert (await call(http, "GET", "/api/v1/queue", other))[0] == 403
    before = await _snapshot(pool)
    status, _ = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reroute", other, {})
    assert status == 403
    assert await _snapshot(pool) == before


async def test_call_takers_feed_carries_queue_events_of_tickets_they_did_not_file(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, first = await make_user("call_taker")
    _, second = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", first, ticket_body(agencies=["police"]))
    async with http.ws_connect(f"/api/v1/stream?token={second}") as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello"
        lead = ticket["assignments"][0]["id"]
        await call(http, "POST", f"/api/v1/assignments/{lead}/return", police, {"reason": "非本单位"})
        await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reroute", second, {"category": "urban.sanitation"})
        seen: list[str] = []
        while "ticket.rerouted" not in seen:
            message = await ws.receive_json(timeout=10)
            for event in message if isinstance(message, list) else [message]:
                seen.append(event["type"])
    # the second call-taker sees the ticket enter and leave the queue, not the desk's own moves
    assert seen[:2] == ["ticket.queued", "ticket.rerouted"], seen
    assert "assignment.returned" not in seen
