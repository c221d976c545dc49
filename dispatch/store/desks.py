"""Desks and the districts they serve: listed for everyone inside, changed by admins."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

import routing
from dispatch.errors import Conflict, ValidationFailed

_LIST = """
    SELECT d.id, d.code, d.agency, d.name, d.city_level,
           coalesce(array_agg(dd.district ORDER BY dd.district) FILTER (WHERE dd.district IS NOT NULL), '{}')
               AS districts
    FROM desks d LEFT JOIN desk_districts dd ON dd.desk_id = d.id
"""


# The desk directory changes rarely (an admin's edit): each server process keeps it this long
# (app_keys.DESKS); an edit through this process's API is seen at once.
DIRECTORY_TTL_S = 5.0


async def load_directory(conn: asyncpg.Connection | asyncpg.Pool) -> tuple[routing.DeskInfo, ...]:
    """Every desk as routing sees it."""
    return tuple(
        routing.DeskInfo(str(d["id"]), d["agency"], frozenset(d["districts"]), d["city_level"])
        for d in await list_desks(conn)
    )


def choose_desks(
    directory: Sequence[routing.DeskInfo], agencies: Sequence[str], district: str | None
) -> list[int | None]:
    """For each agency, the id of the desk ``routing.choose_desk`` picks (None if it has none)."""
    chosen = [routing.choose_desk(agency, district, directory) for agency in agencies]
    return [int(desk.id) if desk else None for desk in chosen]


async def list_desks(conn: asyncpg.Connection | asyncpg.Pool, agency: str | None = None) -> list[dict[str, Any]]:
    """Every desk (of one agency when given), with its districts."""
    rows = await conn.fetch(
        _LIST + " WHERE ($1::text IS NULL OR d.agency = $1) GROUP BY d.id ORDER BY d.agency, d.city_level DESC, d.code",
        agency,
    )
    return [dict(r) | {"districts": list(r["districts"])} for r in rows]


async def put_desk(
    conn: asyncpg.Connection, code: str, *, agency: str, name: str, districts: list[str], city_level: bool
) -> dict[str, Any]:
    """Create or change a desk; its districts are replaced. Refuses a second city-level desk
    for an agency and a district another desk of the same agency already serves."""
    async with conn.transaction():
        existing = await conn.fetchrow("SELECT id, agency FROM desks WHERE code = $1 FOR UPDATE", code)
        if existing is not None and existing["agency"] != agency:
            raise Conflict(f"desk {code} belongs to {existing['agency']}; a desk does not change agency")
        try:
            desk_id = await conn.fetchval(
                """
                INSERT INTO desks (code, agency, name, city_level) VALUES ($1, $2, $3, $4)
                ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, city_level = EXCLUDED.city_level
                RETURNING id
                """,
                code,
                agency,
                name,
                city_level,
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(f"{agency} already has a city-level desk", code="city_desk_exists") from None
        except asyncpg.CheckViolationError:
            raise ValidationFailed("a desk code is 2 to 64 of a-z, 0-9, . _ -", details=[{"field": "code"}]) from None
        taken = await conn.fetch(
            """SELECT dd.district, d.code FROM desk_districts dd JOIN desks d ON d.id = dd.desk_id
               WHERE d.agency = $1 AND d.id <> $2 AND dd.district = ANY($3::text[])""",
            agency,
            desk_id,
            districts,
        )
        if taken:
            raise Conflict(
                "another desk of this agency already serves "
                + ", ".join(f"{r['district']} ({r['code']})" for r in taken),
                code="district_taken",
            )
        await conn.execute("DELETE FROM desk_districts WHERE desk_id = $1", desk_id)
        await conn.executemany(
            "INSERT INTO desk_districts (desk_id, district) VALUES ($1, $2)", [(desk_id, d) for d in districts]
        )
        [desk] = [d for d in await list_desks(conn, agency) if d["id"] == desk_id]
    return desk
