"""Text messages to callers as admins see them (the notifier itself is dispatch/delivery/sms.py)."""

from __future__ import annotations

from typing import Any

import asyncpg


async def list_messages(
    conn: asyncpg.Connection, *, ticket_id: int | None, state: str | None, before: int | None, limit: int
) -> list[dict[str, Any]]:
    """Messages newest first (admins' view), with the ticket number."""
    args: list[Any] = []
    where = ["true"]
    for column, value in (("m.ticket_id", ticket_id), ("m.state", state)):
        if value is not None:
            args.append(value)
            where.append(f"{column} = ${len(args)}")
    if before is not None:
        args.append(before)
        where.append(f"m.id < ${len(args)}")
    args.append(limit)
    rows = await conn.fetch(
        f"""
        SELECT m.id, m.ticket_id, t.number, m.phone, m.body, m.state, m.attempts, m.last_error, m.created_at, m.sent_at
        FROM sms_messages m JOIN tickets t ON t.id = m.ticket_id
        WHERE {" AND ".join(where)} ORDER BY m.id DESC LIMIT ${len(args)}
        """,
        *args,
    )
    return [dict(r) for r in rows]
