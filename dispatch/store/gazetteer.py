"""The gazetteer in PostgreSQL: read as routing data, replaced or extended by administrators.

The shipped gazetteer (``routing/data/gazetteer-yicheng.csv``, docs/routing.md) is loaded when
the table is empty at start-up; an administrator's import replaces or extends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import asyncpg

import routing.gazetteer as gz

SHIPPED_PATH: Final = Path(gz.__file__).parent / "data" / "gazetteer-yicheng.csv"
SHIPPED_SOURCE: Final = "shipped"

# The gazetteer changes rarely (an import): each server process keeps it this long
# (app_keys.GAZETTEER); an import through this process's API is seen at once.
GAZETTEER_TTL_S = 5.0


async def list_places(conn: asyncpg.Connection | asyncpg.Pool) -> list[gz.Place]:
    """Every place, by name."""
    rows = await conn.fetch("SELECT name, kind, district, lat, lon, aliases FROM gazetteer ORDER BY name, key")
    return [gz.Place(r["name"], r["kind"], r["district"], r["lat"], r["lon"], tuple(r["aliases"])) for r in rows]


async def load_gazetteer(conn: asyncpg.Connection | asyncpg.Pool) -> gz.Gazetteer:
    """The gazetteer routing places tickets with, indexed."""
    return await asyncio.to_thread(gz.Gazetteer, await list_places(conn))  # indexing: off the loop


async def import_places(
    conn: asyncpg.Connection, places: Iterable[gz.Place], *, source: str, replace: bool = False
) -> dict[str, int]:
    """Store ``places`` (one transaction): ``replace`` drops every other place first; otherwise
    a place already known (same address key) is updated. Returns counts."""
    rows = [(p.key, p.name, p.kind, p.district, p.lat, p.lon, list(p.aliases), source) for p in places]
    async with conn.transaction():
        removed = 0
        if replace:
            removed = int((await conn.execute("DELETE FROM gazetteer")).split()[-1])
        await conn.executemany(
            """
            INSERT INTO gazetteer (key, name, kind, district, lat, lon, aliases, source)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (key) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind,
                district = EXCLUDED.district, lat = EXCLUDED.lat, lon = EXCLUDED.lon,
                aliases = EXCLUDED.aliases, source = EXCLUDED.source, updated_at = now()
            """,
            rows,
        )
        total = await conn.fetchval("SELECT count(*) FROM gazetteer")
    return {"imported": len(rows), "removed": removed, "total": int(total)}


async def seed_shipped(conn: asyncpg.Connection) -> int:
    """Load the shipped gazetteer when the table is empty; how many places were loaded."""
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM gazetteer)"):
        return 0
    places = gz.parse_csv(SHIPPED_PATH.read_text(encoding="utf-8"))
    result = await import_places(conn, places, source=SHIPPED_SOURCE)
    return result["imported"]
