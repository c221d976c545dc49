"""Retention (``dispatch purge``): what the service keeps about a person ends with the period.

Tickets closed (or merged, cancelled) longer ago than the period lose their callers' phone
numbers and names, their intake facts, and the personal numbers in their free text; events
older than the period leave the Redis streams. Statistics keep every other field. See
docs/privacy.md and docs/decisions/0005-redacting-events.md.
"""

from __future__ import annotations

import time
from typing import Final

import asyncpg

import agencies
from dispatch.delivery.streams import dead_stream
from dispatch.pipeline.bus import ALL_STREAM, agency_stream
from dispatch.privacy.personal_data import scrub_event_data, scrub_text
from dispatch.runtime.redis_client import RedisClient

PURGE_BATCH: Final = 500


async def purge_closed(conn: asyncpg.Connection, *, older_than_days: int, batch: int = PURGE_BATCH) -> int:
    """Anonymise the callers of tickets closed (or merged, cancelled) more than
    ``older_than_days`` ago, with their reports, drop their intake facts (they may hold
    medical details), and strike personal numbers and e-mail addresses out of their free text
    (descriptions, resolutions, reasons, notes, feedback comments, also in their events);
    statistics keep every other field. ``batch`` tickets a transaction, so a first run over
    years of tickets neither holds one long transaction nor loses its progress if stopped.
    Returns how many tickets were anonymised."""
    total = 0
    while True:
        async with conn.transaction():
            rows = await conn.fetch(
                """
                UPDATE tickets SET caller_phone = NULL, caller_name = NULL, facts = '{}', anonymised_at = now()
                WHERE id IN (
                    SELECT id FROM tickets
                    WHERE anonymised_at IS NULL AND status IN ('closed', 'merged', 'cancelled', 'answered')
                      AND coalesce(closed_at, updated_at) < now() - make_interval(days => $1)
                    ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED
                )
                RETURNING id
                """,
                older_than_days,
                batch,
            )
            ids = [r["id"] for r in rows]
            if ids:
                await conn.execute(
                    "UPDATE reports SET caller_phone = NULL, caller_name = NULL WHERE ticket_id = ANY($1::bigint[])",
                    ids,
                )
                # Text messages keep their text (number, code, link) but not whom they went to.
                await conn.execute("UPDATE sms_messages SET phone = NULL WHERE ticket_id = ANY($1::bigint[])", ids)
                for table, ticket_column, columns in _FREE_TEXT:
                    await _scrub_columns(conn, table, ticket_column, columns, ids)
                await _scrub_events(conn, ids)
        total += len(ids)
        if len(ids) < batch:
            if total:
                # An address struck out of its tickets leaves the distinct addresses search matches.
                await conn.fetchval("SELECT ticket_addresses_prune()")
            return total


# Tables with free text about a ticket: (table, its ticket id column, the text columns).
_FREE_TEXT: Final = (
    ("tickets", "id", ("description", "address")),
    ("reports", "ticket_id", ("description",)),
    ("assignments", "ticket_id", ("resolution", "pause_reason", "closed_reason")),
    ("feedback", "ticket_id", ("comment",)),
)


async def _scrub_columns(
    conn: asyncpg.Connection, table: str, ticket_column: str, columns: tuple[str, ...], ticket_ids: list[int]
) -> None:
    listed = ", ".join(columns)
    changed = []
    for row in await conn.fetch(
        f"SELECT id, {listed} FROM {table} WHERE {ticket_column} = ANY($1::bigint[])", ticket_ids
    ):
        texts = [row[c] for c in columns]
        scrubbed = [scrub_text(t) if t else t for t in texts]
        if scrubbed != texts:
            changed.append((row["id"], *scrubbed))
    if changed:
        assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
        await conn.executemany(f"UPDATE {table} SET {assignments} WHERE id = $1", changed)


async def _scrub_events(conn: asyncpg.Connection, ticket_ids: list[int]) -> None:
    # The one rewrite events allow (migration 0005): data only, inside this transaction.
    await conn.execute("SET LOCAL dispatch.redacting = 'on'")
    changed = []
    for row in await conn.fetch("SELECT id, data FROM events WHERE ticket_id = ANY($1::bigint[])", ticket_ids):
        scrubbed = scrub_event_data(row["data"])
        if scrubbed != row["data"]:
            changed.append((row["id"], scrubbed))
    if changed:
        await conn.executemany("UPDATE events SET data = $2 WHERE id = $1", changed)
    await conn.execute("SET LOCAL dispatch.redacting = 'off'")


async def trim_bus(conn: asyncpg.Connection, client: RedisClient, *, older_than_days: int) -> int:
    """Remove events older than ``older_than_days`` from the Redis streams (the live feed's
    all-stream, every agency's stream and dead letters), which carry the tickets' descriptions.
    PostgreSQL keeps them, so a desk resuming from an older cursor replays them from there.
    Returns how many stream entries went."""
    first_kept = await conn.fetchval(
        """
        SELECT coalesce(min(seq) FILTER (WHERE created_at >= now() - make_interval(days => $1)), max(seq) + 1, 1)
        FROM outbox WHERE seq IS NOT NULL
        """,
        older_than_days,
    )
    cutoff_ms = int((time.time() - older_than_days * 86400) * 1000)
    removed = 0
    # Exact (not approximate) trims: nothing older may stay. Entry ids of the event streams are
    # cursors; those of dead letters are times.
    for stream in (ALL_STREAM, *(agency_stream(code) for code in agencies.AGENCIES)):
        removed += int(await client.xtrim(stream, minid=f"{first_kept}-0", approximate=False))
    for code in agencies.AGENCIES:
        removed += int(await client.xtrim(dead_stream(code), minid=f"{cutoff_ms}-0", approximate=False))
    return removed
