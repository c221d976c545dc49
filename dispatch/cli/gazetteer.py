"""``dispatch gazetteer``: places and intersections with coordinates (CSV)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from dispatch.cli.command import Subcommands, with_database
from dispatch.runtime.settings import Settings


def cmd_gazetteer_import(args: argparse.Namespace, settings: Settings) -> int:
    import routing
    from dispatch.store.gazetteer import import_places

    try:
        with open(args.file, encoding="utf-8-sig") as source:
            places = routing.parse_csv(source.read())
    except (OSError, UnicodeDecodeError) as exc:
        print(f"dispatch: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    except routing.GazetteerError as exc:
        for row, message in exc.problems:
            print(f"dispatch: {args.file}: row {row}: {message}", file=sys.stderr)
        return 2

    async def job(conn: Any) -> int:
        result = await import_places(conn, places, source=os.path.basename(args.file), replace=args.replace)
        print(f"imported {result['imported']} places ({result['removed']} removed), {result['total']} in the gazetteer")
        return 0

    return with_database(settings, job)


def cmd_gazetteer_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.gazetteer import list_places

    async def job(conn: Any) -> int:
        for place in await list_places(conn):
            print(f"{place.name:<24} {place.kind:<13} {place.district:<10} {place.lat:.5f},{place.lon:.5f}")
        return 0

    return with_database(settings, job)


def cmd_gazetteer_export(args: argparse.Namespace, settings: Settings) -> int:
    import routing
    from dispatch.store.gazetteer import list_places

    async def job(conn: Any) -> int:
        text = routing.to_csv(await list_places(conn))
        if args.file:
            Path(args.file).write_text(text, encoding="utf-8")  # noqa: ASYNC240 (a command-line tool)
        else:
            sys.stdout.write(text)
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-command of this module to ``sub``."""
    gazetteer = sub.add_parser("gazetteer", help="places and intersections with coordinates (CSV)")
    gazetteer_sub = gazetteer.add_subparsers(dest="gazetteer_command", required=True, metavar="ACTION")
    gazetteer_import = gazetteer_sub.add_parser("import", help="load a CSV: name,kind,district,lat,lon,aliases")
    gazetteer_import.add_argument("file", help="a UTF-8 CSV file (a BOM is fine)")
    gazetteer_import.add_argument("--replace", action="store_true", help="drop every place not in the file")
    gazetteer_import.set_defaults(func=cmd_gazetteer_import)
    gazetteer_list = gazetteer_sub.add_parser("list", help="print the places")
    gazetteer_list.set_defaults(func=cmd_gazetteer_list)
    gazetteer_export = gazetteer_sub.add_parser("export", help="write the gazetteer as CSV (default: stdout)")
    gazetteer_export.add_argument("file", nargs="?", help="file to write (default: standard output)")
    gazetteer_export.set_defaults(func=cmd_gazetteer_export)
