"""Open work now, for lists and the map: open assignments with their ticket's place and the
deadline that matters now, P1 first and the earliest deadline first, with a cursor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

import asyncpg

from dispatch.errors import BadRequest
from dispatch.store.stats import (
    LIVE_COLUMNS,
    OPEN,
    PRIORITY_RANK,
    StatsFilter,
    decode_keys,
    encode_keys,
    from_micros,
    micros,
)

OpenState = Literal["dispatched", "acknowledged", "in_progress", "paused"]
PRIORITIES: Final = ("P1", "P2", "P3", "P4")
_OVERDUE = "((a.state = 'dispatched' AND a.ack_due < now()) OR a.resolve_due < now())"


@dataclass(frozen=True, slots=True)
class Box:
    """A bounding box in degrees (WGS 84): what a map shows."""

    west: float
    south: float
    east: float
    north: float

    def where(self, args: list[Any]) -> str:
        """The condition that ticket ``t`` lies in the box (tickets without coordinates do not)."""
        args += [self.west, self.east, self.south, self.north]
        n = len(args)
        return f"t.lon BETWEEN ${n - 3} AND ${n - 2} AND t.lat BETWEEN ${n - 1} AND ${n}"


async def open_work(
    conn: asyncpg.Connection,
    filters: StatsFilter,
    *,
    state: OpenState | None,
    overdue_only: bool,
    cursor: str | None,
    limit: int,
    box: Box | None = None,
) -> tuple[list[dict[str, Any]], str | None]:
    """Open assignments now with their ticket's place (address, district, coordinates), P1
    first and within a priority the earliest deadline that matters now first; and the next
    cursor. ``overdue`` says whether that deadline has passed, ``escalation_level`` the
    highest level sent on a deadline still missed. With ``box``, only tickets inside it."""
    args: list[Any] = []
    conditions = [f"a.state IN {OPEN}", filters.where(args, period=False)]
    if box is not None:
        conditions.append(box.where(args))
    if state == "paused":
        conditions.append("a.paused_at IS NOT NULL")
    elif state:
        args.append(state)
        conditions.append(f"a.state = ${len(args)}")
    if overdue_only:
        conditions.append(_OVERDUE)
    after = ""
    if cursor:
        rank, due, assignment_id = decode_keys(cursor, "w", 3)
        try:
            args += [int(rank), from_micros(due), int(assignment_id)]
        except (ValueError, OverflowError):
            raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None
        n = len(args)
        after = f"AND (w.rank, w.due_at, w.assignment_id) > (${n - 2}::int, ${n - 1}::timestamptz, ${n}::bigint)"
    args.append(limit + 1)
    rows = await conn.fetch(
        f"""
        SELECT * FROM (
            SELECT {LIVE_COLUMNS}, {PRIORITY_RANK} AS rank,
                   CASE WHEN a.state = 'dispatched' THEN 'ack' ELSE 'resolve' END AS deadline,
                   CASE WHEN a.state = 'dispatched' THEN a.ack_due ELSE a.resolve_due END AS due_at,
                   {_OVERDUE} AS overdue,
                   a.escalation_level
            FROM assignments a JOIN tickets t ON t.id = a.ticket_id LEFT JOIN desks d ON d.id = a.desk_id
            WHERE {" AND ".join(conditions)}
        ) w
        WHERE true {after}
        ORDER BY w.rank, w.due_at, w.assignment_id
        LIMIT ${len(args)}
        """,
        *args,
    )
    items = []
    for row in rows[:limit]:
        item = dict(row)
        item.pop("rank")
        items.append(item)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_keys("w", [last["rank"], micros(last["due_at"]), last["assignment_id"]])
    return items, next_cursor


# The columns of ``live`` below, in order: an item of the map is one of its rows without the rank.
_LIVE_NAMES: Final = (
    *(line.strip().split(" AS ")[-1].split(".")[-1] for line in LIVE_COLUMNS.replace("\n", " ").split(",")),
    "rank",
    "deadline",
    "due_at",
    "overdue",
    "escalation_level",
)
_ITEM_FIELDS: Final = tuple(name for name in _LIVE_NAMES if name != "rank")


# A cell whose tickets share one place still gets a box to zoom into: this much around it.
_LEAST_SPAN: Final = 0.001  # degrees, about 100 m


def _zoom_box(west: float, south: float, east: float, north: float) -> list[float]:
    """The box of a cell's tickets (unrounded: a zoom into it must hold every ticket counted),
    widened to ``_LEAST_SPAN`` where they share a longitude or latitude."""
    if east - west < _LEAST_SPAN:
        west, east = west - _LEAST_SPAN / 2, east + _LEAST_SPAN / 2
    if north - south < _LEAST_SPAN:
        south, north = south - _LEAST_SPAN / 2, north + _LEAST_SPAN / 2
    return [max(west, -180.0), max(south, -90.0), min(east, 180.0), min(north, 90.0)]


def _aggregate_columns(**values: str) -> str:
    """A select list as wide as ``live``: these expressions where named, NULL elsewhere."""
    return ", ".join(values.get(name, "NULL") for name in _LIVE_NAMES)


async def map_view(
    conn: asyncpg.Connection,
    filters: StatsFilter,
    *,
    overdue_only: bool,
    box: Box | None,
    grid: int,
    items: int,
) -> dict[str, Any]:
    """What a map of open work shows at one view, sized for a screen whatever the open work.

    ``items``: the most urgent open work (as ``open_work`` orders it), at most ``items``
    assignments, and ``complete`` whether that is all of it. ``cells``: every open ticket with
    coordinates (in ``box`` when given) counted in a ``grid`` × ``grid`` grid over the box (or
    over the open work's own extent), with its overdue tickets, highest priority, the mean
    position and the box its tickets lie in (to zoom into). ``unplaced``: tickets without coordinates per district
    (only without a box: a box holds only what has a place). ``total`` and ``overdue`` count
    tickets, as the cells and ``unplaced`` do, not assignments.

    One statement reads the open work once for the items and the counts (the open work is the
    whole cost: its rows lie scattered over the tables, one page each).
    """
    args: list[Any] = []
    conditions = [f"a.state IN {OPEN}", filters.where(args, period=False)]
    if overdue_only:
        conditions.append(_OVERDUE)
    if box is not None:
        conditions.append(box.where(args))
        extent: list[float | None] = [box.west, box.south, box.east, box.north]
    else:
        extent = [None, None, None, None]
    args += [*extent, grid, items + 1]
    n = len(args)
    west, south, east, north, cells, top = (f"${i}" for i in range(n - 5, n + 1))
    rows = await conn.fetch(
        f"""
        WITH live AS MATERIALIZED (
            SELECT {LIVE_COLUMNS}, {PRIORITY_RANK} AS rank,
                   CASE WHEN a.state = 'dispatched' THEN 'ack' ELSE 'resolve' END AS deadline,
                   CASE WHEN a.state = 'dispatched' THEN a.ack_due ELSE a.resolve_due END AS due_at,
                   {_OVERDUE} AS overdue, a.escalation_level
            FROM assignments a JOIN tickets t ON t.id = a.ticket_id LEFT JOIN desks d ON d.id = a.desk_id
            WHERE {" AND ".join(conditions)}
        ), work AS (
            SELECT ticket_id, min(lat) AS lat, min(lon) AS lon, min(district) AS district,
                   min(rank) AS rank, bool_or(overdue) AS overdue
            FROM live GROUP BY ticket_id
        ), extent AS (
            SELECT west, south, east, north,
                   greatest(east - west, 1e-9) / {cells}::int AS dx, greatest(north - south, 1e-9) / {cells}::int AS dy
            FROM (
                SELECT coalesce({west}::float8, min(lon)) AS west, coalesce({south}::float8, min(lat)) AS south,
                       coalesce({east}::float8, max(lon)) AS east, coalesce({north}::float8, max(lat)) AS north
                FROM work WHERE lat IS NOT NULL AND lon IS NOT NULL
            ) bounds
        ), gridded AS (
            SELECT w.*, e.west, e.south, e.dx, e.dy,
                   least(floor((w.lon - e.west) / e.dx), {cells}::int - 1)::int AS x,
                   least(floor((w.lat - e.south) / e.dy), {cells}::int - 1)::int AS y
            FROM work w CROSS JOIN extent e WHERE w.lat IS NOT NULL AND w.lon IS NOT NULL
        )
        (SELECT 'item' AS kind, l.*, NULL::bigint AS tickets, NULL::bigint AS overdue_tickets,
                NULL::float8 AS cell_west, NULL::float8 AS cell_south, NULL::float8 AS cell_east,
                NULL::float8 AS cell_north
         FROM live l ORDER BY l.rank, l.due_at, l.assignment_id LIMIT {top})
        UNION ALL
        SELECT 'cell', {_aggregate_columns(rank="min(rank)", lat="avg(lat)", lon="avg(lon)")},
               count(*), count(*) FILTER (WHERE overdue),
               min(lon), min(lat), max(lon), max(lat)
        FROM gridded GROUP BY x, y
        UNION ALL
        SELECT 'unplaced', {_aggregate_columns(rank="min(rank)", district="district")},
               count(*), count(*) FILTER (WHERE overdue), NULL, NULL, NULL, NULL
        FROM work WHERE lat IS NULL OR lon IS NULL GROUP BY district
        """,
        *args,
    )
    page: list[dict[str, Any]] = []
    cell_list: list[dict[str, Any]] = []
    unplaced: list[dict[str, Any]] = []
    for row in rows:
        kind = row["kind"]
        if kind == "item":
            item = {name: row[name] for name in _ITEM_FIELDS}
            page.append(item)
            continue
        common = {
            "tickets": row["tickets"],
            "overdue": row["overdue_tickets"],
            "priority": PRIORITIES[row["rank"] - 1] if row["rank"] else None,
        }
        if kind == "cell":
            bounds = _zoom_box(row["cell_west"], row["cell_south"], row["cell_east"], row["cell_north"])
            cell_list.append({**common, "lat": round(row["lat"], 6), "lon": round(row["lon"], 6), "bbox": bounds})
        else:
            unplaced.append({"district": row["district"], **common})
    complete = len(page) <= items
    page = page[:items]
    cell_list.sort(key=lambda c: (-c["tickets"], c["bbox"]))
    unplaced.sort(key=lambda c: (-c["tickets"], c["district"] or ""))
    every = cell_list + unplaced
    return {
        "box": [box.west, box.south, box.east, box.north] if box else None,
        "grid": grid,
        "total": sum(c["tickets"] for c in every),
        "overdue": sum(c["overdue"] for c in every),
        "items": page,
        "complete": complete,
        "cells": cell_list,
        "unplaced": unplaced,
    }
