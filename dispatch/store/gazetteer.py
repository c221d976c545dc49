"""The gazetteer in PostgreSQL: read as routing data, replaced or extended by administrators.

The shipped gazetteer (``routing/data/gazetteer-yicheng.csv``, docs/routing.md) is loaded when
the table is empty at start-up; an administrator's import replaces or extends it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Final

import asyncpg

import routing.gazetteer as gz

SHIPPED_PATH: Final = Path(gz.__file__).parent / "data" / "gazetteer-yicheng.csv"
SHIPPED_SOURCE: Final = "shipped"

# The gazetteer changes rarely (an import): each process keeps it a few seconds.
KEPT_S = 5.0
_kept: tuple[float, gz.Gazetteer] | None = None


def forget_gazetteer() -> None:
    """Drop this process's copy (after an import, and in tests)."""
    global _kept
    _kept = None


async def list_places(conn: asyncpg.Connection | asyncpg.Pool) -> list[gz.Place]:
    """Every place, by name."""
    rows = await conn.fetch("SELECT name, kind, district, lat, lon, aliases FROM gazetteer ORDER BY name, key")
    return [gz.Place(r["name"], r["kind"], r["district"], r["lat"], r["lon"], tuple(r["aliases"])) for r in rows]


async def gazetteer_in_service(conn: asyncpg.Connection | asyncpg.Pool) -> gz.Gazetteer:
    """The gazetteer routing places tickets with, at most ``KEPT_S`` seconds old."""
    global _kept
    now = time.monotonic()
    if _kept is not None and _kept[0] > now:
        return _kept[1]
    found = await asyncio.to_thread(gz.Gazetteer, await list_places(conn))  # indexing: off the loop
    _kept = (now + KEPT_S, found)
    return found


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
    forget_gazetteer()
    return {"imported": len(rows), "removed": removed, "total": int(total)}


async def seed_shipped(conn: asyncpg.Connection) -> int:
    """Load the shipped gazetteer when the table is empty; how many places were loaded."""
    if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM gazetteer)"):
        return 0
    places = gz.parse_csv(SHIPPED_PATH.read_text(encoding="utf-8"))
    result = await import_places(conn, places, source=SHIPPED_SOURCE)
    return result["imported"]
