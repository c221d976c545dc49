"""Fault tests run real servers in subprocesses against a database and a Redis of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from redis.asyncio import Redis

from dispatch.server import prepare_database
from tests.realtime.test_processes import other_redis_db

pytestmark = pytest.mark.slow


@pytest.fixture
async def fault_dsn(scratch_databases: Callable[[], Awaitable[str]]) -> str:
    dsn = await scratch_databases()
    await prepare_database(dsn)
    return dsn


@pytest.fixture
async def fault_redis_url(redis_url: str) -> AsyncIterator[str]:
    url = other_redis_db(redis_url)
    client = Redis.from_url(url)
    await client.flushdb()
    await client.aclose()
    yield url
