"""The kept counts of open work (migration 0012, dispatch.store.open_counts) are what a fresh
count of the assignments says, after every kind of change the service makes (creation,
acknowledgement, start, pause, transfer, return and re-routing, release, merge, resolution and
reopening, escalation, cancellation, a hand-written UPDATE) and after concurrent changes; and
the supervisor summary reports them as it reported its own counts."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import asyncpg

from dispatch.store import open_counts
from dispatch.store.open_counts_compactor import compact_for_ever
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory

# The summary's open-work figures as they were computed before the counts were kept.
FRESH_OPEN = """
    SELECT a.agency, a.state, count(*) AS n, count(*) FILTER (WHERE a.paused_at IS NOT NULL) AS paused
    FROM assignments a JOIN tickets t ON t.id = a.ticket_id
    WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress')
      AND ($1::text IS NULL OR a.agency = $1) AND ($2::text IS NULL OR t.district = $2)
      AND ($3::text IS NULL OR t.priority = $3)
    GROUP BY a.agency, a.state ORDER BY a.agency, a.state
"""
FRESH_TICKETS = """
    SELECT count(DISTINCT a.ticket_id) FROM assignments a JOIN tickets t ON t.id = a.ticket_id
    WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress')
      AND ($1::text IS NULL OR a.agency = $1) AND ($2::text IS NULL OR t.district = $2)
      AND ($3::text IS NULL OR t.priority = $3)
"""
FILTERS: list[dict[str, str]] = [
    {},
    {"agency": "police"},
    {"agency": "urban"},
    {"district": "yicheng"},
    {"priority": "P1"},
    {"agency": "police", "district": "xiping", "priority": "P2"},
]


async def _fresh_summary_open(pool: asyncpg.Pool, filters: dict[str, str]) -> dict[str, Any]:
    args = (filters.get("agency"), filters.get("district"), filters.get("priority"))
    by_agency: dict[str, dict[str, Any]] = {}
    for row in await pool.fetch(FRESH_OPEN, *args):
        entry = by_agency.setdefault(
            row["agency"],
            {"agency": row["agency"], "dispatched": 0, "acknowledged": 0, "in_progress": 0, "paused": 0, "total": 0},
        )
        entry[row["state"]] = row["n"]
        entry["paused"] += row["paused"]
        entry["total"] += row["n"]
    return {
        "total": sum(e["total"] for e in by_agency.values()),
        "tickets": await pool.fetchval(FRESH_TICKETS, *args),
        "by_agency": list(by_agency.values()),
    }


async def _assert_kept_right(http: aiohttp.ClientSession, pool: asyncpg.Pool, supervisor: str) -> None:
    async with pool.acquire() as conn:
        assert await open_counts.differences(conn) == []
    for filters in FILTERS:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        status, summary = await call(http, "GET", f"/api/v1/stats/summary?{query}", supervisor)
        assert status == 200, summary
        assert summary["open"] == await _fresh_summary_open(pool, filters), filters
    async with pool.acquire() as conn:  # the summary folded the deltas: the sums stand
        assert await open_counts.differences(conn) == []


async def _create(http: aiohttp.ClientSession, taker: str, **overrides: Any) -> dict[str, Any]:
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**overrides))
    assert status == 201, ticket
    return dict(ticket)


async def _move(http: aiohttp.ClientSession, token: str, assignment: int, action: str, body: Any = None) -> None:
    status, answer = await call(http, "POST", f"/api/v1/assignments/{assignment}/{action}", token, body or {})
    assert status in (200, 201), (action, answer)


async def test_kept_counts_match_a_fresh_count_through_a_day_of_work(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")
    _, urban = await make_user("desk", agency="urban")
    await _assert_kept_right(http, pool, supervisor)

    # Creations: police leading, health assisting; street lights for urban; in three districts.
    fights = [
        await _create(http, taker, description=f"第{i}起打架有人受伤", location={"address": f"路口{i}", "district": d})
        for i, d in enumerate(["驿城区", "西平县", "驿城区", "上蔡县"])
    ]
    lights = [
        await _create(
            http,
            taker,
            description=f"第{i}盏路灯不亮",
            category="urban.street_light",
            priority="P4",
            agencies=["urban"],
            location={"address": f"文化路{i}号", "district": "驿城区"},
        )
        for i in range(3)
    ]
    disputes = [
        await _create(
            http,
            taker,
            description=f"第{i}起邻里纠纷",
            category="police.dispute",
            priority="P2",
            agencies=["police"],
            location={"address": f"人民路{i}号", "district": "西平县"},
        )
        for i in range(3)
    ]
    await _assert_kept_right(http, pool, supervisor)

    def lead(ticket: dict[str, Any]) -> int:
        return int(next(a["id"] for a in ticket["assignments"] if a["role"] == "lead"))

    def assist(ticket: dict[str, Any]) -> int:
        return int(next(a["id"] for a in ticket["assignments"] if a["role"] == "assist"))

    # Acknowledgements, starts, a pause.
    await _move(http, police, lead(fights[0]), "acknowledge")
    await _move(http, police, lead(fights[0]), "start")
    await _move(http, health, assist(fights[0]), "acknowledge")
    await _move(http, urban, lead(lights[0]), "acknowledge")
    status, _ = await call(http, "POST", f"/api/v1/assignments/{lead(lights[0])}/pause", urban, {"reason": "等待配件"})
    assert status == 200
    await _assert_kept_right(http, pool, supervisor)

    # A transfer, a release of the assisting agency, a return to the queue and its re-routing
    # to another district and priority (the ticket moves the work it still has along).
    await _move(http, police, lead(disputes[0]), "transfer", {"agency": "urban", "reason": "应由城管处理"})
    await _move(http, supervisor, assist(fights[1]), "release", {"reason": "不需要急救"})
    await _move(http, health, assist(fights[2]), "acknowledge")
    await _move(http, police, lead(fights[2]), "return", {"reason": "不属于本单位"})
    await _assert_kept_right(http, pool, supervisor)
    status, routed = await call(
        http, "POST", f"/api/v1/tickets/{fights[2]['id']}/reroute", taker,
        {"category": "urban.street_light", "district": "西平县", "priority": "P3", "agencies": ["urban"]},
    )  # fmt: skip
    assert status == 200, routed
    await _assert_kept_right(http, pool, supervisor)

    # A merge folds a duplicate's open work away; resolutions; the lights' resume and resolve.
    status, _ = await call(http, "POST", f"/api/v1/tickets/{fights[3]['id']}/merge", taker, {"into": fights[0]["id"]})
    assert status == 200
    status, _ = await call(http, "POST", f"/api/v1/assignments/{lead(lights[0])}/resume", urban, {})
    assert status == 200
    await _move(http, urban, lead(lights[1]), "acknowledge")
    await _move(http, urban, lead(lights[1]), "resolve", {"resolution": "已更换灯泡"})
    await _assert_kept_right(http, pool, supervisor)

    # The citizen is not satisfied: the resolved lead opens again.
    status, answer = await call(
        http, "POST", f"/api/v1/public/tickets/{lights[1]['number']}/feedback?token={lights[1]['tracking_token']}",
        None, {"satisfied": False, "rating": 1, "comment": "还是不亮"},
    )  # fmt: skip
    assert status in (200, 201), answer
    assert await pool.fetchval("SELECT state FROM assignments WHERE id = $1", lead(lights[1])) == "dispatched"
    await _assert_kept_right(http, pool, supervisor)

    # Escalation stages as the deadline watcher writes them, and an urge: counts unchanged.
    await pool.execute("UPDATE assignments SET ack_stage = 2, ack_due = now() - interval '1 hour' WHERE id = $1",
                       lead(disputes[1]))  # fmt: skip
    status, _ = await call(http, "POST", f"/api/v1/assignments/{lead(disputes[2])}/urge", supervisor, {"text": "尽快"})
    assert status in (200, 201)
    # A cancellation, written as a hand-written statement would: the triggers keep the counts
    # whatever path changes an assignment.
    await pool.execute(
        """UPDATE assignments SET state = 'released', closed_at = now(), closed_reason = 'cancelled'
           WHERE ticket_id = $1 AND state IN ('dispatched', 'acknowledged', 'in_progress')""",
        disputes[1]["id"],
    )
    await pool.execute("UPDATE tickets SET status = 'cancelled' WHERE id = $1", disputes[1]["id"])
    await _assert_kept_right(http, pool, supervisor)


async def test_kept_counts_stay_right_under_concurrent_changes(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")
    tickets = await asyncio.gather(
        *(_create(http, taker, description=f"第{i}起斗殴", location={"address": f"街{i}", "district": "驿城区"})
          for i in range(12))
    )  # fmt: skip
    moves = []
    for i, ticket in enumerate(tickets):
        police_lead = next(a["id"] for a in ticket["assignments"] if a["agency"] == "police")
        health_assist = next(a["id"] for a in ticket["assignments"] if a["agency"] == "health")
        # Both assignments of one ticket change at once, in different ways.
        if i % 3 == 0:
            moves += [(police, police_lead, "return", {"reason": "退回"}), (health, health_assist, "acknowledge", {})]
        elif i % 3 == 1:
            moves += [
                (police, police_lead, "acknowledge", {}),
                (supervisor, health_assist, "release", {"reason": "无需"}),
            ]
        else:
            moves += [
                (police, police_lead, "transfer", {"agency": "urban", "reason": "转城管"}),
                (health, health_assist, "acknowledge", {}),
            ]
    answers = await asyncio.gather(
        *(call(http, "POST", f"/api/v1/assignments/{a}/{action}", token, body) for token, a, action, body in moves)
    )
    assert all(status == 200 for status, _ in answers), answers
    await _assert_kept_right(http, pool, supervisor)


async def test_two_sessions_closing_one_tickets_work_at_once_count_it_down_once(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    ticket = await _create(http, taker)
    a, b = (x["id"] for x in ticket["assignments"])
    first, second = await pool.acquire(), await pool.acquire()
    try:
        one, two = first.transaction(), second.transaction()
        await one.start()
        await two.start()
        closing = "UPDATE assignments SET state = 'released', closed_at = now(), closed_reason = 'x' WHERE id = $1"
        await first.execute(closing, a)  # its trigger locks the ticket
        waiting = asyncio.ensure_future(second.execute(closing, b))  # waits for that lock
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await one.commit()
        await waiting
        await two.commit()
    finally:
        await pool.release(first)
        await pool.release(second)
    async with pool.acquire() as conn:
        assert await open_counts.open_tickets(conn, agency=None, district=None, priority=None) == 0
    await _assert_kept_right(http, pool, supervisor)


async def test_compaction_folds_the_deltas_into_one_row_per_key_and_changes_no_sum(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    for i in range(4):
        ticket = await _create(http, taker, description=f"第{i}起斗殴")
        await _move(http, police, ticket["assignments"][0]["id"], "acknowledge")
    rows = await pool.fetchval("SELECT count(*) FROM open_assignment_counts")
    keys = await pool.fetchval(  # police's dispatched work came and went: its key sums to nothing
        """SELECT count(*) FROM (SELECT 1 FROM open_assignment_counts GROUP BY agency, district, priority, state
                                 HAVING sum(assignments) <> 0 OR sum(paused) <> 0) k"""
    )
    assert rows > keys
    async with pool.acquire() as conn:
        before = await open_counts.open_by_agency_and_state(conn, agency=None, district=None, priority=None)
        assert await open_counts.compact(conn) > 0
        assert await pool.fetchval("SELECT count(*) FROM open_assignment_counts") == keys  # one row per key
        assert await open_counts.compact(conn) == 0  # nothing left to fold: nothing written
        after = await open_counts.open_by_agency_and_state(conn, agency=None, district=None, priority=None)
        assert [dict(r) for r in before] == [dict(r) for r in after]
        # Another session folding at the same time: this one gives way and changes nothing.
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('dispatch.open_counts_compact'))")
            await _create(http, taker, description="又一起斗殴")
            assert await pool.fetchval("SELECT open_counts_compact()") == 0
        assert await open_counts.differences(conn) == []


async def test_emptying_the_assignments_empties_the_counts(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    await _create(http, taker)
    assert await pool.fetchval("SELECT count(*) FROM open_assignment_counts") > 0
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE events DISABLE TRIGGER events_no_truncate")
        await conn.execute("TRUNCATE events, outbox, escalations, assignments CASCADE")
        await conn.execute("ALTER TABLE events ENABLE TRIGGER events_no_truncate")
    assert await pool.fetchval("SELECT count(*) FROM open_assignment_counts") == 0
    assert await pool.fetchval("SELECT count(*) FROM open_ticket_counts") == 0


async def test_the_compactor_folds_the_counts_on_its_own_timer(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    for i in range(3):
        ticket = await _create(http, taker, description=f"第{i}起斗殴")
        await _move(http, police, ticket["assignments"][0]["id"], "acknowledge")
    keys = await pool.fetchval(
        """SELECT count(*) FROM (SELECT 1 FROM open_assignment_counts GROUP BY agency, district, priority, state
                                 HAVING sum(assignments) <> 0 OR sum(paused) <> 0) k"""
    )
    assert await pool.fetchval("SELECT count(*) FROM open_assignment_counts") > keys
    task = asyncio.create_task(compact_for_ever(pool, every=0.05))
    try:
        for _ in range(200):  # nobody reads the summary, and still the deltas are folded
            if await pool.fetchval("SELECT count(*) FROM open_assignment_counts") == keys:
                break
            await asyncio.sleep(0.05)
        assert await pool.fetchval("SELECT count(*) FROM open_assignment_counts") == keys
    finally:
        task.cancel()
    async with pool.acquire() as conn:
        assert await open_counts.differences(conn) == []
