"""``dispatch archive export``: a month's finished tickets and every row that refers to them,
one gzip-compressed CSV file per table (``tickets-2023-11.csv.gz`` …), then the manifest.

Everything is read in one REPEATABLE READ transaction, so the files are one consistent
snapshot even while the service keeps working. The database is not changed.
"""

from __future__ import annotations

import gzip
import hashlib
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Final

import asyncpg

import dispatch
from dispatch.archive.manifest import FORMAT, Manifest, TableFile, write_manifest
from dispatch.archive.month import CHOSEN, LOCAL_ZONE, Month, choose_tickets
from dispatch.archive.tables import (
    TABLES,
    ArchivedTable,
    check_schema,
    schema_version,
    select_rows,
    set_text_settings,
    stored_columns,
)
from dispatch.errors import ArchiveError

# gzip's default (9) costs twice the time of 6 for about 2 % smaller files of this text.
COMPRESSION_LEVEL: Final = 6
CHOSEN_IDS: Final = f"(SELECT id FROM {CHOSEN})"


class RowSink:
    """Where COPY writes a table's CSV: hashed, and compressed into a file when one is given."""

    def __init__(self, path: Path | None = None) -> None:
        self.content = hashlib.sha256()
        self.compressed = hashlib.sha256()
        self._raw: IO[bytes] | None = None
        self._gzip: gzip.GzipFile | None = None
        if path is not None:
            self._raw = path.open("wb")
            # mtime 0 and no file name: the same rows compress to the same bytes.
            self._gzip = gzip.GzipFile(
                filename="",
                mode="wb",
                fileobj=_Hashing(self._raw, self.compressed),
                compresslevel=COMPRESSION_LEVEL,
                mtime=0,
            )

    async def write(self, chunk: bytes) -> None:
        self.content.update(chunk)
        if self._gzip is not None:
            self._gzip.write(chunk)

    def close(self) -> None:
        if self._gzip is not None and self._raw is not None:
            self._gzip.close()
            self._raw.flush()
            self._raw.close()


class _Hashing:
    """A file object that hashes what goes through it."""

    def __init__(self, raw: IO[bytes], digest: hashlib._Hash) -> None:
        self._raw, self._digest = raw, digest

    def write(self, data: bytes) -> int:
        self._digest.update(data)
        return self._raw.write(data)

    def flush(self) -> None:
        self._raw.flush()


async def copy_rows(conn: asyncpg.Connection, table: ArchivedTable, columns: list[str], sink: RowSink) -> int:
    """COPY the rows of the chosen tickets in ``table`` into ``sink``; how many there were."""
    status = await conn.copy_from_query(
        select_rows(table, columns, CHOSEN_IDS), output=sink.write, format="csv", header=True
    )
    return int(status.split()[-1])


async def max_id(conn: asyncpg.Connection, table: ArchivedTable) -> int | None:
    """The highest id among the chosen tickets' rows of ``table`` (None without an id key)."""
    if table.key != "id":
        return None
    value: int | None = await conn.fetchval(f"SELECT max(id) FROM {table.name} WHERE {table.where(CHOSEN_IDS)}")
    return value


async def refuse_archived(conn: asyncpg.Connection, month: Month) -> None:
    """Refuse a month that is being deleted or deleted already."""
    state = await conn.fetchval("SELECT state FROM archived_months WHERE month = $1", month.start.date())
    if state == "archived":
        raise ArchiveError(f"{month} is already archived: its tickets are no longer in the database")
    if state == "deleting":
        raise ArchiveError(f"{month} is being deleted: finish with dispatch archive delete, or restore it first")


async def export_month(conn: asyncpg.Connection, month: Month, directory: Path) -> Manifest:
    """Write the month's archive into ``directory`` (created; must hold no other files) and
    return its manifest."""
    month.require_past(datetime.now(UTC))
    await refuse_archived(conn, month)
    _prepare(directory)
    entries: list[TableFile] = []
    async with conn.transaction(isolation="repeatable_read"):
        await check_schema(conn)
        version = await schema_version(conn)
        await set_text_settings(conn)
        held = await choose_tickets(conn, month)
        count: int = await conn.fetchval(f"SELECT count(*) FROM {CHOSEN}")
        for table in TABLES:
            columns = await stored_columns(conn, table.name)
            name = f"{table.name}-{month}.csv.gz"
            partial = directory / (name + ".partial")
            sink = RowSink(partial)
            try:
                rows = await copy_rows(conn, table, columns, sink)
            finally:
                sink.close()
            partial.replace(directory / name)
            entries.append(
                TableFile(
                    table=table.name,
                    file=name,
                    rows=rows,
                    sha256=sink.compressed.hexdigest(),
                    content_sha256=sink.content.hexdigest(),
                    columns=columns,
                    max_id=await max_id(conn, table),
                )
            )
    manifest = Manifest(
        format=FORMAT,
        month=str(month),
        time_zone=str(LOCAL_ZONE),
        period_start=month.start.isoformat(),
        period_end=month.end.isoformat(),
        schema_version=version,
        dispatch_version=dispatch.__version__,
        exported_at=datetime.now(UTC).isoformat(timespec="seconds"),
        tickets=count,
        held_back=held,
        tables=entries,
    )
    write_manifest(directory, manifest)
    return manifest


def _prepare(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.iterdir()):
        raise ArchiveError(f"{directory} is not empty: an archive goes into a directory of its own")
