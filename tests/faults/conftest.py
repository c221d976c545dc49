"""Fault tests run real servers in subprocesses against a database and a Redis of their own."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from dispatch.runtime import redis_client
from dispatch.runtime.server import prepare_database
from tests.conftest import other_redis_db

pytestmark = pytest.mark.slow


@pytest.fixture
async def fault_dsn(scratch_databases: Callable[[], Awaitable[str]]) -> str:
    dsn = await scratch_databases()
    await prepare_database(dsn)
    return dsn


@pytest.fixture
async def fault_redis_url(redis_url: str) -> AsyncIterator[str]:
    url = other_redis_db(redis_url)
    client = redis_client.connect(url)
    await redis_client.flush(client)
    await redis_client.close(client)
    yield url
