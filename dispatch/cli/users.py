"""``dispatch user``: users, their API tokens and console passwords."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from dispatch.cli.command import Subcommands, agency_code, district_name, positive_int, with_database
from dispatch.errors import DispatchError
from dispatch.runtime.settings import Settings
from dispatch.store.users import ROLES


def _read_password(name: str) -> str:
    """A new password for ``name``: asked twice on a terminal, else the first line of stdin."""
    import getpass

    from dispatch.access.passwords import check_policy

    if sys.stdin.isatty():
        password = getpass.getpass(f"新密码 / new password for {name}: ")
        if getpass.getpass("再输入一次 / again: ") != password:
            raise DispatchError("the two passwords differ / 两次输入的密码不一致")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    check_policy(password)
    return password


def _role(value: str) -> str:
    if value not in ROLES:
        raise argparse.ArgumentTypeError(f"unknown role {value!r}; choose one of {', '.join(ROLES)}")
    return value


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.access.passwords import hash_password
    from dispatch.store.users import add_user, set_password

    if args.role == "desk" and not args.agency:
        raise DispatchError("a desk user needs --agency (the agency whose desk they work at)")
    expires_at = datetime.now(UTC) + timedelta(days=args.expires_days) if args.expires_days else None
    encoded = hash_password(_read_password(args.name)) if args.password else None

    async def job(conn: Any) -> int:
        async with conn.transaction():
            principal, token = await add_user(
                conn,
                args.name,
                args.role,
                agency=args.agency,
                district=args.district,
                desk_code=args.desk,
                expires_at=expires_at,
            )
            if encoded is not None:
                await set_password(conn, principal.name, encoded)
        scope = " ".join(f"{k}={v}" for k, v in (("agency", principal.agency), ("district", principal.district)) if v)
        scope = f", {scope}" if scope else ""
        print(f"created user {principal.name} (id {principal.id}, role {principal.role}{scope})")
        print(token)
        return 0

    return with_database(settings, job)


def cmd_user_passwd(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.access.passwords import hash_password
    from dispatch.store.users import set_password

    encoded = hash_password(_read_password(args.name))

    async def job(conn: Any) -> int:
        if not await set_password(conn, args.name, encoded):
            print(f"dispatch: no live user named {args.name!r}", file=sys.stderr)
            return 2
        print(f"set the password of {args.name}; their console sessions signed before have ended")
        return 0

    return with_database(settings, job)


def cmd_user_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.users import revoke_user

    async def job(conn: Any) -> int:
        if not await revoke_user(conn, args.name):
            print(f"dispatch: no live user named {args.name!r}", file=sys.stderr)
            return 2
        print(f"revoked the token of {args.name}")
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-command of this module to ``sub``."""
    user = sub.add_parser("user", help="manage users and their API tokens")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="create a user; prints its API token alone on the last line")
    add.add_argument("name", help="the user's name, 1 to 100 characters, e.g. zhang.wei")
    add.add_argument(
        "--role", required=True, type=_role, help=f"{', '.join(ROLES)}: what the user may do (docs/api.md)"
    )
    add.add_argument("--agency", type=agency_code, help="agency code (required for desk users)")
    add.add_argument("--district", type=district_name, help="district code or name, e.g. yicheng or 驿城区")
    add.add_argument("--desk", help="desk code this user works at, e.g. police.city")
    add.add_argument("--expires-days", type=positive_int, help="the token stops working after this many days")
    add.add_argument(
        "--password",
        action="store_true",
        help="also set a console password: asked twice on a terminal, else read as one line from stdin",
    )
    add.set_defaults(func=cmd_user_add)
    passwd = user_sub.add_parser("passwd", help="set or reset a user's console password (ends their sessions)")
    passwd.add_argument("name", help="the user's name")
    passwd.set_defaults(func=cmd_user_passwd)
    revoke = user_sub.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("name", help="the user's name")
    revoke.set_defaults(func=cmd_user_revoke)
