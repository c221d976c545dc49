"""Small helpers for API tests: a valid ticket body, JSON calls that return (status, body),
and a new user's token."""

from __future__ import annotations

from typing import Any

import aiohttp

from dispatch.runtime.db import connect as db_connect
from dispatch.store.users import add_user


def ticket_body(**overrides: Any) -> dict[str, Any]:
    """A valid create body: a fight with an injury in 驿城区, routed explicitly."""
    body: dict[str, Any] = {
        "description": "超市门口有两个人打架，其中一人头破血流",
        "channel": "phone",
        "caller": {"phone": "138 0000 0000", "name": "李先生"},
        "location": {"address": "驿城区交通路永辉超市门口", "district": "驿城区"},
        "category": "police.violence",
        "priority": "P1",
        "agencies": ["police", "health"],
    }
    body.update(overrides)
    return body


async def call(
    http: aiohttp.ClientSession,
    method: str,
    path: str,
    token: str | None = None,
    json: Any = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """Send a request; return the status and the decoded JSON body."""
    all_headers = dict(headers or {})
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    async with http.request(method, path, json=json, headers=all_headers) as response:
        return response.status, await response.json()


async def new_user_token(dsn: str, name: str, role: str, agency: str | None = None) -> str:
    """Add a user straight into the database at ``dsn`` and return their API token (for tests
    whose servers run in other processes, where the ``make_user`` fixture cannot reach)."""
    conn = await db_connect(dsn)
    try:
        _, token = await add_user(conn, name, role, agency=agency)
        return token
    finally:
        await conn.close()
