"""``dispatch bench-escalation``: escalation lag with many open assignments.

It creates a scratch database on the configured PostgreSQL server (dropped afterwards),
bulk-inserts ``--assignments`` open P1 assignments whose acknowledge deadlines are spread
over ``--spread`` seconds starting a few seconds after the insert commits, runs one deadline
watcher (the real one, leader election included) until every deadline has escalated, and
reports the lag from each deadline to its ``ticket.escalated`` event row's ``at``, as
percentiles computed in SQL. Benchmarks measure; they do not pass or fail.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from dispatch.deadlines.policy import EscalationPolicy
from dispatch.deadlines.watcher import DeadlineWatcher, policy_from
from dispatch.errors import DispatchError
from dispatch.runtime.db import connect, create_pool
from dispatch.runtime.settings import Settings

SEED_TICKETS = """
    INSERT INTO tickets (number, tracking_token, channel, address, district, description, category, priority, status)
    SELECT 'MS20990101-' || lpad(g::text, 7, '0'), md5(g::text) || md5(g::text), 'phone', '压测地址', 'yicheng',
           '压测工单 benchmark ticket', 'police.violence', 'P1', 'dispatched'
    FROM generate_series($1::int, $1::int + $2::int - 1) g
"""
# Deadlines at $3 + an even spread over $4 seconds (by ticket id, so evenly interleaved).
SEED_ASSIGNMENTS = """
    INSERT INTO assignments (ticket_id, agency, desk_id, role, ack_due, resolve_due, created_at)
    SELECT t.id, 'police', (SELECT id FROM desks WHERE code = 'police.city'), 'lead',
           $3::timestamptz + make_interval(secs => $4::float8 * ((t.id * 7919) % $2) / $2),
           $3::timestamptz + make_interval(secs => $4::float8 * ((t.id * 7919) % $2) / $2) + interval '1 day',
           now()
    FROM tickets t WHERE t.id >= $1
"""


async def seed_open_assignments(conn: asyncpg.Connection, count: int, *, first_due: datetime, spread: float) -> None:
    """Insert ``count`` tickets with one open, unacknowledged P1 assignment each, whose
    acknowledge deadlines lie evenly in ``[first_due, first_due + spread)``."""
    async with conn.transaction():
        first_id = await conn.fetchval("SELECT coalesce(max(id), 0) + 1 FROM tickets")
        await conn.execute(SEED_TICKETS, first_id, count)
        await conn.execute(SEED_ASSIGNMENTS, first_id, count, first_due, spread)
    await conn.execute("ANALYZE tickets")
    await conn.execute("ANALYZE assignments")


@dataclass(frozen=True, slots=True)
class LagReport:
    """What a run measured (seconds)."""

    open_assignments: int
    escalated: int
    duplicates: int
    reminders: int
    p50: float | None
    p90: float | None
    p99: float | None
    max: float | None
    seed_seconds: float
    watched_seconds: float

    def lines(self) -> list[str]:
        def ms(value: float | None) -> str:
            return "-" if value is None else f"{value * 1000:.0f} ms"

        return [
            f"open assignments: {self.open_assignments}",
            f"escalated: {self.escalated} (duplicates: {self.duplicates}); reminders sent before: {self.reminders}",
            f"lag deadline → event: p50 {ms(self.p50)}, p90 {ms(self.p90)}, p99 {ms(self.p99)}, max {ms(self.max)}",
            f"seeding took {self.seed_seconds:.1f} s; watched {self.watched_seconds:.1f} s",
        ]


async def measure_lag(pool: asyncpg.Pool) -> dict[str, Any]:
    """Lag percentiles of every level-1 acknowledge escalation so far, and the duplicate count."""
    row = await pool.fetchrow(
        """
        SELECT count(*) AS escalated,
               count(*) - count(DISTINCT e.assignment_id) AS duplicates,
               percentile_cont(ARRAY[0.5, 0.9, 0.99]) WITHIN GROUP
                   (ORDER BY extract(epoch FROM e.at - (e.data->>'escalate_at')::timestamptz)) AS p,
               max(extract(epoch FROM e.at - (e.data->>'escalate_at')::timestamptz))::float8 AS worst
        FROM events e WHERE e.type = 'ticket.escalated' AND (e.data->>'level')::int = 1
        """
    )
    return dict(row)


async def run_benchmark(
    dsn: str,
    *,
    assignments: int,
    spread: float,
    policy: EscalationPolicy,
    lead_in: float | None = None,
    poll_max: float = 0.25,
    batch: int = 1000,
) -> LagReport:
    """Seed, watch until every deadline escalated (or a generous timeout), and measure."""
    pool = await create_pool(dsn, min_size=2, max_size=4)
    try:
        watcher = DeadlineWatcher(pool, policy, poll_max=poll_max, batch=batch, retry_interval=0.2)
        task = asyncio.get_running_loop().create_task(watcher.run(), name="bench-watcher")
        try:
            # Deadlines start after the insert has surely committed (about 50 µs a row on a
            # busy 2-core machine); the lag of the very first ones would say so otherwise.
            lead = lead_in if lead_in is not None else 3.0 + assignments * 100e-6
            started = time.monotonic()
            async with pool.acquire() as conn:
                first_due = await conn.fetchval("SELECT clock_timestamp()") + timedelta(seconds=lead)
                await seed_open_assignments(conn, assignments, first_due=first_due, spread=spread)
                late_already = await conn.fetchval("SELECT $1::timestamptz < clock_timestamp()", first_due)
            seeded = time.monotonic() - started
            if late_already:
                raise DispatchError(f"seeding took longer than the lead-in of {lead:.1f} s; give a larger --lead-in")
            limit = time.monotonic() + lead + spread + 30
            while time.monotonic() < limit:
                done = await pool.fetchval("SELECT count(*) FROM escalations WHERE kind = 'ack' AND level = 1")
                if done >= assignments:
                    break
                await asyncio.sleep(0.5)
            watched = time.monotonic() - started - seeded
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        lag = await measure_lag(pool)
        reminders = await pool.fetchval("SELECT count(*) FROM events WHERE type = 'ticket.reminder'")
        still_open = await pool.fetchval("SELECT count(*) FROM assignments WHERE state = 'dispatched'")
        p = lag["p"] or [None, None, None]
        return LagReport(
            open_assignments=still_open,
            escalated=lag["escalated"],
            duplicates=lag["duplicates"],
            reminders=reminders,
            p50=p[0],
            p90=p[1],
            p99=p[2],
            max=lag["worst"],
            seed_seconds=seeded,
            watched_seconds=watched,
        )
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def scratch_database(server_dsn: str) -> Any:
    """A fresh database on the server of ``server_dsn``, migrated, dropped on the way out."""
    from dispatch.runtime.server import prepare_database

    name = f"dispatch_bench_{secrets.token_hex(4)}"
    admin = await connect(server_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    dsn = urlunsplit(urlsplit(server_dsn)._replace(path="/" + name))
    try:
        await prepare_database(dsn)
        yield dsn
    finally:
        admin = await connect(server_dsn)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def main(settings: Settings, *, assignments: int, spread: float, lead_in: float | None = None) -> int:
    """``dispatch bench-escalation``: run on a scratch database and print the figures."""
    import os
    import platform

    policy = policy_from(settings)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPU(s), Python {platform.python_version()}; "
        f"escalation intervals {policy.intervals}, reminders at {policy.reminder_fraction}, "
        f"poll at most {settings.deadline_poll_max} s, batch {settings.deadline_batch}"
    )
    assert settings.database_url
    async with scratch_database(settings.database_url) as dsn:
        server = await connect(dsn)
        try:
            print("postgresql:", await server.fetchval("SHOW server_version"))
        finally:
            await server.close()
        report = await run_benchmark(
            dsn,
            assignments=assignments,
            spread=spread,
            policy=policy,
            lead_in=lead_in,
            poll_max=settings.deadline_poll_max,
            batch=settings.deadline_batch,
        )
    print("\n".join(report.lines()))
    return 0
