"""The PostgreSQL connection pool: JSON codecs and sane timeouts on every connection."""

from __future__ import annotations

from typing import Any

import asyncpg
import orjson


async def _init_connection(conn: asyncpg.Connection) -> None:
    for type_name in ("json", "jsonb"):
        await conn.set_type_codec(
            type_name,
            encoder=lambda value: orjson.dumps(value).decode(),
            decoder=orjson.loads,
            schema="pg_catalog",
        )


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 20, **kwargs: Any) -> asyncpg.Pool:
    """A pool whose connections decode json/jsonb to Python and time out instead of hanging."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        command_timeout=30,
        timeout=10,
        server_settings={"application_name": "dispatch", "timezone": "UTC"},
        **kwargs,
    )
    assert pool is not None
    return pool


async def connect(dsn: str) -> asyncpg.Connection:
    """One connection, for commands that do a single job (migrate, user add)."""
    conn = await asyncpg.connect(dsn, timeout=10, server_settings={"application_name": "dispatch-cli"})
    await _init_connection(conn)
    return conn
