"""``dispatch bench`` end to end, small: it starts a server, creates tickets over HTTP, sees them
reach the desks, and reports. (The figures come from running it; tests never judge speed.)"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from tests.conftest import UserFactory, other_redis_db


async def _bench(database_url: str, redis_url: str, data_dir: Path, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DISPATCH_DATABASE_URL": database_url,
        "DISPATCH_REDIS_URL": redis_url,
        "DISPATCH_DATA_DIR": str(data_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "dispatch",
        "bench",
        "--json",
        "--server-workers",
        "1",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, stderr.decode(errors="replace")[-3000:]
    report: dict[str, Any] = json.loads(stdout.decode().strip().splitlines()[-1])
    return report


async def test_bench_creates_delivers_and_reports_cpu_by_part(
    scratch_databases: Callable[[], Awaitable[str]], redis_url: str, tmp_path: Path
) -> None:
    report = await _bench(
        await scratch_databases(), other_redis_db(redis_url), tmp_path, "--tickets", "30", "--concurrency", "4"
    )
    assert report["tickets"] == 30
    assert report["errors"] == {}
    assert (report["delivered"], report["undelivered"]) == (30, 0)
    for key in ("create_latency_ms", "delivery_latency_ms"):
        figures = report[key]
        assert figures["p50"] <= figures["p90"] <= figures["p99"] <= figures["max"]
    server = report["server"]
    assert server["workers"] == 1 and server["rss_mib"] > 0
    assert set(server["cpu_ms_per_ticket"]) == {"server", "load generator", "postgresql", "redis"}
    assert server["cpu_ms_per_ticket"]["server"] > 0
    assert 0 <= server["machine_busy_percent"] <= 100
    if shutil.which("pgbench"):  # the peers, and the service's rate as a ratio of each
        assert server["pgbench_ticket_write_per_s"] > 0 and server["ratio_to_ticket_write"] > 0
        assert server["pgbench_insert_per_s"] > 0 and server["ratio_to_pgbench"] > 0


async def test_bench_runs_for_a_duration_closed_loop_and_at_a_rate(
    scratch_databases: Callable[[], Awaitable[str]], redis_url: str, tmp_path: Path
) -> None:
    database, redis = await scratch_databases(), other_redis_db(redis_url)
    closed = await _bench(database, redis, tmp_path, "--duration", "1.5", "--concurrency", "2")
    assert closed["tickets"] > 0 and closed["errors"] == {}
    assert 1.5 <= closed["duration_s"] < 10  # the last requests in flight finish after the time is up
    offered = await _bench(database, redis, tmp_path, "--duration", "1", "--rate", "12", "--concurrency", "4")
    assert offered["tickets"] == 12 and offered["undelivered"] == 0


async def test_bench_drives_a_running_server_and_counts_only_what_its_desks_can_see(
    server: TestServer, make_user: UserFactory, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    report = await _bench(
        database_url,
        redis_url,
        tmp_path,
        *("--url", str(server.make_url("")).rstrip("/"), "--call-taker-token", taker),
        *("--desk-token", f"police={police}", "--tickets", "20", "--concurrency", "2"),
    )
    assert report["tickets"] == 20 and report["errors"] == {}
    # Tickets led by agencies without a desk here are not counted as lost.
    assert report["undelivered"] == 0
    assert report["delivered"] + report["unwatched"] == 20


async def test_bench_refuses_a_load_that_is_not_positive(tmp_path: Path) -> None:
    for args in (["--duration", "0"], ["--rate", "-5"], ["--concurrency", "0"], ["--tickets", "3", "--duration", "2"]):
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "dispatch",
            "bench",
            *args,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 2, args
        assert "dispatch bench: error: argument --" in stderr.decode(), stderr


async def test_bench_times_fan_out_and_a_resume(
    scratch_databases: Callable[[], Awaitable[str]], redis_url: str, tmp_path: Path
) -> None:
    database, redis = await scratch_databases(), other_redis_db(redis_url)
    fan_out = await _bench(database, redis, tmp_path, "--clients", "20")
    assert fan_out["clients"] == 20
    assert 0 < fan_out["first_delivery_ms"] <= fan_out["all_delivered_ms"]
    resume = await _bench(database, redis, tmp_path, "--resume", "300")
    assert resume["events"] >= 297  # whole tickets of three events each
    assert resume["resume_from_redis_events_per_s"] > 0
    assert resume["resume_from_postgresql_events_per_s"] > 0


async def test_the_pgbench_peer_writes_tickets_as_the_service_does_and_removes_them(
    pool: asyncpg.Pool, database_url: str, make_user: UserFactory
) -> None:
    from dispatch_tools.bench.throughput import remove_ticket_writes, ticket_write_script

    if shutil.which("pgbench") is None:
        pytest.skip("pgbench is not installed")
    await make_user("call_taker")
    script, token = await ticket_write_script(database_url)
    async with pool.acquire() as conn:
        await conn.execute(script)  # one ticket, exactly as pgbench sends it
        ticket = await conn.fetchrow(
            "SELECT id, status, category, priority FROM tickets WHERE tracking_token = $1", token
        )
        assert ticket is not None and tuple(ticket)[1:] == ("dispatched", "police.violence", "P1")
        assignments = await conn.fetch(
            "SELECT agency, role, desk_id FROM assignments WHERE ticket_id = $1 ORDER BY id", ticket["id"]
        )
        assert [(a["agency"], a["role"]) for a in assignments] == [("police", "lead"), ("health", "assist")]
        assert all(a["desk_id"] for a in assignments)
        events = await conn.fetch("SELECT type FROM events WHERE ticket_id = $1 ORDER BY id", ticket["id"])
        assert [e["type"] for e in events] == ["ticket.created", "assignment.created", "assignment.created"]
        queued = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE event_id IN (SELECT id FROM events WHERE ticket_id = $1)", ticket["id"]
        )
        assert queued == 3

    from dispatch_tools.bench.throughput import pgbench_ticket_write_rate

    assert (await asyncio.to_thread(pgbench_ticket_write_rate, database_url, 2, 1) or 0) > 0
    # The rate's run removed its own tickets (another token); this one goes with its token.
    assert await remove_ticket_writes(database_url, token) == 1
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM tickets") == 0
        assert await conn.fetchval("SELECT count(*) FROM events") == 0
