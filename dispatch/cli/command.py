"""What every command module shares: the registry its sub-commands go in, and running a job on a
migrated database (and Redis), embedded when none is configured."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeAlias

from dispatch.runtime.settings import Settings

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def with_database(settings: Settings, job: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    """Run ``job(conn)`` on a migrated database (embedded if none is configured)."""
    from dispatch.runtime.db import connect
    from dispatch.runtime.server import prepare_database
    from dispatch.runtime.services import resolved_services

    async def run(dsn: str) -> int:
        await prepare_database(dsn)
        conn = await connect(dsn)
        try:
            return await job(conn)
        finally:
            await conn.close()

    with resolved_services(settings, redis=False) as resolved:
        assert resolved.database_url
        return asyncio.run(run(resolved.database_url))


def with_database_and_redis(settings: Settings, job: Callable[[Any, Any], Coroutine[Any, Any, int]]) -> int:
    """Run ``job(conn, redis)`` on a migrated database and the configured Redis."""
    from dispatch.runtime import redis_client
    from dispatch.runtime.db import connect
    from dispatch.runtime.server import prepare_database
    from dispatch.runtime.services import resolved_services

    async def run(dsn: str, url: str) -> int:
        await prepare_database(dsn)
        conn = await connect(dsn)
        client = redis_client.connect(url, socket_timeout=30, socket_connect_timeout=5)
        try:
            return await job(conn, client)
        finally:
            await redis_client.close(client)
            await conn.close()

    with resolved_services(settings, attach_redis=True) as resolved:
        assert resolved.database_url and resolved.redis_url
        return asyncio.run(run(resolved.database_url, resolved.redis_url))
