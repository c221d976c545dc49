"""The watcher's queries stay cheap however many assignments are open, also when the
planner's statistics are older than the rows (a flood arriving after a quiet hour)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from dispatch.deadlines.policy import EscalationPolicy
from dispatch.deadlines.store import DeadlineStore
from dispatch_tools.bench.escalation import SEED_ASSIGNMENTS, SEED_TICKETS

OPEN = 3000


async def _buffers_read(conn: asyncpg.Connection, sql: str) -> int:
    [plan] = await conn.fetchval(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}")  # json arrives decoded
    top = plan["Plan"]
    return int(top["Shared Hit Blocks"]) + int(top["Shared Read Blocks"])


async def test_next_due_probe_reads_a_few_pages_with_thousands_open_and_stale_statistics(
    dl_pool: asyncpg.Pool, dl_clean: None
) -> None:
    store = DeadlineStore(EscalationPolicy(intervals=(300.0, 900.0), reminder_fraction=0.8))
    first_due = datetime.now(UTC) + timedelta(minutes=10)
    async with dl_pool.acquire() as conn:
        await conn.execute("ANALYZE assignments")  # statistics of an empty table
        async with conn.transaction():
            first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM tickets")
            await conn.execute(SEED_TICKETS, first_id, OPEN)
            await conn.execute(SEED_ASSIGNMENTS, first_id, OPEN, first_due, 60.0)

        buffers = await _buffers_read(conn, store._next_due)
        seconds = await store.seconds_to_next(conn)

    # One short index walk per step and stage (8 of them), not every open assignment.
    assert buffers < 100, buffers
    assert seconds is not None and 590 < seconds <= 600, seconds
