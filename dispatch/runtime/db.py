"""The PostgreSQL connection pool: JSON codecs and sane timeouts on every connection."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson

# "PostgreSQL cannot be reached for now": the loops that wait it out (hub, leader lock, deadline
# watcher, delivery, SMS) catch these, pause and retry (compare ``redis_client.UNAVAILABLE``).
DATABASE_DOWN: tuple[type[BaseException], ...] = (OSError, asyncpg.PostgresError, asyncpg.InterfaceError)


def _jsonb_encode(value: Any) -> bytes:
    return b"\x01" + orjson.dumps(value)  # jsonb's binary format: version 1, then the text


def _jsonb_decode(data: bytes) -> Any:
    return orjson.loads(data[1:])


async def _init_connection(conn: asyncpg.Connection) -> None:
    # Binary format: no text round trip, and json/jsonb inside composite values (a whole
    # row returned by INSERT … RETURNING) decode too.
    await conn.set_type_codec("json", encoder=orjson.dumps, decoder=orjson.loads, schema="pg_catalog", format="binary")
    await conn.set_type_codec(
        "jsonb", encoder=_jsonb_encode, decoder=_jsonb_decode, schema="pg_catalog", format="binary"
    )


async def _init_pool_connection(conn: asyncpg.Connection) -> None:
    await _init_connection(conn)
    # Whole rows of these tables come back from INSERT … RETURNING (dispatch/store/new_tickets.py).
    # asyncpg learns a composite type on first use, with a catalogue query that takes tens of
    # milliseconds; learning them here keeps that off the first requests after a start.
    await conn.prepare("SELECT NULL::tickets, NULL::assignments[]")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Give a connection back to the pool without asyncpg's reset query.

    asyncpg still rolls back an open transaction and drops listeners before this runs; what
    is skipped is one round trip per request (advisory unlock, CLOSE ALL, UNLISTEN, RESET ALL).
    Request code never changes session state; the one user that does, ``LeaderLock`` (its
    keep-alive settings and advisory lock), resets its connection itself before giving it back.
    """


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20, **kwargs: Any) -> asyncpg.Pool:
    """A pool whose connections decode json/jsonb to Python and time out instead of hanging."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_pool_connection,
        reset=_keep_session,
        command_timeout=30,
        timeout=10,
        # No JIT: the service's statements are short, and compiling one that PostgreSQL guesses
        # expensive (a summary over years of history) costs it 25–30 ms before it starts.
        server_settings={"application_name": "dispatch", "timezone": "UTC", "jit": "off"},
        **kwargs,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection, for commands that do a single job (migrate, user add)."""
    conn = await asyncpg.connect(dsn, timeout=10, server_settings={"application_name": "dispatch-cli"})
    await _init_connection(conn)
    return conn
