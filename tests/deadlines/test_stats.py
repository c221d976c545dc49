"""The supervisors' numbers, on a history whose every time is known: percentiles from SQL,
on-time rates with the honest denominator, what is late now, satisfaction, time series."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import asyncpg

from dispatch.store.users import Principal
from tests.api_helpers import call
from tests.deadlines.conftest import AppFactory
from tests.deadlines.helpers import p1_body

UserMaker = Callable[..., Awaitable[tuple[Principal, str]]]

# Five police assignments, minutes relative to now: created, ack deadline, acknowledged,
# resolved, resolve deadline (None: not yet).
HISTORY: list[dict[str, Any]] = [
    # on time both ways: acknowledged in 30 s, resolved in 30 min
    {"created": 50, "ack_due": 49, "acked": 49.5, "resolved": 20, "resolve_due": 10, "state": "resolved"},
    # acknowledged late (300 s), resolve deadline passed while still open
    {"created": 40, "ack_due": 39, "acked": 35, "resolved": None, "resolve_due": 5, "state": "acknowledged"},
    # never acknowledged, acknowledge deadline passed: missed
    {"created": 30, "ack_due": 29, "acked": None, "resolved": None, "resolve_due": -30, "state": "dispatched"},
    # its deadlines still ahead: counts neither way
    {"created": 20, "ack_due": -10, "acked": None, "resolved": None, "resolve_due": -60, "state": "dispatched"},
    # acknowledged on time (30 s)
    {"created": 10, "ack_due": 9, "acked": 9.5, "resolved": None, "resolve_due": -50, "state": "acknowledged"},
]


async def _history(http: aiohttp.ClientSession, pool: asyncpg.Pool, taker: str) -> list[int]:
    ids = []
    for i, item in enumerate(HISTORY):
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body(description=f"第{i}起纠纷打架"))
        assignment_id = ticket["assignments"][0]["id"]
        ids.append(assignment_id)

        def ago(minutes: float | None) -> str:
            return "NULL" if minutes is None else f"now() - interval '{minutes} minutes'"

        await pool.execute(
            f"""UPDATE assignments SET state = $2, created_at = {ago(item["created"])},
                   ack_due = {ago(item["ack_due"])}, resolve_due = {ago(item["resolve_due"])},
                   acknowledged_at = {ago(item["acked"])}, resolved_at = {ago(item["resolved"])},
                   resolution = CASE WHEN $2 = 'resolved' THEN '已处理' END
                WHERE id = $1""",
            assignment_id,
            item["state"],
        )
    first, second = [await pool.fetchval("SELECT ticket_id FROM assignments WHERE id = $1", i) for i in ids[:2]]
    await pool.execute(
        "INSERT INTO feedback (ticket_id, satisfied, rating) VALUES ($1, true, 5), ($2, false, 1), ($2, false, 2)",
        first,
        second,
    )
    await pool.execute(
        """INSERT INTO escalations (assignment_id, kind, level, due_at, escalated_at)
           VALUES ($1, 'ack', 1, now() - interval '29 minutes', now() - interval '29 minutes'),
                  ($1, 'reminder_ack', 0, now() - interval '29 minutes', now() - interval '30 minutes')""",
        ids[2],
    )
    await pool.execute("UPDATE assignments SET ack_stage = 2 WHERE id = $1", ids[2])  # as the watcher leaves it
    return ids


async def test_summary_computes_percentiles_and_honest_on_time_rates(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    _, supervisor = await dl_user("supervisor")
    async with app_client(deadline_watcher=False) as http:
        await _history(http, dl_pool, taker)
        light = p1_body(description="路灯不亮", category="urban.street_light", priority="P4", agencies=["urban"])
        await call(http, "POST", "/api/v1/tickets", taker, light)
        status, summary = await call(http, "GET", "/api/v1/stats/summary?agency=police", supervisor)
        assert status == 200, summary
        status, everything = await call(http, "GET", "/api/v1/stats/summary", supervisor)
        assert status == 200

    ack, resolve = summary["acknowledge"], summary["resolve"]
    assert (ack["acknowledged"], ack["on_time"], ack["late"], ack["missed"]) == (3, 2, 1, 1)
    assert ack["on_time_rate"] == 0.5  # 2 on time ÷ (3 acknowledged + 1 never acknowledged)
    assert ack["p50_seconds"] == 30.0 and ack["p90_seconds"] == 246.0  # percentile_cont over 30, 30, 300
    assert (resolve["resolved"], resolve["on_time"], resolve["missed"]) == (1, 1, 1)
    assert resolve["on_time_rate"] == 0.5  # not 1.0: the open, overdue one counts against it
    assert resolve["p50_seconds"] == 1800.0
    assert summary["overdue_now"]["ack"] == 1 and summary["overdue_now"]["resolve"] == 1
    assert summary["open"]["by_agency"] == [
        {"agency": "police", "dispatched": 2, "acknowledged": 2, "in_progress": 0, "paused": 0, "total": 4}
    ]
    assert summary["escalations"]["total"] == 1 and summary["escalations"]["reminders"] == 1
    # the latest feedback of each ticket: one satisfied (5), one not (2)
    assert summary["satisfaction"] == {"responses": 2, "satisfied": 1, "rate": 0.5, "mean_rating": 3.5}
    assert everything["open"]["total"] == 5 and [a["agency"] for a in everything["by_agency"]] == ["police", "urban"]


async def test_overdue_lists_the_longest_overdue_first_page_by_page(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    _, supervisor = await dl_user("supervisor")
    async with app_client(deadline_watcher=False) as http:
        ids = await _history(http, dl_pool, taker)
        status, first = await call(http, "GET", "/api/v1/stats/overdue?limit=1", supervisor)
        assert status == 200, first
        _, second = await call(http, "GET", f"/api/v1/stats/overdue?limit=1&cursor={first['next_cursor']}", supervisor)
        status, bad = await call(http, "GET", "/api/v1/stats/overdue?cursor=bm9wZQ", supervisor)

    [worst], [next_worst] = first["items"], second["items"]
    assert (worst["assignment_id"], worst["kind"], worst["escalation_level"]) == (ids[2], "ack", 1)
    assert 29 * 60 - 5 < worst["overdue_seconds"] < 29 * 60 + 5
    assert (next_worst["assignment_id"], next_worst["kind"]) == (ids[1], "resolve")
    assert second["next_cursor"] is None
    assert (status, bad["error"]["code"]) == (400, "bad_cursor")


async def test_a_desk_sees_its_own_agencys_numbers_only(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    _, urban = await dl_user("desk", agency="urban")
    async with app_client(deadline_watcher=False) as http:
        await _history(http, dl_pool, taker)
        status, own = await call(http, "GET", "/api/v1/stats/summary", urban)
        forbidden, _ = await call(http, "GET", "/api/v1/stats/summary?agency=police", urban)
        late_status, late = await call(http, "GET", "/api/v1/stats/overdue", urban)
        taker_status, _ = await call(http, "GET", "/api/v1/stats/summary", taker)

    assert status == 200 and own["filters"]["agency"] == "urban" and own["open"]["total"] == 0
    assert forbidden == 403 and taker_status == 403
    assert late_status == 200 and late["items"] == []


async def test_timeseries_counts_per_minute_and_refuses_bad_periods(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    _, admin = await dl_user("admin")
    async with app_client(deadline_watcher=False) as http:
        await _history(http, dl_pool, taker)
        status, series = await call(http, "GET", "/api/v1/stats/timeseries?bucket=minute", admin)
        assert status == 200, series
        _, one = await call(http, "GET", "/api/v1/stats/timeseries?bucket=hour&metric=median_ack_seconds", admin)
        reversed_status, _ = await call(
            http, "GET", "/api/v1/stats/timeseries?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", admin
        )
        too_many, _ = await call(
            http,
            "GET",
            "/api/v1/stats/timeseries?bucket=minute&from=2026-01-01T00:00:00Z&to=2026-01-05T00:00:00Z",
            admin,
        )
        naive, _ = await call(http, "GET", "/api/v1/stats/timeseries?from=2026-01-01T00:00:00", admin)

    points = series["points"]
    assert 60 <= len(points) <= 61 and points[0]["at"] < points[-1]["at"]
    total = {
        metric: sum(p["values"][metric] for p in points)
        for metric in ("created", "acknowledged", "resolved", "escalations")
    }
    assert total == {"created": 5, "acknowledged": 3, "resolved": 1, "escalations": 1}
    medians = [p["values"]["median_ack_seconds"] for p in points if p["values"]["median_ack_seconds"] is not None]
    assert sorted(medians) == [30.0, 30.0, 300.0]
    assert one["metrics"] == ["median_ack_seconds"] and all(
        set(p["values"]) == {"median_ack_seconds"} for p in one["points"]
    )
    assert (reversed_status, too_many, naive) == (422, 422, 422)


async def test_overdue_now_counts_each_late_assignment_once_and_each_ticket_once(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    # Late on its acknowledgement only, on both deadlines, on its resolution only (acknowledged),
    # and not late: the summary counts them from the two deadline indexes' branches.
    _, taker = await dl_user("call_taker")
    _, supervisor = await dl_user("supervisor")
    async with app_client(deadline_watcher=False) as http:
        ids: list[int] = []
        for _ in range(3):
            status, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body(agencies=["police", "health"]))
            assert status == 201, ticket
            ids.append(int(ticket["id"]))
        cases = [  # (ticket, agency, state, minutes past the ack deadline, minutes past the resolve deadline)
            (ids[0], "police", "dispatched", 5, -30),
            (ids[0], "health", "dispatched", 50, 10),
            (ids[1], "police", "acknowledged", 50, 10),
            (ids[1], "health", "in_progress", 50, -10),
            (ids[2], "police", "dispatched", -1, -60),
            (ids[2], "health", "acknowledged", 60, -5),
        ]
        for ticket_id, agency, state, ack_late, resolve_late in cases:
            await dl_pool.execute(
                """UPDATE assignments SET state = $3,
                          acknowledged_at = CASE WHEN $3 <> 'dispatched' THEN now() END,
                          started_at = CASE WHEN $3 = 'in_progress' THEN now() END,
                          ack_due = now() - make_interval(mins => $4), resolve_due = now() - make_interval(mins => $5)
                   WHERE ticket_id = $1 AND agency = $2""",
                ticket_id,
                agency,
                state,
                ack_late,
                resolve_late,
            )
        status, summary = await call(http, "GET", "/api/v1/stats/summary", supervisor)
        assert status == 200, summary
        status, police = await call(http, "GET", "/api/v1/stats/summary?agency=police", supervisor)
        assert status == 200, police

    late = summary["overdue_now"]
    # ack: the two dispatched ones past it; resolve: the three past it, whatever their state
    assert (late["ack"], late["resolve"], late["total"], late["tickets"]) == (2, 2, 3, 2)
    by_agency = {entry["agency"]: entry for entry in late["by_agency"]}
    assert (by_agency["police"]["ack"], by_agency["police"]["resolve"], by_agency["police"]["total"]) == (1, 1, 2)
    assert (by_agency["health"]["ack"], by_agency["health"]["resolve"], by_agency["health"]["total"]) == (1, 1, 1)
    assert (police["overdue_now"]["total"], police["overdue_now"]["tickets"]) == (2, 2)
