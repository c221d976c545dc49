"""``dispatch sla``: service levels (acknowledge and resolve deadlines) at run time."""

from __future__ import annotations

import argparse
from typing import Any

from dispatch.cli.command import Subcommands, agency_code, category_code, positive_int, with_database
from dispatch.runtime.settings import Settings


def cmd_sla_set(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.service_levels import set_service_level

    async def job(conn: Any) -> int:
        level, inserted = await set_service_level(
            conn,
            priority=args.priority,
            category=args.category,
            agency=args.agency,
            ack_seconds=args.ack,
            resolve_seconds=args.resolve,
            updated_by="cli",
        )
        scope = " ".join(f"{k}={level[k]}" for k in ("priority", "category", "agency") if level[k])
        verb = "added" if inserted else "changed"
        print(
            f"{verb} service level {scope}: acknowledge {level['ack_seconds']} s, resolve {level['resolve_seconds']} s"
        )
        return 0

    return with_database(settings, job)


def cmd_sla_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.service_levels import list_service_levels

    async def job(conn: Any) -> int:
        print("priority category agency ack_seconds resolve_seconds updated_by")
        for level in await list_service_levels(conn):
            row = [level[k] or "-" for k in ("priority", "category", "agency", "ack_seconds", "resolve_seconds")]
            print(*row, level["updated_by"] or "-")
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-command of this module to ``sub``."""
    sla = sub.add_parser("sla", help="service levels: acknowledge and resolve deadlines")
    sla_sub = sla.add_subparsers(dest="sla_command", required=True, metavar="ACTION")
    sla_set = sla_sub.add_parser("set", help="set the deadlines of a priority, optionally per category and agency")
    sla_set.add_argument(
        "--priority", required=True, choices=("P1", "P2", "P3", "P4"), help="the priority whose deadlines these are"
    )
    sla_set.add_argument("--ack", type=positive_int, required=True, help="seconds to acknowledge (签收)")
    sla_set.add_argument("--resolve", type=positive_int, required=True, help="seconds to resolve (办结)")
    sla_set.add_argument("--category", type=category_code, help="refine for one category, e.g. police.violence")
    sla_set.add_argument("--agency", type=agency_code, help="refine for one agency, e.g. police")
    sla_set.set_defaults(func=cmd_sla_set)
    sla_list = sla_sub.add_parser("list", help="print every service level")
    sla_list.set_defaults(func=cmd_sla_list)
