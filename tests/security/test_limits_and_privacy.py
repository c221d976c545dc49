"""Limits on what one client may take, and personal data kept to those who need it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest
import websockets
from aiohttp.test_utils import TestServer

from dispatch.privacy.personal_data import mask_name, mask_phone
from dispatch.privacy.retention import purge_closed
from dispatch.runtime.app import create_app
from dispatch.runtime.settings import Settings
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory, auth
from tests.ws_helpers import collect_events, connect, next_messages


@pytest.fixture
async def strict_server(settings: Settings, clean: None) -> AsyncIterator[TestServer]:
    strict = settings.model_copy(update={"ws_max_per_user": 2, "ws_commands_per_s": 2.0})
    server = TestServer(create_app(strict), host="127.0.0.1", port=0)
    await server.start_server()
    yield server
    await server.close()


async def test_open_websockets_per_user_are_limited(strict_server: TestServer, make_user: UserFactory) -> None:
    _, desk = await make_user("desk", agency="police")
    base = str(strict_server.make_url("/"))
    first, second = await connect(base, desk), await connect(base, desk)
    try:
        with pytest.raises(websockets.InvalidStatus) as refused:
            await connect(base, desk)
        assert refused.value.response.status_code == 429
    finally:
        await first.close()
        await second.close()


async def test_websocket_commands_are_rate_limited(strict_server: TestServer, make_user: UserFactory) -> None:
    _, desk = await make_user("desk", agency="police")
    async with await connect(str(strict_server.make_url("/")), desk) as ws:
        for n in range(20):
            await ws.send(json.dumps({"type": "ping", "request_id": n}))
        replies = []
        while len(replies) < 20:
            replies += await next_messages(ws, 5)
    limited = [r for r in replies if r.get("error", {}).get("code") == "rate_limited"]
    assert 0 < len(limited) < 20


async def test_deeply_nested_json_is_refused_cleanly(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    deep = "[" * 5000 + "]" * 5000
    async with http.post("/api/v1/tickets", data=deep, headers=auth(taker)) as response:
        assert response.status in (400, 422)


def test_masks_keep_enough_to_recognise_a_repeat_caller() -> None:
    assert mask_phone("+8613812345678") == "+86138****5678"
    assert mask_name("李建国") == "李**"
    assert mask_phone(None) is None


async def test_live_feed_carries_no_caller_phone_or_name(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, health = await make_user("desk", agency="health")
    async with await connect(str(server.make_url("/")), health) as ws:
        await call(
            http, "POST", "/api/v1/tickets", taker, ticket_body(caller={"phone": "13812345678", "name": "李建国"})
        )
        events = await collect_events(ws, 3)
    raw = json.dumps(events, ensure_ascii=False)
    assert "13812345678" not in raw and "李建国" not in raw
    assert events[0]["ticket"]["caller"] == {"phone": "+86138****5678", "name": "李**"}


async def test_purge_anonymises_only_closed_tickets_past_retention(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, old = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    _, recent = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    _, still_open = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    await call(
        http,
        "POST",
        f"/api/v1/tickets/{old['id']}/reports",
        taker,
        {"description": "再报", "caller": {"phone": "13900000000"}},
    )
    await pool.execute(
        "UPDATE tickets SET status = 'closed', closed_at = now() - interval '200 days' WHERE id = $1", old["id"]
    )
    await pool.execute("UPDATE tickets SET status = 'closed', closed_at = now() WHERE id = $1", recent["id"])
    async with pool.acquire() as conn:
        assert await purge_closed(conn, older_than_days=180) == 1
    rows = {
        r["id"]: r for r in await pool.fetch("SELECT id, caller_phone, caller_name, category, priority FROM tickets")
    }
    assert rows[old["id"]]["caller_phone"] is None and rows[old["id"]]["caller_name"] is None
    assert rows[old["id"]]["category"] == "police.violence"  # statistics keep the rest
    assert rows[recent["id"]]["caller_phone"] and rows[still_open["id"]]["caller_phone"]
    assert await pool.fetchval("SELECT caller_phone FROM reports WHERE ticket_id = $1", old["id"]) is None
    async with pool.acquire() as conn:
        assert await purge_closed(conn, older_than_days=180) == 0  # idempotent
    await asyncio.sleep(0)
