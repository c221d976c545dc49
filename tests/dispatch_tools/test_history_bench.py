"""``dispatch bench --history`` end to end on a small history: it loads with bulk SQL, reports
every read path, its counts agree with the database, and the service's reads stay right on the
loaded history. (The figures come from running it; tests never judge speed.)"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.settings import Settings
from dispatch.store import open_counts
from dispatch.store import tickets as ticket_store

TICKETS = 3000
PATHS = {
    "desk list", "desk detail", "desk map", "caller history", "duplicate check (classify)", "supervisor summary",
    "overdue list", "escalations open", "time series (24 h by hour)", "map (view, 200 items)", "citizen lookup",
    "Open311 requests list", "search by number", "search by text (common)", "search by address (rare)",
    "ticket creation",
}  # fmt: skip


async def _bench(database_url: str, redis_url: str, data_dir: Path, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "DISPATCH_DATABASE_URL": database_url,
        "DISPATCH_REDIS_URL": redis_url,
        "DISPATCH_DATA_DIR": str(data_dir),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "dispatch", "bench", "--json", "--server-workers", "1", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(process.communicate(), 600)
    assert process.returncode is not None
    return process.returncode, stdout.decode(), stderr.decode(errors="replace")


@pytest.fixture(scope="module")
async def history(
    scratch_databases: Callable[[], Awaitable[str]], redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, dict[str, Any]]:
    """A scratch database with a small history loaded by the bench, and the bench's summary."""
    database = await scratch_databases()
    data_dir = tmp_path_factory.mktemp("history")
    code, stdout, stderr = await _bench(
        database, redis_url, data_dir,
        "--history", str(TICKETS), "--history-requests", "12", "--history-rate", "0", "--history-clients", "2",
    )  # fmt: skip
    assert code in (0, 1), stderr[-3000:]  # 1: a target was missed, which is a figure, not a failure here
    assert stdout.strip(), stderr[-3000:]
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return database, summary


@pytest.fixture(scope="module")
async def loaded(history: tuple[str, dict[str, Any]]) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(history[0])
    yield conn
    await conn.close()


async def test_the_history_loads_with_its_assignments_events_and_feedback(
    history: tuple[str, dict[str, Any]], loaded: asyncpg.Connection
) -> None:
    counts = history[1]["counts"]
    assert counts["tickets"] == TICKETS
    assert counts["open_tickets"] == TICKETS // 200
    dispatched = await loaded.fetchval(
        "SELECT count(*) FROM tickets WHERE status NOT IN ('answered', 'cancelled') AND id <= $1", TICKETS
    )
    assert dispatched <= counts["assignments"] < 2 * dispatched
    assert counts["events"] > 4 * counts["tickets"]
    assert 0 < counts["feedback"] < counts["tickets"]
    # Every finished lead was resolved; every open ticket has a live lead.
    assert not await loaded.fetchval(
        "SELECT count(*) FROM tickets t WHERE t.id <= $1 AND t.status = 'closed' AND NOT EXISTS "
        "(SELECT 1 FROM assignments a WHERE a.ticket_id = t.id AND a.role = 'lead' AND a.state = 'resolved')",
        TICKETS,
    )
    assert (
        await loaded.fetchval(
            "SELECT count(DISTINCT ticket_id) FROM assignments WHERE role = 'lead' AND ticket_id <= $1 "
            "AND state IN ('dispatched', 'acknowledged', 'in_progress')",
            TICKETS,
        )
        == TICKETS // 200
    )
    assert history[1]["loaded"]["tickets_per_s"] > 0


async def test_the_history_is_skewed_as_a_city_calls(loaded: asyncpg.Connection) -> None:
    by_district = dict(await loaded.fetch("SELECT district, count(*) FROM tickets GROUP BY 1"))
    assert max(by_district, key=lambda d: by_district[d]) == "yicheng"
    hours = dict(
        await loaded.fetch(
            # Past days only: today's calls stop at the hour the test runs.
            "SELECT extract(hour FROM created_at AT TIME ZONE 'Asia/Shanghai')::int, count(*) FROM tickets"
            " WHERE created_at < now() - interval '1 day' GROUP BY 1"
        )
    )
    assert hours.get(10, 0) > 3 * hours.get(3, 0)
    span = await loaded.fetchval("SELECT max(created_at) - min(created_at) FROM tickets")
    assert 4.9 * 365 < span.days <= 5 * 365
    ordered = await loaded.fetchval(
        "SELECT bool_and(created_at >= prev) FROM (SELECT created_at, lag(created_at, 1, '-infinity') "
        "OVER (ORDER BY id) AS prev FROM tickets WHERE id <= $1) s",
        TICKETS,
    )
    assert ordered  # the history's ids grow with time, as the service's do


def test_every_read_path_is_reported_with_its_percentiles(history: tuple[str, dict[str, Any]]) -> None:
    summary = history[1]
    assert {p["path"] for p in summary["paths"]} == PATHS
    for path in summary["paths"]:
        assert path["errors"] == {} and path["ok"] == 12, path
        assert path["p50"] <= path["p95"] <= path["p99"] <= path["max"]
        assert path["met"] == (path["p99"] <= path["target_p99_ms"])
    creation = next(p for p in summary["paths"] if p["path"] == "ticket creation")
    assert creation["empty_database_p99"] is not None
    # Beside the history's open work alone, loaded into a database of its own and dropped after.
    assert creation["open_work_only_p99"] is not None and creation["ratio_p99_to_open_work_only"] > 0
    lists = {p["path"]: p["mean_items"] for p in summary["paths"]}
    assert lists["desk list"] > 0 and lists["map (view, 200 items)"] >= TICKETS // 200
    report = summary["report"]
    assert report["runs"] == 1 and report["bytes"] > 0 and report["met"] == (report["max_s"] <= 30)
    storage = summary["storage"]
    assert storage["tickets"] >= TICKETS  # and the few the bench created
    assert storage["bytes_per_ticket"] == round(storage["total_bytes"] / storage["tickets"])
    assert storage["tables"]["events"]["bytes"] > storage["tables"]["tickets"]["bytes"] / 2


async def test_the_loaded_history_s_open_work_is_counted_as_the_service_counts_it(
    history: tuple[str, dict[str, Any]], loaded: asyncpg.Connection
) -> None:
    # The load runs with triggers off and adds the kept counts itself (history.sql); the
    # bench's own creations afterwards went through the triggers.
    assert await loaded.fetchval("SELECT count(*) FROM open_assignment_counts") > 0
    assert await open_counts.differences(loaded) == []


async def test_the_loaded_history_s_addresses_are_the_distinct_addresses_search_matches(
    loaded: asyncpg.Connection,
) -> None:
    # Added by history.sql for the load, by the trigger for the bench's own creations.
    kept = await loaded.fetch("SELECT address FROM ticket_addresses ORDER BY address")
    distinct = await loaded.fetch("SELECT DISTINCT address FROM tickets WHERE address <> '' ORDER BY address")
    assert len(kept) > 100 and kept == distinct


async def test_a_database_holding_tickets_is_refused_and_left_alone(
    history: tuple[str, dict[str, Any]], loaded: asyncpg.Connection, redis_url: str, tmp_path: Path
) -> None:
    before = await loaded.fetchval("SELECT count(*) FROM tickets")
    code, _, stderr = await _bench(history[0], redis_url, tmp_path, "--history", "100")
    assert code == 2
    assert "already holds tickets" in stderr
    assert await loaded.fetchval("SELECT count(*) FROM tickets") == before
    assert await loaded.fetchval("SELECT count(*) FROM pg_indexes WHERE indexname = 'tickets_description_trgm'") == 1


async def test_more_open_tickets_than_tickets_is_refused(tmp_path: Path) -> None:
    code, _, stderr = await _bench(
        "postgresql://nobody@127.0.0.1:1/none", "redis://127.0.0.1:1/0", tmp_path, "--history=100", "--history-open=101"
    )
    assert code == 2 and "--history-open is more than --history" in stderr


@pytest.mark.parametrize("option", ["--history=0", "--history=x", "--history-years=0", "--history-rate=-1"])
async def test_numeric_options_are_checked_before_anything_starts(option: str, tmp_path: Path) -> None:
    code, _, stderr = await _bench("postgresql://nobody@127.0.0.1:1/none", "redis://127.0.0.1:1/0", tmp_path, option)
    assert code == 2 and "error: argument" in stderr


async def test_the_service_reads_the_loaded_history_right(
    history: tuple[str, dict[str, Any]],
    loaded: asyncpg.Connection,
    redis_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from dispatch.store.users import add_user

    settings = Settings(
        database_url=history[0], redis_url=redis_url, data_dir=tmp_path, port=0, sms=False,
        _env_file=None,  # type: ignore[call-arg]
    )  # fmt: skip
    _, token = await add_user(loaded, "history-reader", "supervisor")
    server = TestServer(create_app(settings), host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession(
            base_url=str(server.make_url("")), headers={"Authorization": f"Bearer {token}"}
        ) as http:
            phone, calls = await loaded.fetchrow(
                "SELECT caller_phone, count(*) FROM tickets WHERE caller_phone IS NOT NULL "
                "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 1"
            )
            async with http.get(f"/api/v1/tickets?phone={quote(phone)}&limit=200") as response:
                items = (await response.json())["items"]
            assert len(items) == min(calls, 200) and {i["caller"]["phone"] for i in items} == {phone}
            assert [i["id"] for i in items] == sorted((i["id"] for i in items), reverse=True)

            address = await loaded.fetchval("SELECT address FROM tickets WHERE id = 1234")
            expected = await loaded.fetchval("SELECT count(*) FROM tickets WHERE strpos(address, $1) > 0", address)
            async with http.get(f"/api/v1/tickets?q={quote(address)}&limit=200") as response:
                found = (await response.json())["items"]
            assert len(found) == min(expected, 200) and all(address in i["location"]["address"] for i in found)

            # A word too common for the index's matches is searched along the ids: same answer.
            phrase = quote(await loaded.fetchval("SELECT left(description, 5) FROM tickets WHERE id = 1234"))
            async with http.get(f"/api/v1/tickets?q={phrase}&limit=50") as response:
                by_index = [i["id"] for i in (await response.json())["items"]]
            monkeypatch.setattr(ticket_store, "TEXT_MATCHES_BY_INDEX", 3)
            async with http.get(f"/api/v1/tickets?q={phrase}&limit=50") as response:
                along_ids = [i["id"] for i in (await response.json())["items"]]
            assert len(by_index) > 3 and by_index == along_ids

            # Past the newest tickets a search goes on by the index's matches, or along the ids
            # when they are too many: the same pages either way, the cursor's too.
            monkeypatch.setattr(ticket_store, "TEXT_WALK_FIRST", 2)
            for bound in (3, 100_000):
                monkeypatch.setattr(ticket_store, "TEXT_MATCHES_BY_INDEX", bound)
                async with http.get(f"/api/v1/tickets?q={phrase}&limit=3") as response:
                    first = await response.json()
                assert [i["id"] for i in first["items"]] == by_index[:3]
                async with http.get(f"/api/v1/tickets?q={phrase}&limit=50&cursor={first['next_cursor']}") as response:
                    second = [i["id"] for i in (await response.json())["items"]]
                assert second[: len(by_index) - 3] == by_index[3:]
                async with http.get(f"/api/v1/tickets?q={quote(address)}&limit=200") as response:
                    assert len((await response.json())["items"]) == min(expected, 200)

            # A search alone looks for its matches in growing ranges of the newest ids: the
            # newest matches all the same, and the same pages, the cursor's too.
            newest = [
                r["id"]
                for r in await loaded.fetch(
                    "SELECT id FROM tickets WHERE strpos(address, $1) > 0 OR strpos(description, $1) > 0 "
                    "ORDER BY id DESC LIMIT 200",
                    address,
                )
            ]
            monkeypatch.setattr(ticket_store, "TEXT_SPANS", (5, 50, None))
            monkeypatch.setattr(ticket_store, "TEXT_MATCHES_BY_INDEX", 100_000)
            async with http.get(f"/api/v1/tickets?q={quote(address)}&limit=200") as response:
                assert [i["id"] for i in (await response.json())["items"]] == newest
            async with http.get(f"/api/v1/tickets?q={phrase}&limit=3") as response:
                first = await response.json()
            assert [i["id"] for i in first["items"]] == by_index[:3]
            async with http.get(f"/api/v1/tickets?q={phrase}&limit=50&cursor={first['next_cursor']}") as response:
                assert [i["id"] for i in (await response.json())["items"]][: len(by_index) - 3] == by_index[3:]

            number = await loaded.fetchval("SELECT number FROM tickets WHERE id = 77")
            async with http.get(f"/api/v1/tickets?q={number.lower()}&limit=5") as response:
                assert [i["id"] for i in (await response.json())["items"]] == [77]
            async with http.get("/api/v1/tickets?q=100%25&limit=5") as response:
                assert response.status == 200 and (await response.json())["items"] == []

            async with http.get("/api/v1/tickets/77") as response:
                timeline = (await response.json())["timeline"]
            assert timeline[0]["type"] == "ticket.created"

            open_now = await loaded.fetchval(
                "SELECT count(*) FROM assignments WHERE state IN ('dispatched', 'acknowledged', 'in_progress')"
            )
            async with http.get("/api/v1/stats/summary") as response:
                assert (await response.json())["open"]["total"] == open_now
            async with http.get("/open311/v2/requests.json") as response:
                listed = await response.json()
            recent = await loaded.fetchval(
                "SELECT count(*) FROM tickets WHERE channel = 'open311' AND created_at >= now() - interval '90 days'"
            )
            assert len(listed) == min(recent, 1000)
    finally:
        await server.close()
