"""``dispatch archive verify``: an archive's files against its manifest, and the manifest
against the database.

The files must be there with the SHA-256 the manifest gives, compressed and decompressed. While
the month is still in the database, its rows are read again as the export read them (same
choice of tickets, same columns, same order, same text settings) and must hash to the same
CSV: a ticket reopened, a late event, a purge that anonymised a caller after the export, any
changed row makes the archive stale, and the delete refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import asyncpg

from dispatch.archive.export import RowSink, copy_rows
from dispatch.archive.manifest import Manifest, check_files, read_manifest
from dispatch.archive.month import CHOSEN, Month, choose_tickets
from dispatch.archive.tables import TABLES, check_schema, set_text_settings, stored_columns
from dispatch.errors import ArchiveError


@dataclass(frozen=True, slots=True)
class Verified:
    """What a verification found: the manifest, its SHA-256, and the month's state in the
    database (None: all of it is there; ``deleting`` or ``archived``)."""

    manifest: Manifest
    manifest_sha256: str
    state: str | None


async def month_state(conn: asyncpg.Connection, month: Month) -> tuple[str, str] | None:
    """The month's row in ``archived_months``: (state, manifest SHA-256), or None."""
    row = await conn.fetchrow("SELECT state, manifest_sha256 FROM archived_months WHERE month = $1", month.start.date())
    return None if row is None else (row["state"], row["manifest_sha256"])


async def verify_archive(conn: asyncpg.Connection, directory: Path) -> Verified:
    """Check the files, then the database; an ArchiveError says what differs."""
    manifest, digest = read_manifest(directory)
    check_files(directory, manifest)
    month = Month.parse(manifest.month)
    recorded = await month_state(conn, month)
    if recorded is not None:
        state, recorded_digest = recorded
        if recorded_digest != digest:
            raise ArchiveError(f"{month} was {state} with another archive (manifest SHA-256 {recorded_digest[:12]}…)")
        return Verified(manifest, digest, state)
    await compare_database(conn, month, manifest)
    return Verified(manifest, digest, None)


async def compare_database(conn: asyncpg.Connection, month: Month, manifest: Manifest) -> None:
    """Read the month again and compare every table with the manifest."""
    async with conn.transaction(isolation="repeatable_read"):
        await check_schema(conn)
        await set_text_settings(conn)
        held = await choose_tickets(conn, month)
        count: int = await conn.fetchval(f"SELECT count(*) FROM {CHOSEN}")
        if count != manifest.tickets or held != manifest.held_back:
            raise ArchiveError(
                f"the database's {month} no longer matches the archive: {count} ticket(s) to archive,"
                f" the archive holds {manifest.tickets}: export it again"
            )
        for table in TABLES:
            entry = manifest.table(table.name)
            columns = await stored_columns(conn, table.name)
            if columns != entry.columns:
                raise ArchiveError(
                    f"{table.name} has other columns than when the archive was written ({manifest.schema_version}):"
                    " export it again"
                )
            sink = RowSink()
            rows = await copy_rows(conn, table, columns, sink)
            if rows != entry.rows or sink.content.hexdigest() != entry.content_sha256:
                raise ArchiveError(
                    f"the database's {month} no longer matches the archive in {table.name}"
                    f" ({rows} row(s) now, {entry.rows} archived, or rows changed since): export it again"
                )
