"""``dispatch archive``: a month of finished tickets out of the database into files and back
(export, verify, delete, restore, list); docs/scaling.md, "Retention and archiving"."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dispatch.cli.command import Subcommands, positive_int, with_database
from dispatch.runtime.settings import Settings


def _month(value: str) -> Any:
    from dispatch.archive.month import Month
    from dispatch.errors import ArchiveError

    try:
        return Month.parse(value)
    except ArchiveError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.archive.export import export_month

    args.month.require_past(datetime.now(UTC))

    async def job(conn: Any) -> int:
        began = time.perf_counter()
        manifest = await export_month(conn, args.month, args.to)
        seconds = time.perf_counter() - began
        size = sum((args.to / t.file).stat().st_size for t in manifest.tables)
        rows = ", ".join(f"{t.table} {t.rows}" for t in manifest.tables)
        print(f"exported {manifest.tickets} ticket(s) of {args.month} to {args.to} in {seconds:.1f} s: {rows}")
        print(f"{size} bytes compressed" + (f", {size / manifest.tickets:.0f} a ticket" if manifest.tickets else ""))
        if manifest.held_back:
            print(
                f"held back {len(manifest.held_back)} ticket(s) that tickets of other months refer to:"
                f" {', '.join(manifest.held_back[:10])}"
            )
        return 0

    return with_database(settings, job)


def cmd_verify(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.archive.verify import verify_archive

    async def job(conn: Any) -> int:
        verified = await verify_archive(conn, args.directory)
        manifest = verified.manifest
        where = {
            None: "the database holds the same rows",
            "deleting": "its delete was started: run dispatch archive delete again to finish it",
            "archived": "the month is archived: the database no longer holds it",
        }[verified.state]
        print(f"{args.directory}: {manifest.month}, {manifest.tickets} ticket(s), every file as exported; {where}")
        return 0

    return with_database(settings, job)


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.archive.delete import delete_month

    async def job(conn: Any) -> int:
        done = await delete_month(conn, args.month, args.from_dir, batch=args.batch, vacuum=not args.no_vacuum)
        if done.already:
            print(f"{args.month} is archived already with this archive: nothing to delete")
            return 0
        rows = ", ".join(f"{table} {count}" for table, count in done.rows.items())
        how = "resumed: " if done.resumed else ""
        print(
            f"{how}deleted {done.tickets} ticket(s) of {args.month} in {done.delete_seconds:.1f} s"
            f" (verified in {done.verify_seconds:.1f} s, vacuumed in {done.vacuum_seconds:.1f} s): {rows or 'no rows'}"
        )
        return 0

    return with_database(settings, job)


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.archive.restore import restore_archive

    async def job(conn: Any) -> int:
        began = time.perf_counter()
        restored = await restore_archive(conn, args.directory)
        rows = ", ".join(f"{table} {count}" for table, count in restored.rows.items())
        print(f"restored {restored.month} in {time.perf_counter() - began:.1f} s: {rows}")
        return 0

    return with_database(settings, job)


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    async def job(conn: Any) -> int:
        rows = await conn.fetch(
            "SELECT to_char(month, 'YYYY-MM') AS month, state, tickets, manifest_sha256, started_at, finished_at"
            " FROM archived_months ORDER BY month"
        )
        if not rows:
            print("no month is archived")
        for row in rows:
            print(
                f"{row['month']}  {row['state']:<8}  {row['tickets']:>9} ticket(s)"
                f"  manifest {row['manifest_sha256'][:12]}"
                f"  since {(row['finished_at'] or row['started_at']).isoformat(timespec='seconds')}"
            )
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-commands of this module to ``sub``."""
    archive = sub.add_parser(
        "archive",
        help="move a month of finished tickets out of the database into files, and back",
        description="Archive a month of finished tickets (created that month, Asia/Shanghai) with everything"
        " that refers to them: export, verify, delete, restore. See docs/scaling.md.",
    )
    actions = archive.add_subparsers(dest="action", required=True, metavar="ACTION")

    export = actions.add_parser(
        "export",
        help="write a month's tickets and their rows, one gzip CSV file per table, and a manifest",
        description="Write the month's finished tickets with their assignments, events, escalations, feedback,"
        " reports, text messages, EIDO imports and outbox rows into DIR. Refused for a month not yet over,"
        " with open tickets, or archived already. The database is not changed.",
    )
    export.add_argument("--month", type=_month, required=True, metavar="YYYY-MM", help="the month, local time")
    export.add_argument(
        "--to", type=Path, required=True, metavar="DIR", help="a new or empty directory for the archive"
    )
    export.set_defaults(func=cmd_export)

    verify = actions.add_parser(
        "verify",
        help="check an archive's files against its manifest, and the manifest against the database",
        description="Check every file's SHA-256 against the manifest; while the month is in the database, read"
        " it again and check that it is still what the archive holds. Exit 2 with what differs.",
    )
    verify.add_argument("directory", type=Path, metavar="DIR", help="the archive's directory")
    verify.set_defaults(func=cmd_verify)

    delete = actions.add_parser(
        "delete",
        help="delete an exported month from the database in batches, after verifying its archive",
        description="Verify the archive in DIR against the database, then delete the month's archived tickets"
        " and their rows in batches, and vacuum. Safe to stop: run it again with the same DIR to finish.",
    )
    delete.add_argument("--month", type=_month, required=True, metavar="YYYY-MM", help="the month to delete")
    delete.add_argument(
        "--from", dest="from_dir", type=Path, required=True, metavar="DIR", help="the month's archive, as exported"
    )
    delete.add_argument(
        "--batch", type=positive_int, default=1000, metavar="N", help="tickets per transaction (default 1000)"
    )
    delete.add_argument("--no-vacuum", action="store_true", help="leave VACUUM and ANALYZE of the tables to autovacuum")
    delete.set_defaults(func=cmd_delete)

    restore = actions.add_parser(
        "restore",
        help="put an archived month back into the database",
        description="Insert the archive's rows back into their tables in one transaction. Refused unless the"
        " database is at the archive's schema version and archived this month with this archive.",
    )
    restore.add_argument("directory", type=Path, metavar="DIR", help="the archive's directory")
    restore.set_defaults(func=cmd_restore)

    listing = actions.add_parser(
        "list", help="the months archived or being deleted", description="The months archived or being deleted."
    )
    listing.set_defaults(func=cmd_list)
