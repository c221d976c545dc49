"""``dispatch desks``: desks and the districts they serve."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dispatch.cli.command import Subcommands, agency_code, with_database
from dispatch.runtime.settings import Settings


def cmd_desks_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.desks import list_desks

    async def job(conn: Any) -> int:
        for desk in await list_desks(conn, args.agency):
            scope = "市级 city" if desk["city_level"] else ",".join(desk["districts"]) or "-"
            print(f"{desk['code']:<24} {desk['agency']:<10} {scope:<30} {desk['name']}")
        return 0

    return with_database(settings, job)


def cmd_desks_set(args: argparse.Namespace, settings: Settings) -> int:
    import agencies
    from dispatch.store.desks import put_desk

    districts = []
    for name in filter(None, (p.strip() for p in (args.districts or "").split(","))):
        district = agencies.find_district(name)
        if district is None:
            print(f"dispatch: unknown district {name!r}", file=sys.stderr)
            return 2
        districts.append(district.code)

    async def job(conn: Any) -> int:
        desk = await put_desk(
            conn, args.code, agency=args.agency, name=args.name, districts=districts, city_level=args.city_level
        )
        print(f"desk {desk['code']} ({desk['agency']}) serves {', '.join(desk['districts']) or 'no district'}")
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-command of this module to ``sub``."""
    desks = sub.add_parser("desks", help="desks and the districts they serve")
    desks_sub = desks.add_subparsers(dest="desks_command", required=True, metavar="ACTION")
    desks_list = desks_sub.add_parser("list", help="print the desks")
    desks_list.add_argument("--agency", type=agency_code, help="only this agency's desks, e.g. police")
    desks_list.set_defaults(func=cmd_desks_list)
    desks_set = desks_sub.add_parser("set", help="create or change a desk (its districts are replaced)")
    desks_set.add_argument("code", help="e.g. police.yicheng")
    desks_set.add_argument("--agency", required=True, type=agency_code, help="the desk's agency, e.g. police")
    desks_set.add_argument("--name", required=True, help="the desk's name as people see it, e.g. 驿城分局指挥室")
    desks_set.add_argument("--districts", help="comma-separated codes or names, e.g. 西平县,suiping")
    desks_set.add_argument("--city-level", action="store_true", help="the agency's fallback desk")
    desks_set.set_defaults(func=cmd_desks_set)
