"""``dispatch bench`` end to end, small: it starts a server, creates tickets over HTTP, sees them
reach the desks, and reports. (The figures come from running it; tests never judge speed.)"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

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
