"""Supervisors' numbers, computed in SQL: open and overdue work, acknowledgement and
resolution times (percentiles with ``percentile_cont``), honest on-time rates, escalations,
citizen satisfaction, time series, and the per-agency and per-district KPIs of the report.

Definitions (docs/operations.md, "KPIs", is the reference):

- The population of a period is the assignments dispatched in it (``created_at`` in
  ``[start, end)``), matching the filters (agency of the assignment; district and priority
  of the ticket).
- Times run from when the deadlines were armed (dispatch, or the reopening of a resolved
  assignment) and exclude paused time: ``acknowledged_at - coalesce(deadlines_armed_at, created_at)``.
- On time (acknowledge): ``acknowledged_at <= ack_due``. Missed: not acknowledged and the
  deadline passed, while still dispatched or before it was closed (returned, transferred,
  released) without acknowledgement. Rate: on time ÷ (acknowledged + missed), so that work
  nobody touches counts against the rate instead of vanishing from it.
- On time (resolve): ``resolved_at <= resolve_due``; missed: not resolved and the deadline
  passed while open or before it was closed; rate: on time ÷ (resolved + missed).
- Satisfaction: the latest feedback of each ticket whose lead assignment is in the
  population; rate: satisfied ÷ tickets with feedback.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import asyncpg

from dispatch.bounds import in_window, parse_id
from dispatch.errors import BadRequest
from dispatch.store import open_counts

OPEN = "('dispatched', 'acknowledged', 'in_progress')"
CLOSED = "('returned', 'transferred', 'released')"
START = "coalesce(a.deadlines_armed_at, a.created_at)"
Bucket = Literal["minute", "hour"]
METRICS: Final[tuple[str, ...]] = ("created", "acknowledged", "resolved", "escalations", "median_ack_seconds")

# The KPI aggregates over assignments ``a`` (with ticket ``t``), shared by the summary and the report.
KPI_COLUMNS: Final = f"""
    count(*) AS assignments,
    count(DISTINCT a.ticket_id) AS tickets,
    count(a.acknowledged_at) AS acknowledged,
    count(*) FILTER (WHERE a.acknowledged_at <= a.ack_due) AS ack_on_time,
    count(*) FILTER (WHERE a.acknowledged_at IS NULL AND a.ack_due < now()
                     AND (a.state = 'dispatched' OR (a.state IN {CLOSED} AND a.closed_at > a.ack_due))) AS ack_missed,
    percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP
        (ORDER BY extract(epoch FROM a.acknowledged_at - {START})) AS ack_percentiles,
    count(a.resolved_at) AS resolved,
    count(*) FILTER (WHERE a.resolved_at <= a.resolve_due) AS resolve_on_time,
    count(*) FILTER (WHERE a.resolved_at IS NULL AND a.resolve_due < now()
                     AND (a.state IN {OPEN} OR (a.state IN {CLOSED} AND a.closed_at > a.resolve_due)))
        AS resolve_missed,
    percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP
        (ORDER BY extract(epoch FROM a.resolved_at - {START})) AS resolve_percentiles,
    count(*) FILTER (WHERE a.state = 'returned') AS returned
"""


@dataclass(frozen=True, slots=True)
class StatsFilter:
    """Which assignments the numbers are about; the period applies to time-based numbers."""

    start: datetime
    end: datetime
    agency: str | None = None
    district: str | None = None
    priority: str | None = None

    def assignments(self) -> str:
        """``FROM`` assignments ``a``, joined to their tickets ``t`` only when a filter is on a
        ticket's field: over years of history, the join is most of a count's cost."""
        if self.district or self.priority:
            return "assignments a JOIN tickets t ON t.id = a.ticket_id"
        return "assignments a"

    def escalations(self) -> str:
        """``FROM`` escalations ``e`` with what the filters need of their assignments and tickets."""
        if self.agency or self.district or self.priority:
            return f"escalations e JOIN {self.assignments()} ON a.id = e.assignment_id"
        return "escalations e"

    def where(self, args: list[Any], *, period: bool = True, alias: str = "a") -> str:
        """SQL conditions on assignments ``alias`` joined to tickets ``t``; appends to ``args``."""

        def arg(value: Any) -> str:
            args.append(value)
            return f"${len(args)}"

        conditions = ["true"]
        if period:
            conditions.append(f"{alias}.created_at >= {arg(self.start)} AND {alias}.created_at < {arg(self.end)}")
        if self.agency:
            conditions.append(f"{alias}.agency = {arg(self.agency)}")
        if self.district:
            conditions.append(f"t.district = {arg(self.district)}")
        if self.priority:
            conditions.append(f"t.priority = {arg(self.priority)}")
        return " AND ".join(conditions)


def rate(numerator: int, denominator: int) -> float | None:
    """A ratio rounded to 4 places, None when there is nothing to divide by."""
    return round(numerator / denominator, 4) if denominator else None


def _percentiles(values: list[float] | None) -> dict[str, float | None]:
    values = values or [None, None, None]  # type: ignore[list-item]
    return {
        name: (round(value, 3) if value is not None else None)
        for name, value in zip(("p50_seconds", "p90_seconds", "p99_seconds"), values, strict=True)
    }


def kpis(row: asyncpg.Record | dict[str, Any]) -> dict[str, Any]:
    """The acknowledge and resolve blocks of one KPI row."""
    ack_denominator = row["acknowledged"] + row["ack_missed"]
    resolve_denominator = row["resolved"] + row["resolve_missed"]
    return {
        "acknowledge": {
            "acknowledged": row["acknowledged"],
            "on_time": row["ack_on_time"],
            "late": row["acknowledged"] - row["ack_on_time"],
            "missed": row["ack_missed"],
            "on_time_rate": rate(row["ack_on_time"], ack_denominator),
            **_percentiles(row["ack_percentiles"]),
        },
        "resolve": {
            "resolved": row["resolved"],
            "on_time": row["resolve_on_time"],
            "late": row["resolved"] - row["resolve_on_time"],
            "missed": row["resolve_missed"],
            "on_time_rate": rate(row["resolve_on_time"], resolve_denominator),
            **_percentiles(row["resolve_percentiles"]),
        },
    }


async def summary(conn: asyncpg.Connection, filters: StatsFilter) -> dict[str, Any]:
    """The supervisors' summary: open and overdue work now; times, rates, escalations and
    satisfaction of the period.

    Run it in one (read-only, repeatable-read) transaction for figures of one moment. What is
    open comes from the kept counts (dispatch.store.open_counts), what is overdue from the
    overdue work alone (by the deadline indexes of migration 0012), so that neither counts all
    open work."""
    open_rows = await open_counts.open_by_agency_and_state(
        conn, agency=filters.agency, district=filters.district, priority=filters.priority
    )
    by_agency: dict[str, dict[str, Any]] = {}
    for row in open_rows:
        entry = by_agency.setdefault(
            row["agency"],
            {"agency": row["agency"], "dispatched": 0, "acknowledged": 0, "in_progress": 0, "paused": 0, "total": 0},
        )
        entry[row["state"]] = row["n"]
        entry["paused"] += row["paused"]
        entry["total"] += row["n"]
    open_tickets = await open_counts.open_tickets(
        conn, agency=filters.agency, district=filters.district, priority=filters.priority
    )

    args: list[Any] = []
    where_now = filters.where(args, period=False)
    # Two branches, each one deadline index's range read from the index alone (migration 0016
    # carries the columns counted): late on its acknowledgement, and late on its resolution only.
    overdue_rows = await conn.fetch(
        f"""
        WITH late AS (
            SELECT a.agency, a.ticket_id, true AS ack, a.resolve_due < now() AS resolve
            FROM {filters.assignments()}
            WHERE a.state = 'dispatched' AND a.ack_due < now() AND {where_now}
            UNION ALL
            SELECT a.agency, a.ticket_id, false, true
            FROM {filters.assignments()}
            WHERE a.state IN {OPEN} AND a.resolve_due < now()
              AND NOT (a.state = 'dispatched' AND a.ack_due < now()) AND {where_now}
        )
        SELECT agency, GROUPING(agency) = 1 AS all_agencies,
               count(*) FILTER (WHERE ack) AS ack, count(*) FILTER (WHERE resolve) AS resolve,
               count(*) AS total, count(DISTINCT ticket_id) AS tickets
        FROM late
        GROUP BY GROUPING SETS ((), (agency))
        ORDER BY all_agencies DESC, agency
        """,
        *args,
    )
    overdue_total = overdue_rows[0]
    # Every agency with open work is listed, with zeros when none of it is late.
    overdue = {agency: {"agency": agency, "ack": 0, "resolve": 0, "total": 0} for agency in by_agency}
    for r in overdue_rows:
        if not r["all_agencies"]:
            overdue[r["agency"]] = {key: r[key] for key in ("agency", "ack", "resolve", "total")}

    args = []
    where = filters.where(args)
    period_rows = await conn.fetch(
        f"""
        SELECT a.agency, GROUPING(a.agency) = 1 AS all_agencies, {KPI_COLUMNS}
        FROM {filters.assignments()}
        WHERE {where}
        GROUP BY GROUPING SETS ((), (a.agency))
        ORDER BY all_agencies DESC, a.agency
        """,
        *args,
    )
    total = next(row for row in period_rows if row["all_agencies"])

    args = []
    where = filters.where(args, period=False)
    start, end = f"${len(args) + 1}", f"${len(args) + 2}"
    args += [filters.start, filters.end]
    escalation_rows = await conn.fetch(
        f"""
        SELECT e.kind, e.level, count(*) AS n
        FROM {filters.escalations()}
        WHERE e.escalated_at >= {start} AND e.escalated_at < {end} AND {where}
        GROUP BY e.kind, e.level ORDER BY e.kind, e.level
        """,
        *args,
    )

    args = []
    where = filters.where(args)
    satisfaction = await conn.fetchrow(
        f"""
        SELECT count(*) AS responses, count(*) FILTER (WHERE f.satisfied) AS satisfied, avg(f.rating)::float8 AS mean
        FROM (
            SELECT DISTINCT ON (f.ticket_id) f.satisfied, f.rating FROM feedback f
            WHERE f.ticket_id IN (
                SELECT a.ticket_id FROM {filters.assignments()}
                WHERE a.role = 'lead' AND {where}
            )
            ORDER BY f.ticket_id, f.id DESC
        ) f
        """,
        *args,
    )

    answered = await answered_count(conn, filters)
    escalations = [dict(r) for r in escalation_rows if not r["kind"].startswith("reminder_")]
    return {
        "period": {"from": filters.start, "to": filters.end},
        "filters": {"agency": filters.agency, "district": filters.district, "priority": filters.priority},
        "open": {
            "total": sum(e["total"] for e in by_agency.values()),
            "tickets": open_tickets,
            "by_agency": list(by_agency.values()),
        },
        "overdue_now": {
            "tickets": overdue_total["tickets"],
            "ack": overdue_total["ack"],
            "resolve": overdue_total["resolve"],
            "total": overdue_total["total"],
            "by_agency": sorted(overdue.values(), key=lambda e: e["agency"]),
        },
        "dispatched": {"assignments": total["assignments"], "tickets": total["tickets"]},
        # 直接办结: consultations answered at first contact, and their share of the calls filed.
        "answered": {"tickets": answered, "rate": rate(answered, answered + total["tickets"])},
        **kpis(total),
        "by_agency": [
            {"agency": row["agency"], "assignments": row["assignments"], **kpis(row)}
            for row in period_rows
            if not row["all_agencies"]
        ],
        "escalations": {
            "total": sum(e["n"] for e in escalations),
            "by_level": [{"kind": e["kind"], "level": e["level"], "count": e["n"]} for e in escalations],
            "reminders": sum(r["n"] for r in escalation_rows if r["kind"].startswith("reminder_")),
        },
        "satisfaction": (
            {
                "responses": satisfaction["responses"],
                "satisfied": satisfaction["satisfied"],
                "rate": rate(satisfaction["satisfied"], satisfaction["responses"]),
                "mean_rating": round(satisfaction["mean"], 2),
            }
            if satisfaction["responses"]
            else None
        ),
    }


async def answered_count(conn: asyncpg.Connection, filters: StatsFilter) -> int:
    """Tickets answered at first contact (直接办结) filed in the period, with the district and
    priority filters; with an agency, those answered from that agency's knowledge-base entries."""
    args: list[Any] = [filters.start, filters.end]
    where = ["t.status = 'answered'", "t.created_at >= $1", "t.created_at < $2"]
    if filters.district:
        args.append(filters.district)
        where.append(f"t.district = ${len(args)}")
    if filters.priority:
        args.append(filters.priority)
        where.append(f"t.priority = ${len(args)}")
    if filters.agency:
        args.append(filters.agency)
        where.append(
            f"EXISTS (SELECT 1 FROM kb_versions v WHERE v.entry_id = t.kb_entry_id "
            f"AND v.version = t.kb_version AND v.agency = ${len(args)})"
        )
    count: int = await conn.fetchval(f"SELECT count(*) FROM tickets t WHERE {' AND '.join(where)}", *args)
    return count


async def answered_counts(
    conn: asyncpg.Connection, start: datetime, end: datetime
) -> dict[tuple[str | None, str | None], int]:
    """Answered consultations (直接办结) filed in ``[start, end)`` for the report, keyed by the
    knowledge-base entry's agency and the ticket's district: ``(agency, district)``, ``(agency,
    None)`` for the agency's subtotal, and ``(None, None)`` for the total."""
    rows = await conn.fetch(
        """
        SELECT v.agency, t.district, GROUPING(v.agency) AS no_agency, GROUPING(t.district) AS no_district,
               count(*) AS n
        FROM tickets t LEFT JOIN kb_versions v ON v.entry_id = t.kb_entry_id AND v.version = t.kb_version
        WHERE t.status = 'answered' AND t.created_at >= $1 AND t.created_at < $2
        GROUP BY GROUPING SETS ((v.agency, t.district), (v.agency), ())
        """,
        start,
        end,
    )
    counts: dict[tuple[str | None, str | None], int] = {}
    for row in rows:
        if row["no_agency"]:
            counts[(None, None)] = row["n"]
        elif row["agency"] is not None:
            counts[(row["agency"], None if row["no_district"] else row["district"])] = row["n"]
    return counts


# What is late now ---------------------------------------------------------------------------------


def micros(at: datetime) -> int:
    """``at`` as microseconds since the epoch (how cursors carry a time)."""
    return int((at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))


def from_micros(value: str) -> datetime:
    """The time of ``micros``' digits."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(value))


def encode_time_cursor(kind: str, at: datetime, row_id: int) -> str:
    """A keyset cursor (a time and an id) of list ``kind``, opaque to clients."""
    return base64.urlsafe_b64encode(f"{kind}:{micros(at)}:{row_id}".encode()).decode().rstrip("=")


def decode_time_cursor(kind: str, cursor: str) -> tuple[datetime, int]:
    """The time and id of a cursor of list ``kind``; 400 for anything this service did not give out."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        got, digits, row = raw.split(":")
        row_id = parse_id(row)
        if got != kind or row_id is None or len(digits) > 20:
            raise ValueError
        at = from_micros(digits)
        if not in_window(at):
            raise ValueError
        return at, row_id
    except (ValueError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None


def encode_overdue_cursor(due_at: datetime, assignment_id: int) -> str:
    return encode_time_cursor("o", due_at, assignment_id)


def decode_overdue_cursor(cursor: str) -> tuple[datetime, int]:
    return decode_time_cursor("o", cursor)


async def overdue(
    conn: asyncpg.Connection, filters: StatsFilter, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Open assignments past a deadline now, the longest overdue first, and the next cursor.

    An assignment still waiting for acknowledgement past its acknowledge deadline is late on
    that one; otherwise on its resolve deadline. Paused ones are listed (flagged): a
    deadline missed before the pause stays missed.
    """
    args: list[Any] = []
    where = filters.where(args, period=False)
    after_ack = after_resolve = ""
    if cursor:
        due_at, assignment_id = decode_overdue_cursor(cursor)
        args += [due_at, assignment_id]
        after_ack = f"AND (a.ack_due, a.id) > (${len(args) - 1}, ${len(args)})"
        after_resolve = f"AND (a.resolve_due, a.id) > (${len(args) - 1}, ${len(args)})"
    args.append(limit + 1)
    # Two lists each in the order of an index (migration 0012), merged: late on the
    # acknowledgement, and late on the resolution only. A page reads a page of each, not all
    # overdue work sorted.
    rows = await conn.fetch(
        f"""
        SELECT late.assignment_id, a.ticket_id, t.number, t.priority, t.category, t.district, a.agency,
               a.desk_id, a.role, a.state, a.ack_due, a.resolve_due, a.paused_at, a.pause_reason,
               late.kind, late.due_at, late.escalation_level
        FROM (
            (SELECT a.id AS assignment_id, 'ack' AS kind, a.ack_due AS due_at,
                    greatest(a.ack_stage - 1, 0) AS escalation_level
             FROM {filters.assignments()}
             WHERE a.state = 'dispatched' AND a.ack_due < now() AND {where} {after_ack}
             ORDER BY a.ack_due, a.id LIMIT ${len(args)})
            UNION ALL
            (SELECT a.id, 'resolve', a.resolve_due, greatest(a.resolve_stage - 1, 0)
             FROM {filters.assignments()}
             WHERE a.state IN {OPEN} AND a.resolve_due < now() AND NOT (a.state = 'dispatched' AND a.ack_due < now())
               AND {where} {after_resolve}
             ORDER BY a.resolve_due, a.id LIMIT ${len(args)})
        ) late
        JOIN assignments a ON a.id = late.assignment_id JOIN tickets t ON t.id = a.ticket_id
        ORDER BY late.due_at, late.assignment_id
        LIMIT ${len(args)}
        """,
        *args,
    )
    now = await conn.fetchval("SELECT now()")
    page = rows[:limit]
    items = [dict(row) | {"overdue_seconds": round((now - row["due_at"]).total_seconds(), 3)} for row in page]
    next_cursor = encode_overdue_cursor(page[-1]["due_at"], page[-1]["assignment_id"]) if len(rows) > limit else None
    return items, next_cursor


# Escalations open now, and open work for lists and the map ---------------------------------------------

# The escalation level each open assignment stands at now, per deadline: an acknowledgement
# escalation is open while the assignment still waits to be acknowledged, a resolution one
# while it is open at all (stages: 0 nothing, 1 reminded, L + 1 escalated at level L). The
# higher of the two is the row's ``escalation_level``; these say which deadline it is.
_ACK_LEVEL = "CASE WHEN a.state = 'dispatched' THEN greatest(a.ack_stage - 1, 0) ELSE 0 END"
_RESOLVE_LEVEL = "greatest(a.resolve_stage - 1, 0)"
LIVE_COLUMNS = """
    a.id AS assignment_id, a.ticket_id, t.number, t.priority, t.category, t.district, t.address, t.lat, t.lon,
    t.status AS ticket_status, t.created_at AS ticket_created_at, a.agency, a.desk_id, d.code AS desk, a.role,
    a.state, a.ack_due, a.resolve_due, a.paused_at, a.pause_reason, a.created_at
"""
PRIORITY_RANK = "array_position(ARRAY['P1', 'P2', 'P3', 'P4'], t.priority)"


def encode_keys(kind: str, keys: list[Any]) -> str:
    raw = kind + ":" + "|".join(str(k) for k in keys)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_keys(cursor: str, kind: str, count: int) -> list[str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, rest = raw.partition(":")
        keys = rest.split("|")
        if prefix != kind or len(keys) != count:
            raise ValueError
        return keys
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None


async def open_escalations(
    conn: asyncpg.Connection, filters: StatsFilter, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Escalations (督办) open now: open assignments escalated on a deadline they still miss,
    one row each at the highest level it stands at, highest level first, then P1 before P4,
    then the longest overdue; and the next cursor.

    ``escalated_at`` is when that level was sent, ``overdue_seconds`` how long the deadline
    has passed. A deadline met since (acknowledged, resolved, returned) closes its escalation.
    """
    args: list[Any] = []
    where = filters.where(args, period=False)
    after = ""
    if cursor:
        level, rank, due, assignment_id = decode_keys(cursor, "e", 4)
        try:
            args += [int(level), int(rank), from_micros(due), int(assignment_id)]
        except (ValueError, OverflowError):
            raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None
        n = len(args)
        after = (
            "AND (-o.level, o.rank, o.due_at, o.assignment_id)"
            f" > (-${n - 3}::int, ${n - 2}::int, ${n - 1}::timestamptz, ${n}::bigint)"
        )
    args.append(limit + 1)
    # The order first, over the few columns it needs; the page's other columns (its ticket's
    # place, its desk) for the page alone.
    rows = await conn.fetch(
        f"""
        WITH page AS MATERIALIZED (
            SELECT * FROM (
                SELECT l.*, CASE WHEN l.kind = 'ack' THEN l.ack_due ELSE l.resolve_due END AS due_at FROM (
                    SELECT a.id AS assignment_id, a.ack_due, a.resolve_due, {PRIORITY_RANK} AS rank,
                           a.escalation_level AS level,
                           CASE WHEN {_ACK_LEVEL} >= {_RESOLVE_LEVEL} THEN 'ack' ELSE 'resolve' END AS kind
                    FROM assignments a JOIN tickets t ON t.id = a.ticket_id
                    WHERE a.state IN {OPEN} AND a.escalation_level >= 1 AND {where}
                ) l
            ) o
            WHERE true {after}
            ORDER BY o.level DESC, o.rank, o.due_at, o.assignment_id
            LIMIT ${len(args)}
        )
        SELECT {LIVE_COLUMNS}, a.deadline_round, page.rank, page.level, page.kind, page.due_at
        FROM page JOIN assignments a ON a.id = page.assignment_id JOIN tickets t ON t.id = a.ticket_id
        LEFT JOIN desks d ON d.id = a.desk_id
        ORDER BY page.level DESC, page.rank, page.due_at, page.assignment_id
        """,
        *args,
    )
    page = [dict(row) for row in rows[:limit]]
    sent = {}
    if page:
        sent = {
            (r["assignment_id"], r["kind"], r["level"]): r["escalated_at"]
            for r in await conn.fetch(
                """
                SELECT e.assignment_id, e.kind, e.level, e.escalated_at FROM escalations e
                JOIN unnest($1::bigint[], $2::int[]) AS p(assignment_id, round)
                  ON p.assignment_id = e.assignment_id AND p.round = e.round
                """,
                [r["assignment_id"] for r in page],
                [r["deadline_round"] for r in page],
            )
        }
    now = await conn.fetchval("SELECT now()")
    items = []
    for row in page:
        row.pop("rank")
        row.pop("deadline_round")
        row["escalated_at"] = sent.get((row["assignment_id"], row["kind"], row["level"]))
        row["overdue_seconds"] = round((now - row["due_at"]).total_seconds(), 3)
        items.append(row)
    next_cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        next_cursor = encode_keys("e", [last["level"], last["rank"], micros(last["due_at"]), last["assignment_id"]])
    return items, next_cursor


# Time series ----------------------------------------------------------------------------------------


async def timeseries(
    conn: asyncpg.Connection, filters: StatsFilter, *, bucket: Bucket, metrics: tuple[str, ...]
) -> list[dict[str, Any]]:
    """Per-bucket values of ``metrics`` (see METRICS) over the period, oldest bucket first;
    buckets are UTC minutes or hours, every bucket present (0 or None when empty)."""
    step = "1 minute" if bucket == "minute" else "1 hour"
    args: list[Any] = [bucket, filters.start, filters.end]
    where_now = filters.where(args, period=False)
    agency_clause = ""
    if filters.agency:
        agency_clause = (
            f"AND EXISTS (SELECT 1 FROM assignments fa WHERE fa.ticket_id = t.id AND fa.agency = ${len(args) + 1})"
        )
        args.append(filters.agency)
    ticket_conditions = ["true"]
    if filters.district:
        ticket_conditions.append(f"t.district = ${len(args) + 1}")
        args.append(filters.district)
    if filters.priority:
        ticket_conditions.append(f"t.priority = ${len(args) + 1}")
        args.append(filters.priority)
    rows = await conn.fetch(
        f"""
        WITH buckets AS (
            SELECT b AS at FROM generate_series(date_trunc($1, $2::timestamptz), $3::timestamptz, interval '{step}') b
            WHERE b < $3
        ), created AS (
            SELECT date_trunc($1, t.created_at) AS at, count(*) AS n FROM tickets t
            WHERE t.created_at >= $2 AND t.created_at < $3 AND {" AND ".join(ticket_conditions)} {agency_clause}
            GROUP BY 1
        ), acknowledged AS (
            SELECT date_trunc($1, a.acknowledged_at) AS at, count(*) AS n,
                   percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM a.acknowledged_at - {START}))
                       AS median
            FROM {filters.assignments()}
            WHERE a.acknowledged_at >= $2 AND a.acknowledged_at < $3 AND {where_now}
            GROUP BY 1
        ), resolved AS (
            SELECT date_trunc($1, a.resolved_at) AS at, count(*) AS n
            FROM {filters.assignments()}
            WHERE a.resolved_at >= $2 AND a.resolved_at < $3 AND {where_now}
            GROUP BY 1
        ), escalated AS (
            SELECT date_trunc($1, e.escalated_at) AS at, count(*) AS n
            FROM {filters.escalations()}
            WHERE e.escalated_at >= $2 AND e.escalated_at < $3 AND e.kind IN ('ack', 'resolve') AND {where_now}
            GROUP BY 1
        )
        SELECT b.at, coalesce(c.n, 0) AS created, coalesce(k.n, 0) AS acknowledged, k.median AS median_ack_seconds,
               coalesce(r.n, 0) AS resolved, coalesce(e.n, 0) AS escalations
        FROM buckets b
        LEFT JOIN created c ON c.at = b.at
        LEFT JOIN acknowledged k ON k.at = b.at
        LEFT JOIN resolved r ON r.at = b.at
        LEFT JOIN escalated e ON e.at = b.at
        ORDER BY b.at
        """,
        *args,
    )
    points = []
    for row in rows:
        values: dict[str, float | int | None] = {}
        for metric in metrics:
            value = row[metric]
            values[metric] = round(value, 3) if isinstance(value, float) else value
        points.append({"at": row["at"], "values": values})
    return points


# The report -----------------------------------------------------------------------------------------


async def kpi_rows(conn: asyncpg.Connection, start: datetime, end: datetime) -> list[dict[str, Any]]:
    """The report's rows: per agency and district, per agency, and the whole (agency and/or
    district None with ``level`` "agency" or "total"), with their KPI counts."""
    rows = await conn.fetch(
        f"""
        WITH pop AS (
            SELECT a.*, t.district AS ticket_district FROM assignments a JOIN tickets t ON t.id = a.ticket_id
            WHERE a.created_at >= $1 AND a.created_at < $2
        ), latest_feedback AS (
            SELECT DISTINCT ON (f.ticket_id) f.ticket_id, f.satisfied FROM feedback f
            WHERE f.ticket_id IN (SELECT ticket_id FROM pop)
            ORDER BY f.ticket_id, f.id DESC
        ), escalated AS (
            SELECT assignment_id, count(*) AS n FROM escalations
            WHERE kind IN ('ack', 'resolve') AND assignment_id IN (SELECT id FROM pop)
            GROUP BY 1
        )
        SELECT a.agency, a.ticket_district AS district,
               GROUPING(a.agency) AS no_agency, GROUPING(a.ticket_district) AS no_district,
               {KPI_COLUMNS},
               count(lf.ticket_id) FILTER (WHERE a.role = 'lead') AS feedback,
               count(*) FILTER (WHERE a.role = 'lead' AND lf.satisfied) AS satisfied,
               coalesce(sum(esc.n), 0)::bigint AS escalations
        FROM pop a
        LEFT JOIN latest_feedback lf ON lf.ticket_id = a.ticket_id
        LEFT JOIN escalated esc ON esc.assignment_id = a.id
        GROUP BY GROUPING SETS ((a.agency, a.ticket_district), (a.agency), ())
        ORDER BY GROUPING(a.agency), a.agency, GROUPING(a.ticket_district), a.ticket_district NULLS LAST
        """,
        start,
        end,
    )
    result = []
    for row in rows:
        level = "total" if row["no_agency"] else ("agency" if row["no_district"] else "district")
        result.append(dict(row) | {"level": level})
    return result
