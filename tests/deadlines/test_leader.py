"""LeaderLock: one leader at a time, a quick take-over, loss noticed, nothing left held."""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg

from dispatch.pipeline.leader import LeaderLock, lock_key

KEY = "tests.leader"


async def _wait(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), 3.0)


async def test_only_one_of_two_campaigners_leads(dl_pool: asyncpg.Pool, deadline_dsn: str) -> None:
    # the second one opens its own connection from a DSN, like another process
    async with LeaderLock(dl_pool, KEY) as first, LeaderLock(deadline_dsn, KEY, retry_interval=0.05) as second:
        await first.acquired()
        campaign = asyncio.create_task(second.acquired())
        await asyncio.sleep(0.3)
        assert first.is_leader and not second.is_leader and not campaign.done()
        campaign.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await campaign


async def test_the_follower_leads_soon_after_the_leader_releases(dl_pool: asyncpg.Pool) -> None:
    leader = LeaderLock(dl_pool, KEY)
    follower = LeaderLock(dl_pool, KEY, retry_interval=0.05)
    await leader.acquired()
    campaign = asyncio.create_task(follower.acquired())
    await asyncio.sleep(0.1)
    await leader.release()
    await asyncio.wait_for(campaign, 1.0)
    assert follower.is_leader and not leader.is_leader
    await follower.release()


async def test_a_killed_lock_session_is_noticed_and_the_work_cancelled(dl_pool: asyncpg.Pool) -> None:
    lock = LeaderLock(dl_pool, KEY, retry_interval=0.05, check_interval=0.05)
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def work() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    runner = asyncio.create_task(lock.run(work))
    await _wait(started)
    key = lock_key(KEY)
    pid = await dl_pool.fetchval(
        """SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1::bigint::oid
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        key & 0xFFFFFFFF,
    )
    await dl_pool.execute("SELECT pg_terminate_backend($1)", pid)
    await _wait(cancelled)
    assert lock.lost.is_set()
    started.clear()
    await _wait(started)  # it campaigned again and, alone, leads again
    runner.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await runner
    assert not lock.is_leader


async def test_a_released_lock_is_not_left_on_the_pooled_connection(dl_pool: asyncpg.Pool) -> None:
    lock = LeaderLock(dl_pool, KEY)
    await lock.acquired()
    await lock.release()
    held = await dl_pool.fetchval(
        """SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = $1::bigint::oid
           AND database = (SELECT oid FROM pg_database WHERE datname = current_database())""",
        lock_key(KEY) & 0xFFFFFFFF,
    )
    assert held == 0
