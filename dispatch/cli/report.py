"""``dispatch report``: a period's KPIs per agency and district."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from dispatch.cli.command import Subcommands, with_database
from dispatch.runtime.settings import Settings


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.reports import build_report, parse_bound, render

    start, end = parse_bound(args.start, end=False), parse_bound(args.end, end=True)
    fmt = args.format or (args.output.rsplit(".", 1)[-1].lower() if args.output else "csv")
    if fmt not in ("csv", "xlsx", "json"):
        fmt = "csv"
    if fmt == "xlsx" and not args.output:
        print("dispatch: an xlsx report needs --output FILE", file=sys.stderr)
        return 2

    async def job(conn: Any) -> int:
        data = render(await build_report(conn, start, end), fmt)  # type: ignore[arg-type]
        if args.output:
            await asyncio.to_thread(Path(args.output).write_bytes, data)
            print(f"wrote {fmt} report {args.output}", file=sys.stderr)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-command of this module to ``sub``."""
    report = sub.add_parser("report", help="KPIs of a period per agency and district (CSV, XLSX or JSON)")
    report.add_argument("--from", dest="start", required=True, help="first day YYYY-MM-DD (Asia/Shanghai) or ISO time")
    report.add_argument("--to", dest="end", required=True, help="last day, included, or ISO time, excluded")
    report.add_argument(
        "--format", choices=("csv", "xlsx", "json"), help="default: from --output's extension, else csv"
    )
    report.add_argument("--output", help="file to write (default: standard output)")
    report.set_defaults(func=cmd_report)
