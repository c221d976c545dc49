"""Test fixtures: real PostgreSQL and Redis, never mocks.

The servers are those named by ``DISPATCH_TEST_DATABASE_URL`` and ``DISPATCH_TEST_REDIS_URL``;
when unset, an embedded PostgreSQL and Valkey are started for the session. Each session
creates its own databases (dropped at the end); each test starts from a clean state by
truncating the mutable tables, which is far faster than re-creating the schema.

Redis databases: a session uses two, both emptied when it ends:
- N, the one ``DISPATCH_TEST_REDIS_URL`` names: the session's own server and most tests;
- N + 1 (``other_redis_db``): servers the tests start in other processes or beside the
  session's one (``tests/agencies``, ``tests/faults``, ``tests/realtime/test_processes.py``,
  ``tests/dispatch/test_bench.py``), so that their streams do not mix with the session's.
A Redis Cluster has database 0 only; there both are the same.
"""

from __future__ import annotations

import io
import os
import secrets
import shutil
import socket
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from dispatch.classifier import IN_SERVICE
from dispatch.runtime import redis_client
from dispatch.runtime.app import create_app, forget_kept
from dispatch.runtime.db import connect, create_pool
from dispatch.runtime.embedded import EmbeddedPostgres, EmbeddedValkey
from dispatch.runtime.logconfig import configure_logging
from dispatch.runtime.redis_client import RedisClient, is_multi_node, parse_target
from dispatch.runtime.server import prepare_database
from dispatch.runtime.settings import Settings
from dispatch.store.reference import sync_reference_data
from dispatch.store.users import Principal, add_user
from tests.log_tap import LOG_TAP


def pytest_configure(config: pytest.Config) -> None:
    # Request lines would drown test output; warnings and errors still show (and reach
    # the ``server_log`` fixture).
    configure_logging("warning", "console", stream=LOG_TAP)


# Tables whose rows tests create; reference tables (agencies, categories, districts) stay.
MUTABLE_TABLES = (
    "archived_months",
    "classifier_models",
    "sms_messages",
    "gazetteer",
    "outbox",
    "events",
    "escalations",
    "feedback",
    "reports",
    "assignments",
    "eido_imports",
    "tickets",
    "ticket_addresses",
    "kb_versions",
    "kb_entries",
    "webhooks",
    "users",
    "desk_districts",
    "desks",
    "service_levels",
)


def with_database(dsn: str, name: str) -> str:
    """The same server DSN with another database name."""
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


def other_redis_db(url: str) -> str:
    """The same Redis on the next database number, so that a test's streams stay its own.

    A Redis Cluster has only database 0: there the same URL comes back, and the tests that use
    it flush it before they start (the session's server publishes nothing meanwhile).
    """
    if is_multi_node(url):
        target = parse_target(url)
        if target.kind == "cluster":
            return url
        service, db = f"/{target.service}", target.db
        parts = urlsplit(url)
        return urlunsplit(parts._replace(path=f"{service}/{(db + 1) % 16}"))
    parts = urlsplit(url)
    db = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{(db + 1) % 16}"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="session")
def embedded_dir() -> Iterator[Path]:
    # Not under pytest's own temporary tree: pytest may change or remove it while the
    # embedded PostgreSQL (running as another system user) still needs it.
    path = Path(tempfile.mkdtemp(prefix="dispatch-test-embedded-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def server_dsn(embedded_dir: Path) -> Iterator[str]:
    """A DSN of the PostgreSQL server the tests may create databases on."""
    configured = os.environ.get("DISPATCH_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    server = EmbeddedPostgres(embedded_dir / "postgres")
    yield server.start()
    server.stop()


async def empty_test_redis(url: str) -> None:
    """Empty both Redis databases a session uses (see the module's docstring)."""
    for each in dict.fromkeys((url, other_redis_db(url))):
        client = redis_client.connect(each, socket_timeout=10)
        try:
            await redis_client.flush(client)
        finally:
            await redis_client.close(client)


@pytest.fixture(scope="session")
async def redis_url(embedded_dir: Path) -> AsyncIterator[str]:
    """The URL of the Redis (or Valkey) the tests use; a configured one is left empty."""
    configured = os.environ.get("DISPATCH_TEST_REDIS_URL")
    if configured:
        yield configured
        await empty_test_redis(configured)  # no stream keys left behind for the next run
        return
    server = EmbeddedValkey(embedded_dir / "valkey")
    yield server.start()
    server.stop()


@pytest.fixture(scope="session")
async def scratch_databases(server_dsn: str) -> AsyncIterator[Callable[[], Awaitable[str]]]:
    """A factory of fresh empty databases on the test server, all dropped at the end."""
    created: list[str] = []

    async def make() -> str:
        name = f"dispatch_test_{secrets.token_hex(4)}"
        admin = await connect(server_dsn)
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        created.append(name)
        return with_database(server_dsn, name)

    yield make
    admin = await connect(server_dsn)
    try:
        for name in created:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def database_url(scratch_databases: Callable[[], Awaitable[str]]) -> str:
    """The session's migrated database."""
    dsn = await scratch_databases()
    await prepare_database(dsn)
    return dsn


@pytest.fixture(scope="session")
def settings(database_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        data_dir=tmp_path_factory.mktemp("data"),
        port=0,
        sms=False,  # tests of text messages run their own notifier (tests/dispatch/delivery/test_sms.py)
        # Statistics answer each request afresh: tests read right after they change things
        # (tests/dispatch/runtime/test_shared_stats.py shares them).
        stats_shared_seconds=0,
        _env_file=None,  # type: ignore[call-arg]
    )


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, min_size=1, max_size=10)
    yield pool
    await pool.close()


@pytest.fixture(scope="session")
async def redis(redis_url: str) -> AsyncIterator[RedisClient]:
    """A client of the test Redis (one server, a Cluster or Sentinels), as the service builds it."""
    client = redis_client.connect(redis_url, socket_timeout=None)
    yield client
    await redis_client.close(client)


async def reset_state(pool: asyncpg.Pool, redis: RedisClient) -> None:
    """Empty every mutable table and the bus; restore the reference data."""
    for attempt in range(5):
        try:
            async with pool.acquire() as conn, conn.transaction():
                # The append-only guard also refuses TRUNCATE; only the table owner can lift it.
                await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_truncate")
                await conn.execute(f"TRUNCATE {', '.join(MUTABLE_TABLES)} RESTART IDENTITY CASCADE")
                await conn.execute("ALTER TABLE events ENABLE TRIGGER events_no_truncate")
                await sync_reference_data(conn)
            break
        except asyncpg.DeadlockDetectedError:
            # A server still running (its relay, a create) locks these tables in another order
            # than TRUNCATE does; PostgreSQL picks one of the two to fail: go again.
            if attempt == 4:
                raise
    await redis_client.flush(redis)  # on a Cluster: every primary
    # The process's model in service follows the (now empty) table at once, not in 5 s.
    IN_SERVICE.model, IN_SERVICE.model_id = None, None


@pytest.fixture
async def clean(pool: asyncpg.Pool, redis: RedisClient) -> None:
    """A test that writes starts from empty tables and an empty bus."""
    await reset_state(pool, redis)


@pytest.fixture(scope="session")
async def server(settings: Settings) -> AsyncIterator[TestServer]:
    """The service, on a loopback port, shared by the session's tests."""
    test_server = TestServer(create_app(settings), host="127.0.0.1", port=0)
    await test_server.start_server()
    yield test_server
    await test_server.close()


@pytest.fixture
async def http(server: TestServer, clean: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A real HTTP client pointed at the service, on a clean state."""
    forget_kept(server.app)  # the shared server kept tokens, desks and places of the tables emptied
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
        yield session


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """Everything the service logs (warnings and errors) during the test."""
    with LOG_TAP.capture() as buffer:
        yield buffer


UserFactory = Callable[..., Awaitable[tuple[Principal, str]]]


@pytest.fixture
def make_user(pool: asyncpg.Pool, clean: None) -> UserFactory:
    """Create a user and return it with its token: ``await make_user("desk", agency="police")``."""
    counter = 0

    async def make(role: str, **kwargs: Any) -> tuple[Principal, str]:
        nonlocal counter
        counter += 1
        name = kwargs.pop("name", f"{role}-{counter}")
        async with pool.acquire() as conn:
            return await add_user(conn, name, role, **kwargs)

    return make


def auth(token: str) -> dict[str, str]:
    """The header that carries a token."""
    return {"Authorization": f"Bearer {token}"}
