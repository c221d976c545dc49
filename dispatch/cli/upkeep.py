"""``dispatch purge`` and ``dispatch close-resolved``: the periodic jobs that end what is over."""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from typing import Any

from dispatch.cli.command import Subcommands, positive_int, with_database, with_database_and_redis
from dispatch.runtime.settings import Settings


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.privacy.retention import purge_closed, trim_bus
    from dispatch.runtime.redis_client import UNAVAILABLE

    async def job(conn: Any, client: Any) -> int:
        count = await purge_closed(conn, older_than_days=args.older_than)
        print(
            f"anonymised the callers of {count} ticket(s) closed more than {args.older_than} days ago"
            " and struck personal numbers out of their text"
        )
        try:
            removed = await trim_bus(conn, client, older_than_days=args.older_than)
        except UNAVAILABLE as exc:
            print(
                f"dispatch: Redis is unavailable ({exc}); the streams were not trimmed: run it again", file=sys.stderr
            )
            return 1
        print(f"removed {removed} event(s) older than {args.older_than} days from the Redis streams")
        return 0

    return with_database_and_redis(settings, job)


def _positive_days(value: str) -> float:
    days = float(value)
    if not 0 < days <= 365:
        raise argparse.ArgumentTypeError("days are more than 0 and at most 365")
    return days


def cmd_close_resolved(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.feedback import close_resolved

    days = args.days if args.days is not None else settings.feedback_grace_days

    async def job(conn: Any) -> int:
        closed = await close_resolved(conn, timedelta(days=days))
        print(f"closed {closed} ticket(s) resolved more than {days:g} days ago")
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-commands of this module to ``sub``."""
    purge = sub.add_parser("purge", help="anonymise callers of tickets closed longer ago than the retention period")
    purge.add_argument(
        "--older-than", type=positive_int, required=True, metavar="DAYS", help="retention period in days"
    )
    purge.set_defaults(func=cmd_purge)

    close = sub.add_parser(
        "close-resolved", help="close resolved tickets that got no feedback within the grace period (回访期满)"
    )
    close.add_argument(
        "--days", type=_positive_days, help="grace period in days (default DISPATCH_FEEDBACK_GRACE_DAYS, 7)"
    )
    close.set_defaults(func=cmd_close_resolved)
