"""Reference data: agencies, categories, districts, default service levels, the shipped gazetteer.

The ``agencies/`` package is the source; ``sync_reference_data`` makes the database agree
with it at start-up. Default service levels are inserted only where none exists, so that
what an administrator set at run time is kept.
"""

from __future__ import annotations

import asyncpg

import agencies
import agencies.districts
from dispatch.store.gazetteer import seed_shipped


async def sync_reference_data(conn: asyncpg.Connection) -> None:
    """Upsert agencies, districts and categories (a category's lead agency follows ``agencies/``,
    e.g. ``transport.accident`` led by police); add missing default service levels and desks;
    load the shipped gazetteer into an empty one."""
    async with conn.transaction():
        await conn.executemany(
            """
            INSERT INTO agencies (code, name_zh, name_en) VALUES ($1, $2, $3)
            ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en
            """,
            [(a.code, a.name_zh, a.name_en) for a in agencies.AGENCIES.values()],
        )
        await conn.executemany(
            """
            INSERT INTO districts (code, name_zh, name_en) VALUES ($1, $2, $3)
            ON CONFLICT (code) DO UPDATE SET name_zh = EXCLUDED.name_zh, name_en = EXCLUDED.name_en
            """,
            [(d.code, d.name_zh, d.name_en) for d in agencies.DISTRICTS],
        )
        await conn.executemany(
            """
            INSERT INTO categories (code, agency, name_zh, name_en, default_priority)
            VALUES ($1, $2, $3, $4, $5)
            ON CONFLICT (code) DO UPDATE SET agency = EXCLUDED.agency, name_zh = EXCLUDED.name_zh,
                name_en = EXCLUDED.name_en, default_priority = EXCLUDED.default_priority
            """,
            [(c.code, c.agency, c.name_zh, c.name_en, c.default_priority) for c in agencies.CATEGORIES.values()],
        )
        rows: list[tuple[str, str | None, int, int]] = [
            (p, None, sl.ack_seconds, sl.resolve_seconds) for p, sl in agencies.DEFAULT_SERVICE_LEVELS.items()
        ]
        rows += [
            (p, profile.code, sl.ack_seconds, sl.resolve_seconds)
            for profile in agencies.AGENCIES.values()
            for p, sl in profile.service_levels.items()
        ]
        await conn.executemany(
            """
            INSERT INTO service_levels (priority, category, agency, ack_seconds, resolve_seconds, updated_by)
            VALUES ($1, NULL, $2, $3, $4, 'default')
            ON CONFLICT (priority, category, agency) DO NOTHING
            """,
            rows,
        )
        # The default desks: a city-level one per agency (where work goes when the district is
        # unknown) and one per district. Only missing ones are added; an admin's changes stay.
        names = {a.code: a.name_zh for a in agencies.AGENCIES.values()}
        desks = agencies.districts.default_desks(list(agencies.AGENCIES))
        inserted = await conn.fetch(
            """
            INSERT INTO desks (code, agency, name, city_level)
            SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::boolean[])
            ON CONFLICT DO NOTHING
            RETURNING id, code
            """,
            [d[0] for d in desks],
            [d[1] for d in desks],
            [d[2].replace(d[1], names[d[1]], 1) for d in desks],
            [d[4] for d in desks],
        )
        new_ids = {row["code"]: row["id"] for row in inserted}
        await conn.executemany(
            "INSERT INTO desk_districts (desk_id, district) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            [
                (new_ids[code], district)
                for code, _, _, districts, _ in desks
                if code in new_ids
                for district in districts
            ],
        )
        # The shipped gazetteer of 驿城区, when no gazetteer has been loaded yet.
        await seed_shipped(conn)
