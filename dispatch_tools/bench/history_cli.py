"""The options of ``dispatch bench --history`` (kept apart from the bench itself so that the
``dispatch`` command's start-up does not import it)."""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dispatch.runtime.settings import Settings


def _whole(low: int, high: int) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}")
        return number

    return parse


def _years(value: str) -> float:
    try:
        years = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not (math.isfinite(years) and 0.01 <= years <= 30):
        raise argparse.ArgumentTypeError("years are from 0.01 to 30")
    return years


def _rate(value: str) -> float:
    try:
        rate = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not (math.isfinite(rate) and 0 <= rate <= 10_000):
        raise argparse.ArgumentTypeError("a rate is from 0 to 10000 a second")
    return rate


def add_history_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``--history`` options of ``dispatch bench``."""
    group = parser.add_argument_group("history (docs/benchmarks.md, 'Years of tickets')")
    mode = group.add_mutually_exclusive_group()
    mode.add_argument(
        "--history",
        type=_whole(100, 100_000_000),
        metavar="TICKETS",
        help="instead: load TICKETS tickets of history into the configured, empty database with bulk SQL, "
        "then time every console read path, a monthly report and ticket creation",
    )
    mode.add_argument(
        "--history-measure-only",
        action="store_true",
        help="instead: time the read paths on the history already in the configured database",
    )
    group.add_argument(
        "--history-open",
        type=_whole(0, 10_000_000),
        metavar="N",
        help="with --history: the last N tickets are still open (default TICKETS/200, 50000 of 10 million)",
    )
    group.add_argument(
        "--history-years",
        type=_years,
        default=5.0,
        metavar="YEARS",
        help="with --history: the span the tickets were filed over, ending now (default 5)",
    )
    group.add_argument(
        "--history-requests",
        type=_whole(1, 100_000),
        default=200,
        metavar="N",
        help="requests timed per read path (default 200)",
    )
    group.add_argument(
        "--history-clients",
        type=_whole(1, 256),
        default=16,
        metavar="N",
        help="at most N requests in flight at once (default 16)",
    )
    group.add_argument(
        "--history-rate",
        type=_rate,
        default=20.0,
        metavar="PER_S",
        help="requests a second offered to each read path, as consoles refreshing on their own (default 20; "
        "0: back to back)",
    )
    group.add_argument(
        "--history-report-runs",
        type=_whole(1, 20),
        default=1,
        metavar="N",
        help="times to run the monthly report (default 1)",
    )


def main_from_args(args: argparse.Namespace, settings: Settings) -> int:
    """Run the history bench with the parsed options on the configured database and Redis."""
    from dispatch.runtime.services import resolved_services
    from dispatch_tools.bench.history import HistoryPlan, history_main

    plan = None
    if args.history:
        open_tickets = args.history // 200 if args.history_open is None else args.history_open
        if open_tickets > args.history:
            print("dispatch bench: --history-open is more than --history", file=sys.stderr)
            return 2
        plan = HistoryPlan(tickets=args.history, open=open_tickets, years=args.history_years)
    with resolved_services(settings) as resolved:
        assert resolved.database_url and resolved.redis_url
        return history_main(
            dsn=resolved.database_url,
            redis_url=resolved.redis_url,
            plan=plan,
            requests=args.history_requests,
            concurrency=args.history_clients,
            rate=args.history_rate or None,
            report_runs=args.history_report_runs,
            server_workers=args.server_workers or (os.cpu_count() or 1),
            as_json=args.json,
        )
