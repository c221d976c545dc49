"""``dispatch archive restore``: an archived month back into the tables it came from.

Only into a database at the schema version the archive was written at (the last migration
applied, in the manifest), and only for a month this database archived with this very archive.
Everything goes in one transaction: each file is copied into a temporary table, then inserted
with its ids (``OVERRIDING SYSTEM VALUE``), parents first; rows still there (a delete that was
stopped half-way) are kept. A restored ticket queues no text message (migration 0014), and
its outbox rows come back already published, so nothing reaches the desks again. Ticket
numbers and ids are those the tickets had; the sequences, which never went back, stay ahead.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from dispatch.archive.manifest import check_files, read_decompressed, read_manifest
from dispatch.archive.month import Month
from dispatch.archive.tables import TABLES, schema_version, set_text_settings, stored_columns
from dispatch.archive.verify import month_state
from dispatch.errors import ArchiveError


@dataclass(slots=True)
class Restored:
    """The month restored and the rows put back per table (rows still present not counted)."""

    month: str
    rows: dict[str, int] = field(default_factory=dict)


async def restore_archive(conn: asyncpg.Connection, directory: Path) -> Restored:
    """Put the month archived in ``directory`` back; an ArchiveError says why not."""
    manifest, digest = read_manifest(directory)
    check_files(directory, manifest)
    month = Month.parse(manifest.month)
    version = await schema_version(conn)
    if version != manifest.schema_version:
        raise ArchiveError(
            f"the archive was written at schema {manifest.schema_version}, the database is at {version}:"
            " restore it into a database at the archive's version"
        )
    recorded = await month_state(conn, month)
    if recorded is None:
        raise ArchiveError(f"{month} is not archived in this database: nothing to restore")
    if recorded[1] != digest:
        raise ArchiveError(f"{month} was archived with another archive (manifest SHA-256 {recorded[1][:12]}…)")
    restored = Restored(str(month))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL dispatch.archiving = 'on'")
            await set_text_settings(conn)
            for table in TABLES:
                entry = manifest.table(table.name)
                columns = await stored_columns(conn, table.name)
                if columns != entry.columns:
                    raise ArchiveError(f"{table.name} has other columns than the archive's: it cannot go back")
                listed = ", ".join(f'"{c}"' for c in columns)
                staging = f"archive_restore_{table.name}"
                await conn.execute(
                    f"CREATE TEMPORARY TABLE {staging} ON COMMIT DROP AS SELECT {listed} FROM {table.name} WITH NO DATA"
                )
                await conn.copy_to_table(
                    staging, source=_chunks(read_decompressed(directory / entry.file)), format="csv", header=True
                )
                status = await conn.execute(
                    f"INSERT INTO {table.name} ({listed}) OVERRIDING SYSTEM VALUE"
                    f" SELECT {listed} FROM {staging} ORDER BY {table.key} ON CONFLICT DO NOTHING"
                )
                restored.rows[table.name] = int(status.split()[-1])
            await conn.execute("DELETE FROM archived_months WHERE month = $1", month.start.date())
    except asyncpg.ForeignKeyViolationError as exc:
        raise ArchiveError(
            f"{month} refers to rows this database no longer holds ({exc.constraint_name}):"
            " restore the months archived after it first"
        ) from None
    for table in TABLES:
        await conn.execute(f"ANALYZE {table.name}")
    return restored


async def _chunks(chunks: Iterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in chunks:
        yield chunk
