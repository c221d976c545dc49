"""``dispatch archive delete``: a month out of the database, in batches, once its archive is
verified.

The first run verifies the archive against the database (verify.py) and records the month as
``deleting`` in ``archived_months`` with the SHA-256 of the manifest; only then does it delete.
It deletes exactly the tickets the archive's tickets file lists, a batch at a time (one
transaction each: the batch's outbox rows, events, escalations, messages, feedback, EIDO
imports, reports, assignments and tickets, children first). A delete that is killed leaves
whole batches done and the month ``deleting``: running it again with the same archive checks
the files and carries on where it stopped. At the end the month is ``archived`` and the tables
are vacuumed and analysed, so the planner's statistics describe what is left.

Before a batch goes, its tickets are locked and checked once more: still finished, and no row
newer than the archive's. A ticket that changed after the verification stops the delete with
its number; ``dispatch archive restore`` then puts the deleted part back and the month can be
exported again.

Ticket numbers are never reused: ``ticket_number_seq`` and the identity sequences are left as
they are, so new tickets keep counting on, and a restore brings back the same ids and numbers.
"""

from __future__ import annotations

import csv
import gzip
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import asyncpg

from dispatch.archive.manifest import Manifest, TableFile, check_files, read_manifest
from dispatch.archive.month import FINISHED, Month
from dispatch.archive.tables import TABLES
from dispatch.archive.verify import month_state, verify_archive
from dispatch.errors import ArchiveError

BATCH: Final = 1000
_BATCH_IDS: Final = "(SELECT unnest($1::bigint[]))"

# A batch and the tickets that refer to it (a duplicate merged into one of them, a report
# moved from one): those go in the same transaction, or the foreign key would refuse.
_GROUP_SQL: Final = """
WITH RECURSIVE grp(id) AS (
    SELECT id FROM tickets WHERE id = ANY($1::bigint[])
    UNION
    SELECT refs.id FROM grp CROSS JOIN LATERAL (
        SELECT t.id FROM tickets t WHERE t.merged_into = grp.id
        UNION ALL
        SELECT r.ticket_id FROM reports r WHERE r.moved_from = grp.id
    ) refs
)
SELECT coalesce(array_agg(id), '{}') FROM grp
"""


@dataclass(slots=True)
class Deleted:
    """What a delete did: tickets and rows per table, whether it resumed an earlier run or
    found the month archived already, and how long each part took."""

    tickets: int = 0
    rows: Counter[str] = field(default_factory=Counter)
    resumed: bool = False
    already: bool = False
    verify_seconds: float = 0.0
    delete_seconds: float = 0.0
    vacuum_seconds: float = 0.0


async def delete_month(
    conn: asyncpg.Connection, month: Month, directory: Path, *, batch: int = BATCH, vacuum: bool = True
) -> Deleted:
    """Delete the month that the archive in ``directory`` holds; see the module's docstring."""
    manifest, digest = read_manifest(directory)
    if Month.parse(manifest.month) != month:
        raise ArchiveError(f"the archive in {directory} holds {manifest.month}, not {month}")
    done = Deleted()
    began = time.perf_counter()
    recorded = await month_state(conn, month)
    if recorded is not None and recorded[1] != digest:
        raise ArchiveError(f"{month} was {recorded[0]} with another archive (manifest SHA-256 {recorded[1][:12]}…)")
    if recorded is not None and recorded[0] == "archived":
        done.already = True
        return done
    if recorded is None:
        verified = await verify_archive(conn, directory)
        if verified.state is not None:
            raise ArchiveError(f"{month} is {verified.state} already")
        try:
            await conn.execute(
                "INSERT INTO archived_months (month, state, manifest_sha256, tickets) VALUES ($1, 'deleting', $2, $3)",
                month.start.date(),
                digest,
                manifest.tickets,
            )
        except asyncpg.UniqueViolationError:
            raise ArchiveError(f"another delete of {month} started meanwhile") from None
    else:
        done.resumed = True
        check_files(directory, manifest)
    done.verify_seconds = time.perf_counter() - began

    began = time.perf_counter()
    ids = archived_ticket_ids(directory, manifest)
    archived = set(ids)
    newest = {t.table: t for t in manifest.tables}
    # Newest first: a duplicate is mostly newer than the ticket it was merged into.
    ids.sort(reverse=True)
    for start in range(0, len(ids), batch):
        async with conn.transaction():
            await conn.execute("SET LOCAL dispatch.archiving = 'on'")
            group: list[int] = await conn.fetchval(_GROUP_SQL, ids[start : start + batch])
            if not group:
                continue  # deleted by an earlier run, or with an earlier batch
            await _check_unchanged(conn, group, archived, newest)
            for table in reversed(TABLES):
                status = await conn.execute(f"DELETE FROM {table.name} WHERE {table.where(_BATCH_IDS)}", group)
                done.rows[table.name] += int(status.split()[-1])
            done.tickets += len(group)
    # The addresses only the deleted tickets had leave the distinct addresses search matches.
    await conn.fetchval("SELECT ticket_addresses_prune()")
    await conn.execute(
        "UPDATE archived_months SET state = 'archived', finished_at = now() WHERE month = $1", month.start.date()
    )
    done.delete_seconds = time.perf_counter() - began

    if vacuum:
        began = time.perf_counter()
        for table in TABLES:
            await conn.execute(f"VACUUM (ANALYZE) {table.name}")
        done.vacuum_seconds = time.perf_counter() - began
    return done


async def _check_unchanged(
    conn: asyncpg.Connection, group: list[int], archived: set[int], newest: dict[str, TableFile]
) -> None:
    outside = set(group) - archived
    if outside:
        number = await conn.fetchval("SELECT number FROM tickets WHERE id = $1", min(outside))
        raise ArchiveError(
            f"ticket {number} is not in the archive but refers to an archived one: restore the archive and export again"
        )
    rows = await conn.fetch("SELECT number, status FROM tickets WHERE id = ANY($1) ORDER BY id FOR UPDATE", group)
    for row in rows:
        if row["status"] not in FINISHED:
            raise ArchiveError(
                f"ticket {row['number']} was reopened since the export (now {row['status']}):"
                " restore the archive with dispatch archive restore, then export the month again"
            )
    for table in TABLES:
        entry = newest.get(table.name)
        if table.key != "id" or entry is None:
            continue
        newer = await conn.fetchval(
            f"SELECT 1 FROM {table.name} WHERE {table.where(_BATCH_IDS)} AND id > $2 LIMIT 1",
            group,
            entry.max_id if entry.max_id is not None else 0,
        )
        if newer is not None:
            raise ArchiveError(
                f"{table.name} gained rows for archived tickets since the export:"
                " restore the archive with dispatch archive restore, then export the month again"
            )


def archived_ticket_ids(directory: Path, manifest: Manifest) -> list[int]:
    """The ids in the archive's tickets file."""
    entry = manifest.table("tickets")
    csv.field_size_limit(1 << 30)  # a description may be longer than csv's default 128 KiB
    with gzip.open(directory / entry.file, "rt", encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader, None)
        if header is None:
            return []
        column = header.index("id")
        return [int(row[column]) for row in reader]
