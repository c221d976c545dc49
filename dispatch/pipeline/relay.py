"""The outbox relay: publishes committed events to the bus, in order, exactly once in
normal operation and at least once across crashes.

One relay is active across all server processes (the leader of an advisory lock). It
gives the next committed outbox rows their sequence numbers (a committed step of its own),
builds each event's payload with the current ticket state, publishes to Redis, and marks
the rows published (in the statement that numbers the next batch). After a crash or while
Redis is down, rows that have a sequence number but are not marked are published again with
the same numbers, so clients never see one event under two cursors. A NOTIFY from every
transaction that writes the outbox wakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import asyncpg
import structlog

from dispatch.pipeline import bus
from dispatch.runtime.backoff import Backoff
from dispatch.runtime.redis_client import UNAVAILABLE, RedisClient
from dispatch.store.feed import EVENT_COLUMNS, build_feed

log = structlog.get_logger("dispatch.relay")

RELAY_LOCK_KEY = 0x4D53_0110_0002
BATCH = 1000
IDLE_POLL_S = 1.0  # a safety net: NOTIFY normally wakes the relay at once

_PENDING = f"""
    SELECT {EVENT_COLUMNS} FROM outbox o JOIN events e ON e.id = o.event_id
    WHERE o.seq IS NOT NULL AND o.published_at IS NULL
    ORDER BY o.seq LIMIT $1
"""
# One statement, committed on its own: mark the previous batch published, number the next
# committed outbox rows in event order, and return them with their events.
_NEXT_BATCH = f"""
    WITH marked AS (
        UPDATE outbox SET published_at = clock_timestamp() WHERE seq = ANY($2::bigint[]) AND published_at IS NULL
    ), numbered AS (
        SELECT event_id, nextval('outbox_seq') AS seq
        FROM (SELECT event_id FROM outbox WHERE seq IS NULL ORDER BY event_id LIMIT $1 FOR UPDATE) batch
    ), o AS (
        UPDATE outbox SET seq = numbered.seq FROM numbered
        WHERE outbox.event_id = numbered.event_id
        RETURNING outbox.seq, outbox.event_id
    )
    SELECT {EVENT_COLUMNS} FROM o JOIN events e ON e.id = o.event_id ORDER BY o.seq
"""


async def publish_pending(
    pool: asyncpg.Pool,
    client: RedisClient,
    *,
    unmarked: Sequence[int] = (),
    leftovers: bool = True,
    batch: int = BATCH,
) -> list[int]:
    """Publish one batch and return its sequence numbers.

    ``unmarked`` are the numbers the previous call published: they are marked published in
    the same statement that numbers the next batch (one round trip less per batch; after a
    crash in between they are published again, and the stream skips them). With
    ``leftovers`` (after taking over, or after a failed publish, when nothing is known to be
    published), numbered rows not marked published go first, with their numbers.
    """
    assert not (leftovers and unmarked), "leftovers are looked for when nothing is known to be published"
    async with pool.acquire() as conn:
        rows: list[asyncpg.Record] = []
        if leftovers:
            rows = await conn.fetch(_PENDING, batch)
        if not rows:
            rows = await conn.fetch(_NEXT_BATCH, batch, list(unmarked))
        if not rows:
            return []
        feed = await build_feed(conn, rows)
    await bus.publish(client, feed)
    return [e.seq for e in feed]


async def align_with_stream(pool: asyncpg.Pool, client: RedisClient) -> None:
    """Make new sequence numbers start above the stream's newest entry.

    A stream can hold entries newer than the database knows (PostgreSQL restored from a
    backup, Redis shared with another installation); publishing below them would be
    refused, so unpublished rows are numbered again above the stream's top.
    """
    top = await bus.last_seq(client)
    if top is None:
        return
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("LOCK TABLE outbox IN SHARE ROW EXCLUSIVE MODE")
        ours = await conn.fetchval("SELECT coalesce(max(seq), 0) FROM outbox")
        if top <= ours:
            return
        log.error("relay.stream_ahead_of_database", stream_top=top, database_top=ours)
        await conn.execute("SELECT setval('outbox_seq', $1)", top)
        await conn.execute("UPDATE outbox SET seq = NULL WHERE published_at IS NULL")


async def backlog(pool: asyncpg.Pool) -> int:
    """Outbox rows not yet published."""
    value = await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
    return int(value)


class Relay:
    """The relay loop of one process; it works only while it holds the leader lock."""

    def __init__(self, pool: asyncpg.Pool, client: RedisClient, dsn: str) -> None:
        self.pool = pool
        self.client = client
        self.dsn = dsn
        self.wake = asyncio.Event()
        self.published = 0

    def _notified(self, *_: object) -> None:
        self.wake.set()

    async def run(self) -> None:
        """Campaign for leadership for ever; publish while leading (see dispatch.pipeline.leader)."""
        from dispatch.pipeline.leader import LeaderLock

        lock = LeaderLock(self.dsn, RELAY_LOCK_KEY, name="relay", retry_interval=0.5, check_interval=1.0)
        await lock.run(self._lead)

    async def _lead(self) -> None:
        log.info("relay.leader")
        await align_with_stream(self.pool, self.client)
        listener = await asyncpg.connect(self.dsn)
        try:
            await listener.add_listener("dispatch_outbox", self._notified)
            await self._publish_forever()
        finally:
            await listener.close()

    async def _publish_forever(self) -> None:
        backoff = Backoff()
        unmarked: list[int] = []
        leftovers = True  # a previous leader may have stopped between publishing and marking
        while True:
            self.wake.clear()
            try:
                published = await publish_pending(self.pool, self.client, unmarked=unmarked, leftovers=leftovers)
                backoff.succeeded()
            except UNAVAILABLE as exc:  # also a Cluster's CLUSTERDOWN, which redis-py raises as a ResponseError
                log.warning("relay.bus_unavailable", error=repr(exc), retry_in=backoff.delay)
                unmarked, leftovers = [], True
                await backoff.wait()
                continue
            # A batch published is marked by the next call, which follows at once.
            unmarked, leftovers = published, False
            self.published += len(published)
            if not published:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow the
                # cancellation that stops the relay, and shutdown would hang.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(IDLE_POLL_S):
                        await self.wake.wait()
