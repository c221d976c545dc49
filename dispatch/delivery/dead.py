"""Dead letters: events no attempt got through to a webhook. Supervisors list and replay them.

A dead letter is an entry of the agency's dead-letter stream; it is named
``<agency>:<entry id>`` (e.g. ``health:1731400000000-0``). Replaying sends it once more,
signed afresh, with its original delivery id (a receiver that got it after all drops it);
a dead letter delivered by a replay is deleted, one that fails again stays with the new error.
Replayed events may arrive after later events of the same ticket: receivers order by the
``cursor`` of each ticket's events (docs/agencies.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
import orjson
import structlog

import agencies
from dispatch.delivery.payload import body_for, delivery_id
from dispatch.delivery.sender import DeliveryFailed, send
from dispatch.delivery.streams import dead_stream, read_range
from dispatch.errors import NotFound, ValidationFailed
from dispatch.runtime.redis_client import RedisClient
from dispatch.store import webhooks as store

log = structlog.get_logger("dispatch.delivery")

DEAD_ID = re.compile(r"^([a-z][a-z0-9_]{1,31}):(\d{1,20}-\d{1,20})$")


@dataclass(frozen=True, slots=True)
class ReplayResult:
    """What a replay of one dead letter did."""

    id: str
    delivered: bool
    status: int | None = None
    error: str | None = None


def parse_dead_id(dead_id: str) -> tuple[str, str]:
    """``(agency, entry id)`` of a dead letter's name; ValidationFailed if it is not one."""
    match = DEAD_ID.match(dead_id.strip())
    if match is None or match.group(1) not in agencies.AGENCIES:
        raise ValidationFailed(
            f"{dead_id!r} is not a dead letter id (AGENCY:ENTRY, e.g. health:1731400000000-0)",
            details=[{"field": "ids", "id": dead_id}],
        )
    return match.group(1), match.group(2)


def _item(agency: str, entry_id: str, fields: dict[str, str]) -> dict[str, Any]:
    webhook_id = int(fields.get("w") or 0)
    cursor = int(fields.get("cursor") or 0)
    return {
        "id": f"{agency}:{entry_id}",
        "agency": agency,
        "webhook_id": webhook_id,
        "delivery_id": delivery_id(cursor, webhook_id),
        "type": fields.get("type", ""),
        "cursor": str(cursor),
        "ticket_id": int(fields["t"]) if fields.get("t") else None,
        "attempts": int(fields.get("attempts") or 0),
        "error": fields.get("error", ""),
        "failed_at": fields.get("failed_at", ""),
    }


async def list_dead(client: RedisClient, *, agency: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    """Dead letters, oldest first (the order a replay goes in), of one agency or all."""
    items: list[dict[str, Any]] = []
    for code in [agency] if agency else list(agencies.AGENCIES):
        entries = await read_range(client, dead_stream(code), count=limit)
        items += [_item(code, entry_id, fields) for entry_id, fields in entries]
    items.sort(key=lambda i: (i["failed_at"], i["id"]))
    return items[:limit]


async def _entries(
    client: RedisClient, ids: list[str] | None, agency: str | None
) -> list[tuple[str, str, dict[str, str]]]:
    if ids is None:
        found: list[tuple[str, str, dict[str, str]]] = []
        for code in [agency] if agency else list(agencies.AGENCIES):
            found += [(code, entry_id, fields) for entry_id, fields in await read_range(client, dead_stream(code))]
        found.sort(key=lambda e: (e[2].get("failed_at", ""), e[1]))
        return found
    wanted = [parse_dead_id(i) for i in ids]
    found = []
    missing: list[str] = []
    for code, entry_id in wanted:
        entries = await read_range(client, dead_stream(code), entry_id, entry_id)
        if entries:
            found.append((code, entry_id, entries[0][1]))
        else:
            missing.append(f"{code}:{entry_id}")
    if missing:
        raise NotFound(f"no dead letter {', '.join(missing)}", code="dead_letter_not_found", details=[{"ids": missing}])
    return found


async def replay(
    client: RedisClient,
    pool: asyncpg.Pool | asyncpg.Connection,
    http: aiohttp.ClientSession,
    *,
    ids: list[str] | None = None,
    agency: str | None = None,
    timeout_s: float = 10.0,
) -> list[ReplayResult]:
    """Send dead letters once more, oldest first: the named ones (404 if one is missing,
    before anything is sent) or, with ``ids`` None, all of them (of ``agency``, if given)."""
    results = []
    for code, entry_id, fields in await _entries(client, ids, agency):
        name = f"{code}:{entry_id}"
        webhook = await store.load_webhook(pool, int(fields.get("w") or 0))
        if webhook is None or not webhook.active:
            results.append(ReplayResult(name, False, error="the webhook was removed; the dead letter stays"))
            continue
        cursor = int(fields.get("cursor") or 0)
        try:
            event = orjson.loads(fields.get("p", ""))
        except orjson.JSONDecodeError:
            results.append(ReplayResult(name, False, error="the dead letter's event cannot be read"))
            continue
        try:
            status = await send(
                http,
                webhook,
                body_for(webhook, event, cursor),
                delivery_id=delivery_id(cursor, webhook.id),
                event_type=str(event.get("type", "")),
                timeout_s=timeout_s,
            )
        except DeliveryFailed as exc:
            log.warning("delivery.replay_failed", dead_letter=name, error=str(exc))
            await store.record_failure(pool, webhook.id, str(exc))
            results.append(ReplayResult(name, False, status=exc.status, error=str(exc)))
            continue
        await client.xdel(dead_stream(code), entry_id)
        await store.record_delivered(pool, webhook.id)
        log.info("delivery.replayed", dead_letter=name, webhook_id=webhook.id, cursor=cursor)
        results.append(ReplayResult(name, True, status=status))
    return results
