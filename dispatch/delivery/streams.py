"""Redis keys and consumer groups of delivery.

Keys carry the agency's hash tag, like its event stream, so that the stream, its groups and
its dead letters stay on one Redis Cluster slot (a dead-lettering MULTI spans two keys).
"""

from __future__ import annotations

from typing import Any, Final, cast

import redis.exceptions

from dispatch.pipeline.bus import agency_stream
from dispatch.runtime.redis_client import RedisClient

DEAD_MAXLEN: Final = 100_000


def group_name(webhook_id: int) -> str:
    """The consumer group of one webhook on its agency's stream."""
    return f"webhook:{webhook_id}"


def dead_stream(agency: str) -> str:
    """The agency's dead-letter stream: events no webhook attempt got through."""
    return f"dispatch:{{agency:{agency}}}:dead"


def is_nogroup(exc: BaseException) -> bool:
    """The group (or its stream) is gone: Redis was flushed or the key deleted."""
    return isinstance(exc, redis.exceptions.ResponseError) and str(exc).startswith("NOGROUP")


async def ensure_group(client: RedisClient, agency: str, webhook_id: int, start_seq: int) -> None:
    """Create the webhook's group if missing (idempotent; creates the stream too).

    The group starts after ``start_seq``: events published before the webhook existed are
    not its business. After a flush the new stream's entries all lie above it (sequence
    numbers come from PostgreSQL and never go back), so recreating at the same place loses
    nothing that Redis still holds.
    """
    try:
        await client.xgroup_create(agency_stream(agency), group_name(webhook_id), id=f"{start_seq}-0", mkstream=True)
    except redis.exceptions.ResponseError as exc:
        if not str(exc).startswith("BUSYGROUP"):
            raise


Entry = tuple[str, dict[str, str]]


async def read_range(
    client: RedisClient, key: str, start: str = "-", end: str = "+", count: int | None = None
) -> list[Entry]:
    """XRANGE of a stream read with ``decode_responses``: ``(id, fields)`` pairs."""
    entries: Any = await client.xrange(key, start, end, count=count)
    return cast(list[Entry], entries or [])
