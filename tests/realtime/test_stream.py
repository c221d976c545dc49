"""The live feed with real websocket clients: delivery, isolation, resume, replay."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp.test_utils import TestServer

from dispatch.runtime import redis_client
from dispatch.runtime.redis_client import RedisClient
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.ws_helpers import collect_events, connect, next_messages, quiet_for

LIGHT = {"description": "路灯不亮", "category": "urban.street_light", "priority": "P4", "agencies": ["urban"]}


def base(server: TestServer) -> str:
    return str(server.make_url("/"))


async def test_desk_receives_an_assignment_created_after_it_connected(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    async with await connect(base(server), police) as ws:
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        events = await collect_events(ws, 3)
    assert [e["type"] for e in events] == ["ticket.created", "assignment.created", "assignment.created"]
    created = events[1]
    assert created["ticket"]["id"] == ticket["id"]
    assert created["ticket"]["tracking_token"] is None and created["ticket"]["short_code"] is None
    assert created["assignment"]["agency"] == "police" and created["assignment"]["state"] == "dispatched"
    assert created["ticket"]["assignments"][0]["ack_due"]  # full state: no re-fetch needed
    assert [int(e["cursor"]) for e in events] == sorted(int(e["cursor"]) for e in events)


async def test_desk_never_receives_another_agencys_events(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, urban = await make_user("desk", agency="urban")
    async with await connect(base(server), police) as police_ws, await connect(base(server), urban) as urban_ws:
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        urban_events = await collect_events(urban_ws, 2)
        police_events = await collect_events(police_ws, 3)
        assert await quiet_for(urban_ws, 0.5) == []
    assert {e["ticket"]["category"] for e in urban_events} == {"urban.street_light"}
    assert {e["ticket"]["category"] for e in police_events} == {"police.violence"}


async def test_supervisor_sees_all_and_call_taker_sees_own(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, other_taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    async with await connect(base(server), supervisor) as sup_ws, await connect(base(server), taker) as taker_ws:
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
        await call(http, "POST", "/api/v1/tickets", other_taker, ticket_body(**LIGHT))
        assert len(await collect_events(sup_ws, 4)) == 4
        mine = await collect_events(taker_ws, 2)
        assert await quiet_for(taker_ws, 0.5) == []
    assert all(e["type"] in ("ticket.created", "assignment.created") for e in mine)


async def test_district_filter_narrows_a_desks_feed(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, urban = await make_user("desk", agency="urban")
    async with await connect(base(server), urban, districts="xiping") as ws:
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))  # 驿城区
        xiping = ticket_body(**LIGHT, location={"address": "西平县柏城街道", "district": "西平县"})
        await call(http, "POST", "/api/v1/tickets", taker, xiping)
        events = await collect_events(ws, 2)
        assert await quiet_for(ws, 0.5) == []
    assert {e["ticket"]["location"]["district"] for e in events} == {"xiping"}


async def _missed_events(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory, redis: RedisClient, *, flush: bool
) -> None:
    _, taker = await make_user("call_taker")
    _, urban = await make_user("desk", agency="urban")
    async with await connect(base(server), urban) as ws:
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
        seen = await collect_events(ws, 2)
    cursor = seen[-1]["cursor"]
    # 50 tickets → 100 events for urban while the desk is away, plus noise for police.
    for i in range(50):
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**(LIGHT | {"description": f"路灯{i}不亮"})))
        if i % 10 == 0:
            await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    await asyncio.sleep(0.5)  # let the relay publish
    if flush:
        await redis_client.flush(redis)
    async with await connect(base(server), urban, cursor=cursor) as ws:
        replayed = await collect_events(ws, 100)
        assert await quiet_for(ws, 0.7) == []
        # and then live events flow again
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
        live = await collect_events(ws, 2)
    cursors = [int(e["cursor"]) for e in replayed]
    assert cursors == sorted(cursors) and len(set(cursors)) == 100
    assert all(int(c) > int(cursor) for c in cursors)
    assert [e["type"] for e in replayed].count("ticket.created") == 50
    assert {e["ticket"]["category"] for e in replayed} == {"urban.street_light"}
    assert int(live[0]["cursor"]) > cursors[-1]


async def test_reconnecting_desk_gets_exactly_the_100_missed_events_in_order(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory, redis: RedisClient
) -> None:
    await _missed_events(server, http, make_user, redis, flush=False)


async def test_missed_events_replay_from_postgresql_after_redis_was_flushed(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory, redis: RedisClient
) -> None:
    await _missed_events(server, http, make_user, redis, flush=True)


async def test_resume_while_events_keep_coming_has_no_gap_and_no_duplicate(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    for i in range(30):
        await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**(LIGHT | {"description": f"灯{i}"})))
    await asyncio.sleep(0.3)

    async def keep_creating() -> None:
        for i in range(20):
            await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**(LIGHT | {"description": f"新{i}"})))

    producer = asyncio.create_task(keep_creating())
    async with await connect(base(server), supervisor, cursor=0) as ws:
        events = await collect_events(ws, 100, timeout=30)
        await producer
        events += await collect_events(ws, 0)
        events += await quiet_for(ws, 1.0)
    cursors = [int(e["cursor"]) for e in events]
    assert len(cursors) == 100 == len(set(cursors))
    assert cursors == sorted(cursors)


async def test_commands_over_the_socket_match_rest(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, urban = await make_user("desk", agency="urban")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
    assignment_id = ticket["assignments"][0]["id"]
    async with await connect(base(server), urban) as ws:

        async def command(body: dict) -> dict:
            await ws.send(json.dumps(body))
            while True:
                for message in await next_messages(ws, 10):
                    if message.get("type") in ("reply", "pong"):
                        return message

        assert (await command({"type": "ping", "request_id": "p"}))["type"] == "pong"
        ok = await command({"type": "acknowledge", "assignment_id": assignment_id, "request_id": 1})
        assert ok["ok"] is True and ok["request_id"] == 1 and ok["assignment"]["state"] == "acknowledged"
        again = await command({"type": "acknowledge", "assignment_id": assignment_id, "request_id": 2})
        assert again["ok"] is False and again["error"]["code"] == "illegal_transition"
        bad = await command({"type": "resolve", "assignment_id": assignment_id})
        assert bad["error"]["code"] == "validation_failed"
        unknown = await command({"type": "explode"})
        assert unknown["error"]["code"] == "unknown_command"
        garbage = await command({"type": "acknowledge", "assignment_id": "x"})
        assert garbage["error"]["code"] == "validation_failed"
        done = await command({"type": "resolve", "assignment_id": assignment_id, "resolution": "已修复"})
        assert done["ok"] is True
    _, after = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", taker)
    assert after["status"] == "resolved"


async def test_stream_without_a_valid_token_is_refused_before_upgrade(
    server: TestServer, http: aiohttp.ClientSession
) -> None:
    async with http.get("/api/v1/stream?token=nope") as response:
        assert response.status == 401
    async with http.get("/api/v1/stream") as response:
        assert response.status == 401
