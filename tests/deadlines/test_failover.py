"""Two watchers on one database, as two server processes would run them: one leads, the
other takes over when the leader goes, and no escalation is lost or sent twice."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import timedelta

import asyncpg
import pytest

from dispatch.deadlines.policy import EscalationPolicy
from dispatch.deadlines.watcher import DeadlineWatcher
from dispatch.runtime.db import create_pool
from dispatch_tools.bench.escalation import seed_open_assignments

COUNT = 300
SPREAD_S = 3.0


@contextlib.asynccontextmanager
async def watcher_process(dsn: str, retry: float) -> AsyncIterator[tuple[DeadlineWatcher, asyncio.Task[None]]]:
    """A watcher with a pool of its own, like one server process."""
    pool = await create_pool(dsn, min_size=1, max_size=3)
    watcher = DeadlineWatcher(pool, EscalationPolicy(intervals=(1.0,)), retry_interval=retry, batch=50)
    task = asyncio.get_running_loop().create_task(watcher.run())
    try:
        yield watcher, task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await pool.close()


async def _wait_until(condition: Callable[[], bool], within: float = 5.0) -> None:
    async with asyncio.timeout(within):
        while not condition():
            await asyncio.sleep(0.02)


async def _kill_lock_session(watcher: DeadlineWatcher, pool: asyncpg.Pool) -> None:
    """Terminate the PostgreSQL session holding the watcher's lock, as a network fault would."""
    key = watcher.lock.key
    pid = await pool.fetchval(
        """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
           AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        (key >> 32) & 0xFFFFFFFF,
        key & 0xFFFFFFFF,
    )
    assert pid is not None
    await pool.execute("SELECT pg_terminate_backend($1)", pid)


@pytest.mark.parametrize("kind", ["leader_cancelled", "lock_session_killed"])
async def test_failover_mid_way_neither_loses_nor_repeats_escalations(
    kind: str, deadline_dsn: str, dl_pool: asyncpg.Pool, dl_clean: None
) -> None:
    # The leader checks its lock once a second, so after its session is killed it goes on
    # working for up to a second while the eager follower already leads: a real overlap.
    async with watcher_process(deadline_dsn, retry=1.0) as (leader, leader_task):
        await _wait_until(lambda: leader.is_leader)
        async with watcher_process(deadline_dsn, retry=0.1) as (follower, _):
            async with dl_pool.acquire() as conn:
                start = await conn.fetchval("SELECT clock_timestamp()") + timedelta(seconds=0.5)
                await seed_open_assignments(conn, COUNT, first_due=start, spread=SPREAD_S)
            await asyncio.sleep(0.5 + SPREAD_S / 2)  # about half of the deadlines have passed
            assert leader.sent > 0 and not follower.is_leader
            if kind == "leader_cancelled":
                leader_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await leader_task
            else:  # the process lives on: it must notice, stand down and stay a follower
                await _kill_lock_session(leader, dl_pool)
            await _wait_until(lambda: follower.is_leader)
            # every deadline's level 1, then its level 2 a second later
            async with asyncio.timeout(15):
                while await dl_pool.fetchval("SELECT count(*) FROM escalations") < 2 * COUNT:
                    await asyncio.sleep(0.1)
            await asyncio.sleep(0.5)
            assert not leader.is_leader

    rows = await dl_pool.fetch(
        """SELECT e.assignment_id, (e.data->>'level')::int AS level, count(*) AS n FROM events e
           WHERE e.type = 'ticket.escalated' GROUP BY 1, 2"""
    )
    assert len(rows) == 2 * COUNT  # every assignment, both levels
    assert {r["n"] for r in rows} == {1}  # none twice
    assert follower.sent > 0
    assert await dl_pool.fetchval("SELECT count(*) FROM escalations") == 2 * COUNT
