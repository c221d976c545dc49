"""The event bus on Redis Streams: one stream for everything and one per agency.

Entries carry explicit ids ``<seq>-0`` where ``seq`` is the outbox sequence number, so a
stream id and a client's cursor are the same number, and a republished event cannot be
added twice (Redis refuses an id that is not above the stream's last one). Keys carry hash
tags so that a stream and its companions stay on one Redis Cluster slot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.exceptions

from dispatch.encoding import dumps
from dispatch.runtime.redis_client import RedisClient
from dispatch.store.feed import FeedEvent

ALL_STREAM = "dispatch:{events}:all"
# Enough for a desk away for hours at provincial load; older events replay from PostgreSQL.
STREAM_MAXLEN = 500_000


def agency_stream(agency: str) -> str:
    """The stream an agency's adapters consume."""
    return f"dispatch:{{agency:{agency}}}:events"


@dataclass(frozen=True, slots=True)
class BusEntry:
    """One stream entry: the cursor, the client payload (JSON text) and the filter fields."""

    seq: int
    payload: str
    agencies: frozenset[str]
    created_by: int | None
    district: str | None
    type: str = ""


def _fields(event: FeedEvent) -> dict[str, str]:
    return {
        "p": dumps(event.payload).decode(),
        "a": ",".join(event.agencies),
        "c": str(event.created_by or ""),
        "d": event.district or "",
        "t": str(event.payload.get("type", "")),
    }


def parse_entry(entry_id: str, fields: dict[str, str]) -> BusEntry:
    """A stream entry as the hub uses it."""
    return BusEntry(
        seq=int(entry_id.split("-", 1)[0]),
        payload=fields["p"],
        agencies=frozenset(a for a in fields.get("a", "").split(",") if a),
        created_by=int(fields["c"]) if fields.get("c") else None,
        district=fields.get("d") or None,
        type=fields.get("t", ""),
    )


async def publish(client: RedisClient, events: Sequence[FeedEvent]) -> None:
    """Add the events to the all-stream and their agencies' streams, in order.

    An entry already there (a republish after a crash) is skipped; any other failure
    raises, and the caller retries the same events later.
    """
    if not events:
        return
    # Not a MULTI: the all-stream and the agencies' streams lie on different Cluster slots. A
    # Cluster client splits the pipeline by node and keeps each node's commands in order, so
    # every stream still gets its entries in order; a partial failure raises, and the retry
    # skips what already got in (ids are explicit).
    pipe = client.pipeline(transaction=False)
    for event in events:
        fields: Any = _fields(event)
        entry_id = f"{event.seq}-0"
        pipe.xadd(ALL_STREAM, fields, id=entry_id, maxlen=STREAM_MAXLEN, approximate=True)
        for agency in event.agencies:
            pipe.xadd(agency_stream(agency), fields, id=entry_id, maxlen=STREAM_MAXLEN, approximate=True)
    results = await pipe.execute(raise_on_error=False)
    for result in results:
        if isinstance(result, redis.exceptions.ResponseError) and "equal or smaller" in str(result):
            continue  # already published before a crash
        if isinstance(result, Exception):
            raise result


async def first_seq(client: RedisClient) -> int | None:
    """The oldest cursor the all-stream still holds, None when it is empty."""
    entries: Any = await client.xrange(ALL_STREAM, "-", "+", count=1)
    return int(entries[0][0].split("-", 1)[0]) if entries else None


async def last_seq(client: RedisClient) -> int | None:
    """The newest cursor on the all-stream, None when it is empty."""
    entries: Any = await client.xrevrange(ALL_STREAM, "+", "-", count=1)
    return int(entries[0][0].split("-", 1)[0]) if entries else None


async def read_after(client: RedisClient, after_seq: int, count: int = 1000) -> list[BusEntry]:
    """Entries after ``after_seq``, oldest first, at most ``count``."""
    entries: Any = await client.xrange(ALL_STREAM, f"({after_seq}-0", "+", count=count)
    return [parse_entry(entry_id, fields) for entry_id, fields in entries]


async def wait_after(client: RedisClient, after_seq: int, *, block_ms: int, count: int = 1000) -> list[BusEntry]:
    """Entries after ``after_seq``, waiting up to ``block_ms`` for the first to arrive."""
    # One stream per XREAD: a Cluster refuses an XREAD over keys of several slots.
    response: Any = await client.xread({ALL_STREAM: f"{after_seq}-0"}, count=count, block=block_ms)
    if not response:
        return []
    [(_, entries)] = response
    return [parse_entry(entry_id, fields) for entry_id, fields in entries]
