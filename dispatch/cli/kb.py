"""``dispatch kb``: the knowledge base (知识库): add an entry, import and export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from dispatch.cli.command import Subcommands, with_database
from dispatch.runtime.settings import Settings


def cmd_kb_add(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from dispatch.api.kb import EntryCreate, entry_fields
    from dispatch.store.kb import create_entry

    raw: dict[str, Any] = {"title": args.title, "answer": args.answer}
    for name in ("category", "agency", "valid_from", "valid_to", "last_reviewed", "note"):
        if getattr(args, name):
            raw[name] = getattr(args, name)
    if args.keywords:
        raw["keywords"] = [k.strip() for k in args.keywords.replace("，", ",").split(",") if k.strip()]
    try:
        body = EntryCreate.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        print(f"dispatch: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2

    async def job(conn: Any) -> int:
        entry = await create_entry(conn, None, entry_fields(body), note=body.note)
        print(f"created knowledge-base entry {entry['id']} (version {entry['version']}): {entry['title']}")
        print(entry["id"])
        return 0

    return with_database(settings, job)


def _kb_format(explicit: str | None, path: str | None) -> str:
    if explicit:
        return explicit
    return "csv" if path and path.lower().endswith(".csv") else "json"


def cmd_kb_import(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.knowledge.transfer import import_entries, parse, starter_entries

    if args.starter == bool(args.file):
        print("dispatch: give a FILE (or - for stdin), or --starter", file=sys.stderr)
        return 2
    if args.starter:
        entries = starter_entries()
    else:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        entries = parse(data, _kb_format(args.format, args.file))  # type: ignore[arg-type]

    async def job(conn: Any) -> int:
        outcome = await import_entries(conn, entries, note=args.note or "")
        print(
            f"imported {len(entries)} entries: {outcome.created} created, {outcome.updated} updated, "
            f"{outcome.unchanged} unchanged"
        )
        return 0

    return with_database(settings, job)


def cmd_kb_export(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.knowledge.transfer import render
    from dispatch.store.kb import all_entries

    fmt = _kb_format(args.format, args.output)
    entries: list[dict[str, Any]] = []

    async def job(conn: Any) -> int:
        entries.extend(await all_entries(conn, include_retired=args.all))
        return 0

    code = with_database(settings, job)
    data = render(entries, fmt)  # type: ignore[arg-type]
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return code


def register(sub: Subcommands) -> None:
    """Add the sub-command of this module to ``sub``."""
    kb = sub.add_parser("kb", help="the knowledge base (知识库) consultations are answered from")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="ACTION")
    kb_add = kb_sub.add_parser("add", help="create an entry; prints its id alone on the last line")
    kb_add.add_argument("--title", required=True, help="what callers ask, e.g. 居住证办理材料")
    kb_add.add_argument("--answer", required=True, help="the text the call-taker reads out")
    kb_add.add_argument("--category", help="category code, e.g. urban.utilities")
    kb_add.add_argument("--agency", help="agency code, e.g. police")
    kb_add.add_argument("--keywords", help="comma-separated words callers use, e.g. 居住证,暂住证")
    kb_add.add_argument("--valid-from", help="in force from this day, YYYY-MM-DD")
    kb_add.add_argument("--valid-to", help="in force until this day, included")
    kb_add.add_argument("--last-reviewed", help="when the content was last checked, YYYY-MM-DD")
    kb_add.add_argument("--note", help="why, kept with the version")
    kb_add.set_defaults(func=cmd_kb_add)
    kb_import = kb_sub.add_parser(
        "import",
        help="create or update entries from CSV or JSON, all or nothing (same title as an entry in force: update)",
    )
    kb_import.add_argument("file", nargs="?", help="a .csv or .json file, or - for stdin")
    kb_import.add_argument("--format", choices=("csv", "json"), help="default: from the file's extension, else json")
    kb_import.add_argument("--starter", action="store_true", help="the starter knowledge base shipped with the service")
    kb_import.add_argument("--note", help="why, kept with each new version")
    kb_import.set_defaults(func=cmd_kb_import)
    kb_export = kb_sub.add_parser("export", help="write the entries in force as CSV (with BOM, for Excel) or JSON")
    kb_export.add_argument("--format", choices=("csv", "json"), help="default: from --output's extension, else json")
    kb_export.add_argument("--output", help="file to write (default: standard output)")
    kb_export.add_argument("--all", action="store_true", help="retired entries too")
    kb_export.set_defaults(func=cmd_kb_export)
