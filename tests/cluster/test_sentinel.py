"""The service behind a Sentinel: it finds the primary through the Sentinel (with the
Sentinel's password and the primary's, each where it belongs), publishes events there and
serves them live and on resume."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from dispatch.access.ratelimit import Limiter, limiter_storage, rule
from dispatch.errors import RateLimited
from dispatch.pipeline.bus import ALL_STREAM
from dispatch.runtime.app import create_app
from dispatch.runtime.server import prepare_database
from dispatch.runtime.settings import Settings, load_settings
from tests.api_helpers import call, new_user_token, ticket_body
from tests.cluster.servers import SentinelInfo
from tests.ws_helpers import collect_events, connect


@pytest.mark.timeout(60)
async def test_events_go_through_the_primary_a_sentinel_names(
    sentinel: SentinelInfo, settings: Settings, scratch_databases: Callable[[], Awaitable[str]]
) -> None:
    assert load_settings(redis_url=sentinel.url, _env_file=None).redis_url == sentinel.url
    # A database of its own: its relay leads there, whatever the session's server does.
    dsn = await scratch_databases()
    await prepare_database(dsn)
    taker = await new_user_token(dsn, "taker", "call_taker")
    desk = await new_user_token(dsn, "desk", "desk", "police")
    supervisor = await new_user_token(dsn, "supervisor", "supervisor")
    own = settings.model_copy(
        update={"database_url": dsn, "redis_url": sentinel.url, "deadline_watcher": False, "delivery": False}
    )
    server = TestServer(create_app(own), host="127.0.0.1", port=0)
    await server.start_server()
    primary = Redis(port=sentinel.primary_port, password=sentinel.password, decode_responses=True)
    try:
        base = str(server.make_url("/"))
        async with aiohttp.ClientSession(base_url=base) as http:
            async with http.get("/readyz") as response:
                assert response.status == 200, await response.text()
            async with await connect(base, desk) as ws:
                status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
                assert status == 201
                live = await collect_events(ws, 3)
        assert {e["ticket"]["id"] for e in live} == {ticket["id"]}
        # The entries are on the primary itself, and a resume reads them back through the Sentinel.
        assert await primary.xlen(ALL_STREAM) == 3
        async with await connect(base, supervisor, cursor=0) as ws:
            replayed = await collect_events(ws, 3)
        assert [e["cursor"] for e in replayed] == [e["cursor"] for e in live]
    finally:
        await primary.aclose()
        await server.close()


@pytest.mark.timeout(30)
async def test_rate_limits_count_through_a_sentinel(sentinel: SentinelInfo) -> None:
    limiter = Limiter(limiter_storage(sentinel.url))
    primary = Redis(port=sentinel.primary_port, password=sentinel.password, decode_responses=True)
    try:
        two = rule("sentinel-test", "2/minute")
        await limiter.hit(two, "198.51.100.8")
        await limiter.hit(two, "198.51.100.8")
        # The limiter lets requests through when Redis fails: a refusal proves it counted there.
        with pytest.raises(RateLimited):
            await limiter.hit(two, "198.51.100.8")
        assert await primary.keys("dispatch:ratelimit*")
    finally:
        await primary.aclose()
        await limiter.close()
