"""Fixtures of the agency handler tests: a database and a Redis database of their own (so
that the session's shared server never joins these tests' consumer groups), apps built with
short delivery timings, and real webhook receivers (aiohttp servers on port 0)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.db import create_pool
from dispatch.runtime.redis_client import RedisClient, close, connect
from dispatch.runtime.server import prepare_database
from dispatch.runtime.settings import Settings
from dispatch.store.users import add_user
from dispatch.store.webhooks import add_webhook
from tests.conftest import other_redis_db, reset_state

# Short timings: retries in tens of milliseconds, pending events claimed after half a second.
FAST: dict[str, Any] = {
    "delivery_retry_initial_s": 0.02,
    "delivery_retry_max_s": 0.1,
    "delivery_max_attempts": 6,
    "delivery_claim_idle_s": 0.5,
    "delivery_refresh_s": 0.1,
    "delivery_timeout_s": 2.0,
    "deadline_watcher": False,
    "feedback_grace_check_seconds": 0,
    "db_pool_min": 1,
    "db_pool_max": 6,
    "leader_retry_interval": 0.2,
}


@pytest.fixture(scope="session")
async def agency_dsn(scratch_databases: Callable[[], Awaitable[str]]) -> str:
    dsn = await scratch_databases()
    await prepare_database(dsn)
    return dsn


@pytest.fixture(scope="session")
def agency_redis_url(redis_url: str) -> str:
    return other_redis_db(redis_url)


@pytest.fixture(scope="session")
async def agency_pool(agency_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(agency_dsn, min_size=1, max_size=6)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def agency_redis(agency_redis_url: str) -> AsyncIterator[RedisClient]:
    client = connect(agency_redis_url, socket_timeout=None)
    yield client
    await close(client)


@dataclass
class Harness:
    """A running service on the agency tests' database and Redis, and helpers around it."""

    settings: Settings
    pool: asyncpg.Pool
    redis: RedisClient
    server: TestServer | None = None
    http: aiohttp.ClientSession | None = None
    counter: int = 0

    @property
    def base(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/")).rstrip("/")

    async def user(self, role: str, agency: str | None = None) -> str:
        self.counter += 1
        async with self.pool.acquire() as conn:
            _, token = await add_user(conn, f"{role}-{agency or 'x'}-{self.counter}", role, agency=agency)
        return token

    async def webhook(self, agency: str, url: str, desk: str | None = None) -> tuple[int, str]:
        async with self.pool.acquire() as conn:
            hook, secret = await add_webhook(conn, agency, url, desk_code=desk)
        return int(hook["id"]), secret


async def relay_listening(pool: asyncpg.Pool) -> None:
    """Wait until the app's relay leads and listens for new events.

    Stopping an app while its relay is still starting can leave the relay's cancellation
    unfinished on Python 3.11 (reported; not this package's code), so every test lets it settle.
    """
    for _ in range(200):
        if await pool.fetchval(
            """SELECT count(*) FROM pg_stat_activity
               WHERE datname = current_database() AND query LIKE 'LISTEN %dispatch_outbox%'"""
        ):
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the relay did not start listening")


HarnessFactory = Callable[..., contextlib.AbstractAsyncContextManager[Harness]]


@pytest.fixture
async def harness(
    settings: Settings, agency_dsn: str, agency_redis_url: str, agency_pool: asyncpg.Pool, agency_redis: RedisClient
) -> HarnessFactory:
    """``async with harness(**settings) as h``: a clean state and a server with those settings."""
    await reset_state(agency_pool, agency_redis)

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[Harness]:
        values = {**FAST, "database_url": agency_dsn, "redis_url": agency_redis_url, **overrides}
        h = Harness(settings.model_copy(update=values), agency_pool, agency_redis)
        h.server = TestServer(create_app(h.settings), host="127.0.0.1", port=0)
        await h.server.start_server()
        await relay_listening(agency_pool)
        try:
            async with aiohttp.ClientSession(base_url=h.base + "/") as h.http:
                yield h
        finally:
            await h.server.close()

    return start


def verify(secret: str, headers: Any, body: bytes) -> bool:
    """The receiver's check, as docs/agencies.md shows it (standalone: hmac and hashlib only)."""
    timestamp = headers.get("X-Dispatch-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest("v1=" + expected, headers.get("X-Dispatch-Signature", ""))


Behaviour = Callable[[dict[str, Any], int], Awaitable[int] | int]


@dataclass
class Receiver:
    """A webhook receiver: answers as ``behaviour`` says, records every request and the
    deliveries it accepted (2xx) in arrival order, dropping repeats by delivery id."""

    secret: str = ""
    behaviour: Behaviour = lambda body, n: 200
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    seen_ids: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    server: TestServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("/hook"))

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        body = json.loads(raw)
        entry = {
            "body": body,
            "headers": dict(request.headers),
            "signature_ok": bool(self.secret) and verify(self.secret, request.headers, raw),
        }
        self.requests.append(entry)
        self.arrived.set()
        status = self.behaviour(body, len(self.requests))
        if not isinstance(status, int):
            status = await status
        if 200 <= status < 300:
            delivery_id = request.headers["X-Dispatch-Delivery-Id"]
            if delivery_id not in self.seen_ids:  # what a receiver does with a repeat: drop it
                self.seen_ids.add(delivery_id)
                self.accepted.append(entry)
        return web.json_response({"ok": 200 <= status < 300}, status=status)

    def accepted_types(self) -> list[str]:
        return [e["body"]["type"] for e in self.accepted]

    def accepted_cursors(self) -> list[int]:
        return [int(e["body"]["cursor"]) for e in self.accepted]

    async def wait_for(self, count: int, within: float = 15) -> list[dict[str, Any]]:
        """Wait until ``count`` deliveries were accepted; return them."""
        deadline = asyncio.get_running_loop().time() + within
        while len(self.accepted) < count:
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"accepted {len(self.accepted)} of {count}: {self.accepted_types()}")
            await asyncio.sleep(0.02)
        return self.accepted


@pytest.fixture
async def receivers() -> AsyncIterator[Callable[..., Awaitable[Receiver]]]:
    """``await receivers()``: a new receiver server on a loopback port."""
    started: list[TestServer] = []

    async def make(behaviour: Behaviour | None = None) -> Receiver:
        receiver = Receiver()
        if behaviour is not None:
            receiver.behaviour = behaviour
        app = web.Application()
        app.router.add_post("/hook", receiver.handle)
        receiver.server = TestServer(app, host="127.0.0.1", port=0)
        await receiver.server.start_server()
        started.append(receiver.server)
        return receiver

    yield make
    for server in started:
        await server.close()
