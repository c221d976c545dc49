"""``dispatch serve --demo``: demo users for every role (``ROLES``, a partner system's key
included) and a desk user per agency, with fresh tokens printed, and the starter knowledge base
(general guidance written for the demo)."""

from __future__ import annotations

import sys
from dataclasses import dataclass

import agencies
from dispatch.runtime.db import connect
from dispatch.runtime.settings import Settings
from dispatch.store.users import ROLES, add_user, rotate_token


@dataclass(frozen=True, slots=True)
class DemoAccount:
    name: str
    role: str
    agency: str | None
    token: str


def _demo_users() -> list[tuple[str, str, str | None]]:
    users: list[tuple[str, str, str | None]] = [
        ("demo-call-taker", "call_taker", None),
        ("demo-supervisor", "supervisor", None),
        ("demo-admin", "admin", None),
        ("demo-partner", "partner", None),  # a partner system's key: Open311 and EIDO
    ]
    users += [(f"demo-desk-{code}", "desk", code) for code in agencies.AGENCIES]
    assert {role for _, role, _ in users} == set(ROLES), "a demo user for every role"
    return users


async def setup_demo(dsn: str) -> list[DemoAccount]:
    """Create the demo users if missing; give each a fresh token (tokens are stored hashed);
    load the starter knowledge base (a second start changes nothing)."""
    from dispatch.knowledge.transfer import load_starter

    conn = await connect(dsn)
    try:
        await load_starter(conn)
        accounts = []
        for name, role, agency in _demo_users():
            token = await rotate_token(conn, name)
            if token is None:
                _, token = await add_user(
                    conn, name, role, agency=agency, desk_code=f"{agency}.city" if agency else None
                )
            accounts.append(DemoAccount(name, role, agency, token))
        return accounts
    finally:
        await conn.close()


def print_demo_setup(accounts: list[DemoAccount], settings: Settings) -> None:
    """Print the demo tokens and where to use them."""
    base = f"http://{settings.host}:{settings.port}"
    out = sys.stdout
    out.write("\n民生110 演示账号 / demo accounts (tokens are new on every start):\n")
    for account in accounts:
        agency = f" [{account.agency}]" if account.agency else ""
        out.write(f"  {account.role:<11} {account.name:<22}{agency:<12} {account.token}\n")
    out.write(
        f"\n  接警台 call-taker console: {base}/console/intake\n"
        f"  处置台 desk console:       {base}/console/desk\n"
        f"  督办台 supervisor:         {base}/console/supervisor\n"
        f"  知识库 knowledge base:     {base}/console/kb\n"
        f"  群众查询 citizen status:   {base}/status\n"
        f"  Open311 (partner key):     {base}/open311/v2/discovery.json\n"
        f"  API:                       {base}/api/v1/openapi.json\n\n"
    )
    out.flush()
