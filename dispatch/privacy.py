"""Personal data, kept to those who need it (个人信息保护法: minimum necessary).

Callers' phone numbers and names are shown in full to call-takers, supervisors, admins and
the lead agency's desks; assisting agencies, the live feed and logs get masked forms;
``dispatch purge`` removes them from closed tickets after the retention period.
"""

from __future__ import annotations

from typing import Any

import asyncpg


def mask_phone(phone: str | None) -> str | None:
    """``+8613812345678`` → ``+86138****5678``: enough to recognise a repeat caller."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:-8] + "****" + phone[-4:]


def mask_name(name: str | None) -> str | None:
    """``李建国`` → ``李**``; ``Wang`` → ``W***``."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def mask_caller(ticket: dict[str, Any]) -> dict[str, Any]:
    """The ticket with its caller masked (a shallow copy; the input is not changed)."""
    caller = ticket.get("caller") or {}
    return ticket | {"caller": {"phone": mask_phone(caller.get("phone")), "name": mask_name(caller.get("name"))}}


async def purge_closed(conn: asyncpg.Connection, *, older_than_days: int) -> int:
    """Anonymise the callers of tickets closed (or merged, cancelled) more than
    ``older_than_days`` ago, with their reports, and drop their intake facts (they may hold
    medical details); statistics keep every other field.
    Returns how many tickets were anonymised."""
    async with conn.transaction():
        rows = await conn.fetch(
            """
            UPDATE tickets SET caller_phone = NULL, caller_name = NULL, facts = '{}', anonymised_at = now()
            WHERE anonymised_at IS NULL AND status IN ('closed', 'merged', 'cancelled')
              AND coalesce(closed_at, updated_at) < now() - make_interval(days => $1)
            RETURNING id
            """,
            older_than_days,
        )
        ids = [r["id"] for r in rows]
        if ids:
            await conn.execute(
                "UPDATE reports SET caller_phone = NULL, caller_name = NULL WHERE ticket_id = ANY($1::bigint[])", ids
            )
    return len(ids)
