"""Incidents handed over by EIDO: which ticket each incident tracking identifier became, and
what of its notes and callback numbers that ticket already holds.

Every call runs in the caller's transaction, after :func:`lock_incident`, so that two
hand-overs of one incident arriving at once make one ticket.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from dispatch.store.assignment_rows import ticket_agencies
from dispatch.store.events import NewEvent, append_events
from dispatch.store.users import Principal


@dataclass(frozen=True, slots=True)
class ImportedIncident:
    """An incident already imported: its ticket and what the ticket holds of it."""

    ticket_id: int
    document_hash: bytes
    notes: frozenset[str]
    callbacks: frozenset[str]  # digests, see :func:`digest`


def digest(text: str) -> str:
    """What ``eido_imports`` keeps of a callback URI: its SHA-256, so that it holds no number."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


async def lock_incident(conn: asyncpg.Connection, tracking_id: str) -> None:
    """Hold the incident's lock until the transaction ends."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 1811))", tracking_id)


async def find_incident(conn: asyncpg.Connection, tracking_id: str) -> ImportedIncident | None:
    """The ticket an earlier hand-over of this incident became, if any."""
    row = await conn.fetchrow(
        "SELECT ticket_id, document_hash, notes, callbacks FROM eido_imports WHERE tracking_id = $1", tracking_id
    )
    if row is None:
        return None
    return ImportedIncident(
        row["ticket_id"], row["document_hash"], frozenset(row["notes"]), frozenset(row["callbacks"])
    )


async def record_incident(
    conn: asyncpg.Connection,
    tracking_id: str,
    ticket_id: int,
    principal: Principal,
    *,
    document_hash: bytes,
    notes: Sequence[str],
    callbacks: Sequence[str],
) -> None:
    """Remember that the incident became ``ticket_id`` (its first hand-over)."""
    await conn.execute(
        """
        INSERT INTO eido_imports (tracking_id, ticket_id, imported_by, document_hash, notes, callbacks)
        VALUES ($1, $2, $3, $4, $5, $6)
        """,
        tracking_id,
        ticket_id,
        principal.id,
        document_hash,
        list(dict.fromkeys(notes)),
        list(dict.fromkeys(callbacks)),
    )


async def merge_update(
    conn: asyncpg.Connection,
    tracking_id: str,
    imported: ImportedIncident,
    principal: Principal,
    *,
    document_hash: bytes,
    events: Sequence[NewEvent],
    notes: Sequence[str],
    callbacks: Sequence[str],
    caller_phone: str | None,
) -> None:
    """Add what an updated hand-over brings to the ticket: its ``events`` (new notes, the
    update itself), the caller's number when the ticket had none; remember the new notes and
    callbacks so that the next update adds only what is new again."""
    await conn.execute(
        """
        UPDATE tickets SET updated_at = now(), caller_phone = coalesce(caller_phone, $2)
        WHERE id = $1
        """,
        imported.ticket_id,
        caller_phone,
    )
    await append_events(conn, events, actor=principal, agencies=await ticket_agencies(conn, imported.ticket_id))
    await conn.execute(
        """
        UPDATE eido_imports SET document_hash = $2, updated_at = now(), versions = versions + 1,
            notes = ARRAY(SELECT DISTINCT unnest(notes || $3::text[])),
            callbacks = ARRAY(SELECT DISTINCT unnest(callbacks || $4::text[]))
        WHERE tracking_id = $1
        """,
        tracking_id,
        document_hash,
        list(notes),
        list(callbacks),
    )
