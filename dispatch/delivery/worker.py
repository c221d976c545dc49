"""One webhook's delivery loop in one server process.

The worker reads its webhook's consumer group (XREADGROUP) on the agency's stream and keeps
what it read in hand ("in flight") until the receiver accepted it (XACK) or it was
dead-lettered (XADD to the dead-letter stream and XACK, in one MULTI). Nothing is
acknowledged before that: a worker that dies leaves its events pending, and after
``delivery_claim_idle_s`` another worker claims them (XAUTOCLAIM). While a live worker holds
an event (sending, waiting between retries), it refreshes its claim (XCLAIM ... JUSTID) so
that nobody takes it away.

Order per ticket: the events of one ticket go one after another, lowest cursor first
("lanes"); different tickets go side by side, so a failing receiver for one ticket does not
hold up the others. Across processes, before sending an event the worker checks the group's
pending list for an earlier event of the same ticket still in someone's hands; if there is
one it waits. XREADGROUP hands entries out in stream order, so every earlier entry is either
acknowledged or in that pending list: the check is complete.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

import aiohttp
import asyncpg
import orjson
import redis.exceptions
import structlog
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from dispatch.delivery.payload import body_for, delivery_id, wanted_by
from dispatch.delivery.sender import DeliveryFailed, send
from dispatch.delivery.streams import DEAD_MAXLEN, dead_stream, ensure_group, group_name, is_nogroup, read_range
from dispatch.pipeline.bus import agency_stream
from dispatch.runtime.backoff import Backoff
from dispatch.runtime.db import DATABASE_DOWN
from dispatch.runtime.redis_client import UNAVAILABLE, RedisClient
from dispatch.runtime.settings import Settings
from dispatch.store import webhooks as store

log = structlog.get_logger("dispatch.delivery")

REDIS_DOWN = UNAVAILABLE
READ_BLOCK_S: Final = 1.0  # below the client's socket timeout
PENDING_SCAN: Final = 1000
CLAIM_PAGES: Final = 10
CONSUMER_CLEANUP_S: Final = 60.0
CONSUMER_FORGET_MS: Final = 3_600_000  # a consumer idle for an hour with nothing pending is gone
TICKET_CACHE: Final = 10_000


@dataclass(slots=True, eq=False)
class Item:
    """One stream entry in hand."""

    entry_id: str
    seq: int
    ticket_id: int | None
    event: dict[str, Any] | None  # None: the entry could not be read
    raw: str


@dataclass(slots=True, eq=False)
class Lane:
    """The entries of one ticket in hand, delivered lowest cursor first by one task."""

    items: dict[str, Item] = field(default_factory=dict)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None


def _parse(entry_id: str, fields: dict[str, str]) -> Item:
    seq = int(entry_id.split("-", 1)[0])
    raw = fields.get("p", "")
    try:
        event = orjson.loads(raw)
        ticket_id = int(event["ticket"]["id"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return Item(entry_id, seq, None, None, raw)
    return Item(entry_id, seq, ticket_id, event, raw)


class WebhookWorker:
    """Delivers one webhook's events; run it with :meth:`run` and cancel it to stop."""

    def __init__(
        self,
        webhook: store.Webhook,
        *,
        client: RedisClient,
        pool: asyncpg.Pool,
        http: aiohttp.ClientSession,
        settings: Settings,
        consumer: str,
    ) -> None:
        self.webhook = webhook
        self.client = client
        self.pool = pool
        self.http = http
        self.settings = settings
        self.consumer = consumer
        self.stream = agency_stream(webhook.agency)
        self.group = group_name(webhook.id)
        self.inflight: dict[str, Item] = {}
        self.lanes: dict[int, Lane] = {}
        self.room = asyncio.Event()
        self._tickets: dict[str, int | None] = {}  # entry id → ticket, for others' pending entries
        self.claim_idle_ms = max(1, int(settings.delivery_claim_idle_s * 1000))
        self.claim_interval = max(0.02, settings.delivery_claim_idle_s / 3)
        # What happened, for tests and logs.
        self.delivered = 0
        self.dead_lettered = 0
        self.claimed = 0

    # The loop ---------------------------------------------------------------------------

    async def run(self) -> None:
        """Deliver until cancelled. Events in hand at cancellation stay pending for others."""
        try:
            await self._loop()
        finally:
            tasks = [lane.task for lane in self.lanes.values() if lane.task is not None]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        next_claim = 0.0
        next_cleanup = loop.time() + CONSUMER_CLEANUP_S
        backoff = Backoff()
        group_ready = False
        while True:
            try:
                if not group_ready:
                    await ensure_group(self.client, self.webhook.agency, self.webhook.id, self.webhook.start_seq)
                    group_ready = True
                if loop.time() >= next_claim:
                    await self._heartbeat()
                    await self._claim()
                    next_claim = loop.time() + self.claim_interval
                if loop.time() >= next_cleanup:
                    await self._forget_dead_consumers()
                    next_cleanup = loop.time() + CONSUMER_CLEANUP_S
                room = self.settings.delivery_concurrency - len(self.inflight)
                wait_s = max(0.001, next_claim - loop.time())
                if room <= 0:
                    self.room.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(wait_s):  # not wait_for: it can swallow a cancel
                            await self.room.wait()
                    continue
                response: Any = await self.client.xreadgroup(
                    self.group,
                    self.consumer,
                    {self.stream: ">"},
                    count=room,
                    block=max(1, int(min(READ_BLOCK_S, wait_s) * 1000)),
                )
                for _, entries in response or []:
                    for entry_id, fields in entries:
                        self._accept(entry_id, fields)
                backoff.succeeded()
            except REDIS_DOWN as exc:  # before ResponseError: a Cluster's CLUSTERDOWN is one too
                log.warning(
                    "delivery.redis_unavailable", webhook_id=self.webhook.id, error=repr(exc), retry_in=backoff.delay
                )
                await backoff.wait()
                group_ready = False
            except redis.exceptions.ResponseError as exc:
                if not is_nogroup(exc):
                    raise
                # Redis was flushed or the stream deleted: make the group again and go on.
                log.warning("delivery.group_recreated", webhook_id=self.webhook.id, agency=self.webhook.agency)
                group_ready = False

    def _accept(self, entry_id: str, fields: dict[str, str] | None) -> None:
        if entry_id in self.inflight or fields is None:
            return
        item = _parse(entry_id, fields)
        self.inflight[entry_id] = item
        key = item.ticket_id if item.ticket_id is not None else 0
        lane = self.lanes.get(key)
        if lane is None:
            lane = self.lanes[key] = Lane()
            lane.items[entry_id] = item
            lane.task = asyncio.get_running_loop().create_task(
                self._run_lane(key, lane), name=f"delivery-{self.webhook.id}-{key}"
            )
        else:
            lane.items[entry_id] = item
            lane.changed.set()

    # Claiming and keeping claims ---------------------------------------------------------

    async def _heartbeat(self) -> None:
        ids = list(self.inflight)
        for start in range(0, len(ids), 1000):
            chunk: list[Any] = ids[start : start + 1000]
            await self.client.xclaim(self.stream, self.group, self.consumer, 0, chunk, justid=True)

    async def _claim(self) -> None:
        start = "0-0"
        for _ in range(CLAIM_PAGES):
            result: Any = await self.client.xautoclaim(
                self.stream, self.group, self.consumer, self.claim_idle_ms, start_id=start, count=100
            )
            next_start, claimed = result[0], result[1]
            gone = list(result[2]) if len(result) > 2 else []
            for entry_id, fields in claimed:
                if fields is None:
                    gone.append(entry_id)
                elif entry_id not in self.inflight:
                    self.claimed += 1
                    log.info("delivery.claimed", webhook_id=self.webhook.id, entry=entry_id, consumer=self.consumer)
                    self._accept(entry_id, fields)
            if gone:  # trimmed from the stream while pending: nothing left to deliver
                await self.client.xack(self.stream, self.group, *gone)
            if next_start in ("0-0", "0"):
                return
            start = next_start

    async def _forget_dead_consumers(self) -> None:
        for consumer in await self.client.xinfo_consumers(self.stream, self.group):
            if (
                consumer["name"] != self.consumer
                and int(consumer["pending"]) == 0
                and int(consumer["idle"]) > CONSUMER_FORGET_MS
            ):
                await self.client.xgroup_delconsumer(self.stream, self.group, consumer["name"])

    # One ticket's lane -----------------------------------------------------------------

    async def _run_lane(self, key: int, lane: Lane) -> None:
        poll = 0.02
        try:
            while lane.items:
                item = min(lane.items.values(), key=lambda i: i.seq)
                try:
                    blocked = item.event is not None and await self._earlier_pending(item)
                except REDIS_DOWN as exc:
                    log.warning("delivery.redis_unavailable", webhook_id=self.webhook.id, error=repr(exc))
                    blocked = True
                if blocked:
                    lane.changed.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(poll):  # not wait_for: it can swallow a cancel
                            await lane.changed.wait()
                    poll = min(poll * 2, 1.0)
                    continue
                poll = 0.02
                await self._handle(item)
                del lane.items[item.entry_id]
                self.inflight.pop(item.entry_id, None)
                self.room.set()
        except Exception:
            # Let the entries go idle, so that a worker (this one too) claims them again.
            log.exception("delivery.lane_failed", webhook_id=self.webhook.id, ticket_id=key)
        finally:
            for entry_id in lane.items:
                self.inflight.pop(entry_id, None)
            if self.lanes.get(key) is lane:
                del self.lanes[key]
            self.room.set()

    async def _earlier_pending(self, item: Item) -> bool:
        """Whether an earlier event of the same ticket is still in someone's hands."""
        try:
            pending: Any = await self.client.xpending_range(
                self.stream, self.group, min="-", max=f"({item.entry_id}", count=PENDING_SCAN
            )
        except redis.exceptions.ResponseError as exc:
            if is_nogroup(exc):
                return False  # the group is gone, and with it every earlier claim
            raise
        for entry in pending:
            entry_id = entry["message_id"]
            other = self.inflight.get(entry_id)
            ticket = other.ticket_id if other is not None else await self._ticket_of(entry_id)
            if ticket == item.ticket_id:
                return True
        return False

    async def _ticket_of(self, entry_id: str) -> int | None:
        if entry_id not in self._tickets:
            if len(self._tickets) >= TICKET_CACHE:
                self._tickets.clear()
            entries = await read_range(self.client, self.stream, entry_id, entry_id)
            self._tickets[entry_id] = _parse(entry_id, entries[0][1]).ticket_id if entries else None
        return self._tickets[entry_id]

    # Delivering one event --------------------------------------------------------------

    async def _handle(self, item: Item) -> None:
        if item.event is None:
            await self._dead_letter(item, "the stream entry could not be read", 0)
            return
        if not wanted_by(self.webhook, item.event):
            await self._ack(item)
            return
        body = body_for(self.webhook, item.event, item.seq)
        ident = delivery_id(item.seq, self.webhook.id)
        event_type = str(item.event.get("type", ""))
        attempts = 0
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.delivery_max_attempts),
            # Exponential from the initial delay up to the cap, plus up to one initial delay of
            # jitter, so that the workers of many processes do not retry in step.
            wait=wait_exponential(
                multiplier=self.settings.delivery_retry_initial_s, max=self.settings.delivery_retry_max_s
            )
            + wait_random(0, self.settings.delivery_retry_initial_s),
            retry=retry_if_exception_type(DeliveryFailed),
            before_sleep=self._log_retry(item),
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    attempts = attempt.retry_state.attempt_number
                    try:
                        await send(
                            self.http,
                            self.webhook,
                            body,
                            delivery_id=ident,
                            event_type=event_type,
                            timeout_s=self.settings.delivery_timeout_s,
                        )
                    except DeliveryFailed as exc:
                        if attempts < self.settings.delivery_max_attempts:
                            await self._record(store.record_failure(self.pool, self.webhook.id, str(exc)))
                        raise
        except DeliveryFailed as exc:
            await self._dead_letter(item, str(exc), attempts)
            return
        await self._ack(item)
        self.delivered += 1
        log.info(
            "delivery.delivered",
            webhook_id=self.webhook.id,
            agency=self.webhook.agency,
            cursor=item.seq,
            ticket_id=item.ticket_id,
            event_type=event_type,
            attempts=attempts,
        )
        await self._record(store.record_delivered(self.pool, self.webhook.id))

    def _log_retry(self, item: Item) -> Any:
        def before_sleep(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "delivery.retry",
                webhook_id=self.webhook.id,
                cursor=item.seq,
                ticket_id=item.ticket_id,
                attempt=state.attempt_number,
                error=str(error),
                retry_in=round(state.upcoming_sleep, 3),
            )

        return before_sleep

    async def _ack(self, item: Item) -> None:
        # Delivered: the acknowledgement must get through, or the event goes out again later.
        backoff = Backoff()
        while True:
            try:
                await self.client.xack(self.stream, self.group, item.entry_id)
                return
            except REDIS_DOWN as exc:
                log.warning("delivery.ack_retry", webhook_id=self.webhook.id, error=repr(exc))
                await backoff.wait()

    async def _dead_letter(self, item: Item, error: str, attempts: int) -> None:
        fields: dict[Any, Any] = {
            "entry": item.entry_id,
            "w": str(self.webhook.id),
            "agency": self.webhook.agency,
            "t": str(item.ticket_id or ""),
            "type": str((item.event or {}).get("type", "")),
            "cursor": str(item.seq),
            "p": item.raw,
            "error": error[:1000],
            "attempts": str(attempts),
            "failed_at": datetime.now(UTC).isoformat(),
            "consumer": self.consumer,
        }
        backoff = Backoff()
        while True:
            try:
                # One MULTI over two keys: on a Cluster it needs both on one slot, which the
                # agency's hash tag in both names gives (dispatch/delivery/streams.py).
                pipe = self.client.pipeline(transaction=True)
                pipe.xadd(dead_stream(self.webhook.agency), fields, maxlen=DEAD_MAXLEN, approximate=True)
                pipe.xack(self.stream, self.group, item.entry_id)
                await pipe.execute()
                break
            except REDIS_DOWN as exc:
                log.warning("delivery.dead_letter_retry", webhook_id=self.webhook.id, error=repr(exc))
                await backoff.wait()
        self.dead_lettered += 1
        log.error(
            "delivery.dead_lettered",
            webhook_id=self.webhook.id,
            agency=self.webhook.agency,
            cursor=item.seq,
            ticket_id=item.ticket_id,
            attempts=attempts,
            error=error,
        )
        await self._record(store.record_failure(self.pool, self.webhook.id, error, dead=True))

    async def _record(self, write: Any) -> None:
        # Bookkeeping for operators: never worth failing a delivery over.
        try:
            await write
        except DATABASE_DOWN as exc:
            log.warning("delivery.bookkeeping_failed", webhook_id=self.webhook.id, error=repr(exc))
