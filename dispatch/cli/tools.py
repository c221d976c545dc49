"""``dispatch desk``, ``dispatch bench`` and ``dispatch bench-escalation``: the tools of ``dispatch_tools``,
imported only when one of them runs."""

from __future__ import annotations

import argparse
import asyncio
import math
import os

from dispatch.cli.command import Subcommands, positive_int
from dispatch.runtime.settings import Settings


def cmd_desk(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch_tools.desk_client import run_terminal

    return run_terminal(args.url, args.token)


def cmd_bench_escalation(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.runtime.services import resolved_services
    from dispatch_tools.bench.escalation import main as bench_main

    with resolved_services(settings, redis=False) as resolved:
        assert resolved.database_url
        return asyncio.run(bench_main(resolved, assignments=args.assignments, spread=args.spread, lead_in=args.lead_in))


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number < math.inf:
        raise argparse.ArgumentTypeError("must be a number above 0")
    return number


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch_tools.bench.throughput import run_bench

    if args.history or args.history_measure_only:
        from dispatch_tools.bench.history_cli import main_from_args

        return main_from_args(args, settings)

    desks = {}
    for item in args.desk_token or []:
        agency, _, token = item.partition("=")
        desks[agency] = token
    return run_bench(
        url=args.url,
        call_taker_token=args.call_taker_token,
        desk_tokens=desks,
        tickets=args.tickets,
        concurrency=args.concurrency,
        rate=args.rate,
        as_json=args.json,
        server_workers=args.server_workers or (os.cpu_count() or 1),
        resume_events=args.resume,
        fanout_clients=args.clients,
        duration=args.duration,
    )


def register(sub: Subcommands) -> None:
    """Add the sub-commands of this module to ``sub``."""
    desk = sub.add_parser("desk", help="terminal desk console: live assignments, acknowledge, start, resolve")
    desk.add_argument("--url", default="http://127.0.0.1:8110", help="the service's base URL")
    desk.add_argument("--token", required=True, help="a desk user's API token")
    desk.set_defaults(func=cmd_desk)

    bench = sub.add_parser("bench-escalation", help="escalation lag with many open assignments (scratch database)")
    bench.add_argument("--assignments", type=positive_int, default=100_000, help="open assignments (default 100000)")
    bench.add_argument("--spread", type=float, default=30.0, help="deadlines spread over this many seconds")
    bench.add_argument("--lead-in", type=float, help="seconds from seeding to the first deadline (default: by size)")
    bench.set_defaults(func=cmd_bench_escalation)

    load = sub.add_parser("bench", help="throughput and latency with real HTTP and websocket clients")
    load.add_argument("--url", help="a running server; without it, bench starts one on the configured database")
    load.add_argument("--call-taker-token", help="with --url: a call-taker token")
    load.add_argument("--desk-token", action="append", metavar="AGENCY=TOKEN", help="with --url: desk tokens")
    amount = load.add_mutually_exclusive_group()
    amount.add_argument("--tickets", type=positive_int, default=2000, help="how many tickets to create (default 2000)")
    amount.add_argument(
        "--duration", type=_positive_float, metavar="SECONDS", help="instead: create tickets for this many seconds"
    )
    load.add_argument("--concurrency", type=positive_int, default=32, help="create requests in flight")
    load.add_argument("--rate", type=_positive_float, help="offered rate in tickets/s instead of as fast as possible")
    load.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    load.add_argument("--server-workers", type=positive_int, help="workers of the server bench starts (default: cores)")
    load.add_argument(
        "--clients",
        type=positive_int,
        metavar="N",
        help="instead: hold N websockets and time one event reaching all",
    )
    load.add_argument(
        "--resume",
        type=positive_int,
        metavar="EVENTS",
        help="instead: time a desk resuming after EVENTS missed events",
    )
    from dispatch_tools.bench.history_cli import add_history_arguments

    add_history_arguments(load)
    load.set_defaults(func=cmd_bench)
