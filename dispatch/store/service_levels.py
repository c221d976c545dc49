"""Service levels: the acknowledge and resolve deadlines of a priority, refined per category
and agency. The most specific row wins when an assignment is created (category+agency,
category, agency, priority alone: ``INSERT_ASSIGNMENTS`` in ``store/tickets.py``), so a
change applies to assignments created afterwards, never to running deadlines."""

from __future__ import annotations

from typing import Any

import asyncpg

from dispatch.errors import ValidationFailed

COLUMNS = "id, priority, category, agency, ack_seconds, resolve_seconds, updated_at, updated_by"


async def list_service_levels(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Every service level, priority first, then the general rows before the refinements."""
    rows = await conn.fetch(
        f"""SELECT {COLUMNS} FROM service_levels
            ORDER BY priority, category NULLS FIRST, agency NULLS FIRST"""
    )
    return [dict(row) for row in rows]


async def set_service_level(
    conn: asyncpg.Connection,
    *,
    priority: str,
    category: str | None,
    agency: str | None,
    ack_seconds: int,
    resolve_seconds: int,
    updated_by: str,
) -> tuple[dict[str, Any], bool]:
    """Create or replace the service level of this scope; return it and whether it is new.

    422 when the deadlines are not positive, the resolve deadline is earlier than the
    acknowledge deadline, or the category or agency is unknown.
    """
    problems = []
    if ack_seconds <= 0 or resolve_seconds <= 0:
        problems.append({"field": "ack_seconds", "message": "deadlines are positive numbers of seconds"})
    if resolve_seconds < ack_seconds:
        problems.append(
            {"field": "resolve_seconds", "message": "the resolve deadline cannot come before the acknowledge one"}
        )
    if category is not None and not await conn.fetchval("SELECT 1 FROM categories WHERE code = $1", category):
        problems.append({"field": "category", "message": f"unknown category {category!r}"})
    if agency is not None and not await conn.fetchval("SELECT 1 FROM agencies WHERE code = $1", agency):
        problems.append({"field": "agency", "message": f"unknown agency {agency!r}"})
    if problems:
        raise ValidationFailed("; ".join(p["message"] for p in problems), details=problems)
    row = await conn.fetchrow(
        f"""
        INSERT INTO service_levels (priority, category, agency, ack_seconds, resolve_seconds, updated_by)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (priority, category, agency) DO UPDATE SET
            ack_seconds = EXCLUDED.ack_seconds, resolve_seconds = EXCLUDED.resolve_seconds,
            updated_at = now(), updated_by = EXCLUDED.updated_by
        RETURNING {COLUMNS}, (xmax = 0) AS inserted
        """,
        priority,
        category,
        agency,
        ack_seconds,
        resolve_seconds,
        updated_by,
    )
    level = dict(row)
    inserted = bool(level.pop("inserted"))
    return level, inserted
