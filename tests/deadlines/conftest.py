"""Fixtures of the deadline tests: a database of their own, so that the watcher of the
session's shared server (another leader election, default intervals) never touches the
assignments these tests time; and apps built with small escalation intervals."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from redis.asyncio import Redis

from dispatch.runtime.app import create_app
from dispatch.runtime.db import create_pool
from dispatch.runtime.server import prepare_database
from dispatch.runtime.settings import Settings
from dispatch.store.users import Principal, add_user
from tests.conftest import reset_state

AppFactory = Callable[..., contextlib.AbstractAsyncContextManager[aiohttp.ClientSession]]


@pytest.fixture(scope="session")
async def deadline_dsn(scratch_databases: Callable[[], Awaitable[str]]) -> str:
    dsn = await scratch_databases()
    await prepare_database(dsn)
    return dsn


@pytest.fixture(scope="session")
async def dl_pool(deadline_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(deadline_dsn, min_size=1, max_size=6)
    yield pool
    await pool.close()


@pytest.fixture
async def dl_clean(dl_pool: asyncpg.Pool, redis: Redis) -> None:
    await reset_state(dl_pool, redis)


@pytest.fixture
def dl_settings(settings: Settings, deadline_dsn: str) -> Callable[..., Settings]:
    """Settings on the deadline database with fast elections; overrides as keywords."""

    def make(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": deadline_dsn,
            "db_pool_min": 1,
            "db_pool_max": 6,
            "escalation_intervals": (1.0,),
            "reminder_fraction": None,
            "leader_retry_interval": 0.2,
        }
        values.update(overrides)
        return settings.model_copy(update=values)

    return make


@pytest.fixture
def app_client(dl_settings: Callable[..., Settings], dl_clean: None) -> AppFactory:
    """``async with app_client(**overrides) as http``: a real server of its own, running its
    background tasks (the deadline watcher among them), and a client to it."""

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[aiohttp.ClientSession]:
        server = TestServer(create_app(dl_settings(**overrides)), host="127.0.0.1", port=0)
        await server.start_server()
        try:
            async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
                yield session
        finally:
            await server.close()

    return start


@pytest.fixture
def dl_user(dl_pool: asyncpg.Pool, dl_clean: None) -> Callable[..., Awaitable[tuple[Principal, str]]]:
    """``await dl_user("desk", agency="police")`` on the deadline database."""
    counter = 0

    async def make(role: str, **kwargs: Any) -> tuple[Principal, str]:
        nonlocal counter
        counter += 1
        async with dl_pool.acquire() as conn:
            return await add_user(conn, kwargs.pop("name", f"{role}-{counter}"), role, **kwargs)

    return make
