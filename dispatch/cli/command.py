"""What every command module shares: the registry its sub-commands go in, and running a job on a
migrated database (and Redis), embedded when none is configured."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeAlias

from dispatch.runtime.settings import Settings

Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"

# Argument types: a bad value is refused by the parser, before any server starts.


def positive_int(value: str) -> int:
    """A whole number of 1 or more."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def agency_code(value: str) -> str:
    """One of the agencies' codes (``agencies.AGENCIES``)."""
    import agencies

    if value not in agencies.AGENCIES:
        raise argparse.ArgumentTypeError(f"unknown agency {value!r}; one of {', '.join(agencies.AGENCIES)}")
    return value


def category_code(value: str) -> str:
    """One of the categories' codes (``agencies.CATEGORIES``), e.g. police.violence."""
    import agencies

    if value not in agencies.CATEGORIES:
        raise argparse.ArgumentTypeError(f"unknown category {value!r}, e.g. {next(iter(agencies.CATEGORIES))}")
    return value


def district_name(value: str) -> str:
    """A district, by code or Chinese name, as given."""
    import agencies

    if agencies.find_district(value) is None:
        raise argparse.ArgumentTypeError(f"unknown district {value!r}, e.g. yicheng or 驿城区")
    return value


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
