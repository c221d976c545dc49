import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest

from dispatch.errors import MigrationError
from dispatch.runtime.db import connect
from dispatch.runtime.migrator import Migration, load_migrations, migrate
from tests.cli_helpers import DISPATCH, clean_env, run_dispatch

ScratchDb = Callable[[], Awaitable[str]]


def test_shipped_migrations_are_numbered_from_one() -> None:
    migrations = load_migrations()
    assert [m.version for m in migrations] == list(range(1, len(migrations) + 1))


async def test_two_migrate_commands_at_once_apply_each_migration_once(
    scratch_databases: ScratchDb, redis_url: str
) -> None:
    dsn = await scratch_databases()
    env = clean_env(DISPATCH_DATABASE_URL=dsn, DISPATCH_REDIS_URL=redis_url)
    procs = [
        await asyncio.create_subprocess_exec(
            *DISPATCH, "migrate", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
        )
        for _ in range(2)
    ]
    outputs = await asyncio.wait_for(asyncio.gather(*(p.communicate() for p in procs)), 60)
    results = [(out.decode(), err.decode()) for out, err in outputs]
    assert [p.returncode for p in procs] == [0, 0], results
    applied_counts = sorted(int(out.split()[1]) for out, _ in results)
    assert applied_counts == [0, len(load_migrations())]
    conn = await connect(dsn)
    try:
        rows = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r["version"] for r in rows] == [m.version for m in load_migrations()]


async def test_edited_migration_stops_startup_naming_the_file(scratch_databases: ScratchDb, redis_url: str) -> None:
    dsn = await scratch_databases()
    env = clean_env(DISPATCH_DATABASE_URL=dsn, DISPATCH_REDIS_URL=redis_url)
    assert run_dispatch("migrate", env=env).returncode == 0
    conn = await connect(dsn)
    try:
        # What an edit of the file looks like to the database: the recorded checksum differs.
        await conn.execute("UPDATE schema_migrations SET checksum = 'edited' WHERE version = 1")
    finally:
        await conn.close()
    for command in (["migrate"], ["serve", "--port", "0", "--workers", "1"]):
        result = run_dispatch(*command, env=env, timeout=30)
        assert result.returncode == 2
        assert "0001_schema.sql" in result.stderr and "edited" in result.stderr


async def test_failed_migration_leaves_nothing_half_applied(scratch_databases: ScratchDb) -> None:
    dsn = await scratch_databases()
    broken = [
        Migration(1, "0001_ok.sql", "CREATE TABLE a (x int);"),
        Migration(2, "0002_broken.sql", "CREATE TABLE b (x int); SELECT no_such_function();"),
    ]
    conn = await connect(dsn)
    try:
        with pytest.raises(MigrationError, match=r"0002_broken\.sql"):
            await migrate(conn, broken)
        assert await conn.fetchval("SELECT to_regclass('a') IS NOT NULL")
        assert await conn.fetchval("SELECT to_regclass('b') IS NULL")
        assert await conn.fetchval("SELECT count(*) FROM schema_migrations") == 1
    finally:
        await conn.close()


async def test_unknown_applied_migration_is_refused(scratch_databases: ScratchDb) -> None:
    dsn = await scratch_databases()
    conn = await connect(dsn)
    try:
        await migrate(conn, [Migration(1, "0001_a.sql", "SELECT 1;"), Migration(2, "0002_b.sql", "SELECT 2;")])
        with pytest.raises(MigrationError, match=r"0002_b\.sql"):
            await migrate(conn, [Migration(1, "0001_a.sql", "SELECT 1;")])
    finally:
        await conn.close()


async def test_events_table_refuses_update_delete_and_truncate(pool: asyncpg.Pool, clean: None) -> None:
    async with pool.acquire() as conn:
        ticket_id = await conn.fetchval(
            """INSERT INTO tickets (number, tracking_token, channel, description, priority)
               VALUES ('MS20261124-000001', repeat('t', 32), 'phone', 'x', 'P3') RETURNING id"""
        )
        await conn.execute(
            "INSERT INTO events (ticket_id, type, actor) VALUES ($1, 'ticket.created', 'test')", ticket_id
        )
        for statement in ("UPDATE events SET actor = 'x'", "DELETE FROM events", "TRUNCATE events CASCADE"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
