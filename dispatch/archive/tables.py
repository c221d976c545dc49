"""The tables an archive holds, how the rows of a set of tickets are chosen in each, and their
columns as the database has them now.

Parents come first (the order a restore inserts in), children last (a delete goes backwards).
Every table with a foreign key to one of these must be listed here, or the archive would leave
rows pointing at nothing: ``check_schema`` refuses to run otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import asyncpg

from dispatch.errors import ArchiveError


@dataclass(frozen=True, slots=True)
class ArchivedTable:
    """One table: its name, the columns that order its rows (a unique key), and the condition
    that picks the rows of the tickets in ``{ids}`` (a subquery of ticket ids)."""

    name: str
    key: str
    belongs: str

    def where(self, ids: str) -> str:
        """The condition for the tickets of the subquery ``ids``."""
        return self.belongs.format(ids=ids)


TABLES: Final = (
    ArchivedTable("tickets", "id", "id IN {ids}"),
    ArchivedTable("reports", "id", "ticket_id IN {ids}"),
    ArchivedTable("assignments", "id", "ticket_id IN {ids}"),
    ArchivedTable("escalations", "id", "assignment_id IN (SELECT id FROM assignments WHERE ticket_id IN {ids})"),
    ArchivedTable("feedback", "id", "ticket_id IN {ids}"),
    ArchivedTable("sms_messages", "id", "ticket_id IN {ids}"),
    ArchivedTable("eido_imports", "tracking_id", "ticket_id IN {ids}"),
    ArchivedTable("events", "id", "ticket_id IN {ids}"),
    ArchivedTable("outbox", "event_id", "event_id IN (SELECT id FROM events WHERE ticket_id IN {ids})"),
)

# Output settings of the transactions that write or compare an archive: the same rows are the
# same bytes on any server, whatever its configured time zone or date style.
TEXT_SETTINGS: Final = (
    "SET LOCAL TimeZone = 'UTC'",
    "SET LOCAL DateStyle = 'ISO, YMD'",
    "SET LOCAL IntervalStyle = 'postgres'",
    "SET LOCAL extra_float_digits = 1",
    "SET LOCAL bytea_output = 'hex'",
)


async def set_text_settings(conn: asyncpg.Connection) -> None:
    """Make this transaction write values as every archive does."""
    for statement in TEXT_SETTINGS:
        await conn.execute(statement)


async def stored_columns(conn: asyncpg.Connection, table: str) -> list[str]:
    """The table's columns that hold data, in order (generated ones are computed again)."""
    rows = await conn.fetch(
        """
        SELECT attname FROM pg_attribute
        WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
        ORDER BY attnum
        """,
        table,
    )
    return [r["attname"] for r in rows]


async def check_schema(conn: asyncpg.Connection) -> None:
    """Refuse when a table this module does not know refers to one it archives."""
    names = [t.name for t in TABLES]
    rows = await conn.fetch(
        """
        SELECT conrelid::regclass::text AS referrer, confrelid::regclass::text AS referred, conname
        FROM pg_constraint
        WHERE contype = 'f' AND confrelid = ANY($1::text[]::regclass[]) AND NOT conrelid = ANY($1::text[]::regclass[])
        ORDER BY 1, 3
        """,
        names,
    )
    if rows:
        found = ", ".join(f"{r['referrer']} → {r['referred']} ({r['conname']})" for r in rows)
        raise ArchiveError(f"tables the archive does not know refer to archived rows: {found}")


async def schema_version(conn: asyncpg.Connection) -> str:
    """The name of the last migration applied, e.g. ``0014_archive.sql``."""
    name: str | None = await conn.fetchval("SELECT name FROM schema_migrations ORDER BY version DESC LIMIT 1")
    if name is None:
        raise ArchiveError("the database has no migrations applied: run dispatch migrate")
    return name


def select_rows(table: ArchivedTable, columns: list[str], ids: str) -> str:
    """The query that reads a table's rows of the tickets in ``ids``, in key order."""
    listed = ", ".join(f'"{c}"' for c in columns)
    return f"SELECT {listed} FROM {table.name} WHERE {table.where(ids)} ORDER BY {table.key}"
