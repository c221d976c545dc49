"""The websocket hub of one server process: reads the all-stream once and fans each event
out to the connected clients allowed to see it.

Every process runs its own hub on the shared stream, so a ticket created through one
process reaches desks connected to any other. A client resuming with a cursor is caught
up from Redis, or from PostgreSQL where Redis no longer holds what it missed, while live
events wait in its buffer; then it switches to live without gap or duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import structlog
from aiohttp import WSCloseCode, web

from dispatch.access.visibility import EventScope, event_scope, may_see_event
from dispatch.encoding import dumps
from dispatch.pipeline import bus
from dispatch.runtime.backoff import Backoff
from dispatch.runtime.db import DATABASE_DOWN
from dispatch.runtime.redis_client import UNAVAILABLE, RedisClient
from dispatch.store.feed import events_after
from dispatch.store.users import Principal

log = structlog.get_logger("dispatch.hub")

# Close codes (4000-4999 are the application's own).
CLOSE_SLOW_CONSUMER = 4008
CLOSE_RESYNC = WSCloseCode.SERVICE_RESTART  # 1012: the bus lost events; resume with your cursor
CLOSE_GOING_AWAY = WSCloseCode.GOING_AWAY  # 1001: the server is shutting down, reconnect elsewhere

REPLAY_BATCH = 2000  # events per message while catching up
# A close frame waits behind what was sent before it: a client that stopped reading takes
# neither, and its connection is dropped after this long (unsent data and all), so that its
# handler ends and its place is freed.
CLOSE_WITHIN_S = 5.0
QUEUE_LIMIT = 2000  # live events waiting for one client before it counts as too slow
BUFFER_LIMIT = 200_000  # live events held while a client catches up


def _events_message(payloads: list[str]) -> str:
    return payloads[0] if len(payloads) == 1 else "[" + ",".join(payloads) + "]"


@dataclass(eq=False)
class Subscriber:
    """One websocket client and what it may see."""

    ws: web.WebSocketResponse
    principal: Principal
    districts: frozenset[str] = frozenset()
    last_seq: int = 0
    live: bool = True
    buffer: list[bus.BusEntry] = field(default_factory=list)
    queue_limit: int = QUEUE_LIMIT
    queue: asyncio.Queue[bus.BusEntry] = field(init=False)
    closing: bool = False
    # Drops the connection at once, unsent data and all (the transport's ``abort``).
    drop: Callable[[], None] | None = None
    scope: EventScope = field(init=False)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.queue_limit)
        self.scope = event_scope(self.principal)

    def may_see(self, entry: bus.BusEntry) -> bool:
        """What ``dispatch.access.visibility`` lets this principal see, and a desk that chose
        districts only theirs."""
        if not may_see_event(self.scope, event_type=entry.type, agencies=entry.agencies, created_by=entry.created_by):
            return False
        return self.principal.role != "desk" or not self.districts or entry.district in self.districts

    def offer(self, entry: bus.BusEntry) -> None:
        """Take a live event: buffered while catching up, queued once live."""
        if self.closing or not self.may_see(entry):
            return
        if not self.live:
            if len(self.buffer) >= BUFFER_LIMIT:
                self.close_soon(CLOSE_SLOW_CONSUMER, "too far behind")
            else:
                self.buffer.append(entry)
            return
        if entry.seq <= self.last_seq:
            return
        try:
            self.queue.put_nowait(entry)
        except asyncio.QueueFull:
            self.close_soon(CLOSE_SLOW_CONSUMER, "slow consumer: reconnect with your cursor")
            return
        self.last_seq = entry.seq

    def go_live(self) -> None:
        """After catching up: queue what arrived meanwhile and take live events directly."""
        pending, self.buffer = self.buffer, []
        self.live = True
        for entry in pending:
            self.offer(entry)

    def close_soon(self, code: int, reason: str) -> None:
        if not self.closing:
            self.closing = True
            log.warning("ws.closing", user=self.principal.name, code=code, reason=reason)
            # Closing awaits the peer; never make the hub's fan-out wait for it.
            asyncio.get_running_loop().create_task(self.close(code, reason))

    async def close(self, code: int, reason: str) -> None:
        """Close the websocket with ``code``; a client that takes no close frame within
        ``CLOSE_WITHIN_S`` is dropped."""
        try:
            await asyncio.wait_for(self.ws.close(code=code, message=reason.encode()), CLOSE_WITHIN_S)
        except TimeoutError:
            log.warning("ws.dropped", user=self.principal.name, code=code, reason="the client took no close frame")
            if self.drop is not None:
                self.drop()

    async def write_loop(self) -> None:
        """Send queued events, coalescing whatever is waiting into one message."""
        while True:
            entry = await self.queue.get()
            payloads = [entry.payload]
            while len(payloads) < REPLAY_BATCH and not self.queue.empty():
                payloads.append(self.queue.get_nowait().payload)
            await self.ws.send_str(_events_message(payloads))


class Hub:
    """Fan-out of the all-stream to this process's websocket clients."""

    def __init__(self, redis: RedisClient, pool: asyncpg.Pool) -> None:
        self.redis = redis
        self.pool = pool
        self.subscribers: set[Subscriber] = set()
        self.last_seq = 0
        self.ready = asyncio.Event()

    async def run(self) -> None:
        """Read the all-stream forever, surviving Redis restarts and flushes."""
        backoff = Backoff(first=0.1)
        while True:
            try:
                if not self.ready.is_set():
                    self.last_seq = await bus.last_seq(self.redis) or 0
                    self.ready.set()
                entries = await bus.wait_after(self.redis, self.last_seq, block_ms=1000)
                backoff.succeeded()
            except UNAVAILABLE as exc:  # also a Cluster's CLUSTERDOWN: the hub must outlive it
                log.warning("hub.redis_unavailable", error=repr(exc), retry_in=backoff.delay)
                await backoff.wait()
                continue
            if entries and self.last_seq and entries[0].seq > self.last_seq + 1:
                await self._check_gap(entries[0].seq)
            for entry in entries:
                self.last_seq = entry.seq
                for subscriber in tuple(self.subscribers):
                    subscriber.offer(entry)

    async def _check_gap(self, next_seq: int) -> None:
        """Events between what this hub read last and what the stream holds now were
        published but are gone (Redis restarted or was flushed): connected clients would
        never see them live, so they are asked to resume, which replays from PostgreSQL."""
        try:
            lost = await self.pool.fetchval(
                "SELECT count(*) FROM outbox WHERE seq > $1 AND seq < $2", self.last_seq, next_seq
            )
        except DATABASE_DOWN as exc:
            log.warning("hub.gap_check_failed", error=repr(exc))
            lost = 1  # cannot tell: resuming is always safe
        if lost:
            log.warning("hub.events_lost_from_bus", after=self.last_seq, before=next_seq, count=lost)
            for subscriber in tuple(self.subscribers):
                subscriber.close_soon(CLOSE_RESYNC, "events were lost from the bus: resume with your cursor")

    def add(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)

    def remove(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    async def catch_up(self, subscriber: Subscriber, cursor: int) -> int:
        """Send everything after ``cursor`` the subscriber may see, then switch it to live.

        Returns how many events were replayed.
        """
        await self.ready.wait()
        last = cursor
        sent = 0
        while True:
            first = await bus.first_seq(self.redis)
            if first is None or first > last + 1:
                # Redis no longer (or never) held what comes right after the cursor.
                async with self.pool.acquire() as conn:
                    batch = await events_after(
                        conn,
                        last,
                        before_seq=first,
                        scope=subscriber.scope,
                        limit=REPLAY_BATCH,
                    )
                visible = [e for e in batch if not subscriber.districts or e.district in subscriber.districts]
                if visible:
                    await subscriber.ws.send_str(_events_message([dumps(e.payload).decode() for e in visible]))
                    sent += len(visible)
                if batch:
                    last = batch[-1].seq
                    continue
                if first is None:
                    break
            entries = await bus.read_after(self.redis, last, count=REPLAY_BATCH)
            if not entries:
                break
            visible_entries = [e for e in entries if subscriber.may_see(e)]
            if visible_entries:
                await subscriber.ws.send_str(_events_message([e.payload for e in visible_entries]))
                sent += len(visible_entries)
            last = entries[-1].seq
        subscriber.last_seq = max(subscriber.last_seq, last)
        subscriber.go_live()
        return sent

    async def close_all(self) -> None:
        """Tell every client the server is going away (1001) so that it reconnects elsewhere."""
        subscribers = tuple(self.subscribers)
        for subscriber in subscribers:
            subscriber.closing = True
        with contextlib.suppress(Exception):
            await asyncio.gather(
                *(s.close(CLOSE_GOING_AWAY, "server shutting down") for s in subscribers), return_exceptions=True
            )

    def stats(self) -> dict[str, Any]:
        return {"clients": len(self.subscribers), "last_seq": self.last_seq}
