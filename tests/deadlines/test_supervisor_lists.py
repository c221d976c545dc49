"""The overdue list and the open escalations list, read page by page through the API, are the
lists their plain definitions give (each as one sorted query over all open work, as they were
read before migration 0012), whatever the filters and page sizes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
import asyncpg

from dispatch.store.users import Principal
from tests.api_helpers import call, ticket_body
from tests.deadlines.conftest import AppFactory

UserMaker = Callable[..., Awaitable[tuple[Principal, str]]]

OVERDUE = """
    SELECT a.id, CASE WHEN a.state = 'dispatched' AND a.ack_due < now() THEN 'ack' ELSE 'resolve' END AS kind,
           CASE WHEN a.state = 'dispatched' AND a.ack_due < now() THEN a.ack_due ELSE a.resolve_due END AS due_at,
           CASE WHEN a.state = 'dispatched' AND a.ack_due < now() THEN greatest(a.ack_stage - 1, 0)
                ELSE greatest(a.resolve_stage - 1, 0) END AS level
    FROM assignments a JOIN tickets t ON t.id = a.ticket_id
    WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress')
      AND ((a.state = 'dispatched' AND a.ack_due < now()) OR a.resolve_due < now())
      AND ($1::text IS NULL OR a.agency = $1) AND ($2::text IS NULL OR t.district = $2)
      AND ($3::text IS NULL OR t.priority = $3)
    ORDER BY due_at, a.id
"""
ESCALATIONS = """
    SELECT a.id, a.escalation_level AS level,
           CASE WHEN (CASE WHEN a.state = 'dispatched' THEN greatest(a.ack_stage - 1, 0) ELSE 0 END)
                     >= greatest(a.resolve_stage - 1, 0) THEN 'ack' ELSE 'resolve' END AS kind,
           array_position(ARRAY['P1', 'P2', 'P3', 'P4'], t.priority) AS rank, a.ack_due, a.resolve_due
    FROM assignments a JOIN tickets t ON t.id = a.ticket_id
    WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress') AND a.escalation_level >= 1
      AND ($1::text IS NULL OR a.agency = $1) AND ($2::text IS NULL OR t.district = $2)
      AND ($3::text IS NULL OR t.priority = $3)
"""
FILTERS = [{}, {"agency": "police"}, {"district": "xiping"}, {"priority": "P2"}, {"agency": "health", "priority": "P1"}]


async def _history(http: aiohttp.ClientSession, pool: asyncpg.Pool, taker: str) -> None:
    """Open work late in every way: on acknowledgement, on resolution only, paused, escalated."""
    for i in range(14):
        body = ticket_body(
            description=f"第{i}起打架",
            priority=["P1", "P2", "P3"][i % 3],
            location={"address": f"路{i}号", "district": ["驿城区", "西平县"][i % 2]},
        )
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
        assert status == 201, ticket
        for j, assignment in enumerate(ticket["assignments"]):
            state = ["dispatched", "acknowledged", "in_progress", "dispatched"][(i + j) % 4]
            ack = f"now() - interval '{(i * 7 + j * 3) % 40} minutes'"
            await pool.execute(
                f"""UPDATE assignments SET state = $2,
                       acknowledged_at = CASE WHEN $2 <> 'dispatched' THEN now() END,
                       started_at = CASE WHEN $2 = 'in_progress' THEN now() END,
                       ack_due = {ack},
                       resolve_due = greatest({ack}, now() + interval '{(i * 11 + j * 5) % 50 - 30} minutes'),
                       ack_stage = {(i + j) % 4}, resolve_stage = {(i * j) % 3},
                       paused_at = CASE WHEN $3 THEN now() END, pause_reason = CASE WHEN $3 THEN '等待' END
                   WHERE id = $1""",
                assignment["id"],
                state,
                i % 5 == 0,
            )
    # Two deadlines at the same moment: the id decides.
    await pool.execute(
        "UPDATE assignments SET state = 'dispatched', ack_due = now() - interval '90 minutes',"
        " resolve_due = now() + interval '1 day' WHERE id IN (1, 2)"
    )


async def _pages(http: aiohttp.ClientSession, token: str, path: str, limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        sep = "&" if "?" in path else "?"
        status, page = await call(
            http, "GET", f"{path}{sep}limit={limit}" + (f"&cursor={cursor}" if cursor else ""), token
        )
        assert status == 200, page
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def test_overdue_and_escalation_pages_are_the_lists_their_definitions_give(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    _, supervisor = await dl_user("supervisor")
    async with app_client(deadline_watcher=False) as http:  # no stage moves under the comparison
        await _history(http, dl_pool, taker)
        await _compare(http, dl_pool, supervisor)


async def _compare(http: aiohttp.ClientSession, pool: asyncpg.Pool, supervisor: str) -> None:
    for filters in FILTERS:
        query = "&".join(f"{k}={v}" for k, v in filters.items())
        args = (filters.get("agency"), filters.get("district"), filters.get("priority"))
        expected = [(r["id"], r["kind"], r["due_at"], r["level"]) for r in await pool.fetch(OVERDUE, *args)]
        rows = [dict(r) for r in await pool.fetch(ESCALATIONS, *args)]
        for row in rows:
            row["due_at"] = row["ack_due"] if row["kind"] == "ack" else row["resolve_due"]
        rows.sort(key=lambda r: (-r["level"], r["rank"], r["due_at"], r["id"]))
        escalated = [(r["id"], r["level"], r["kind"]) for r in rows]
        assert expected and (escalated or filters)
        for limit in (1, 3, 200):
            listed = await _pages(http, supervisor, f"/api/v1/stats/overdue?{query}", limit)
            got = [(i["assignment_id"], i["kind"], i["due_at"], i["escalation_level"]) for i in listed]
            assert [g[:2] + g[3:] for g in got] == [e[:2] + e[3:] for e in expected], (filters, limit)
            assert [datetime.fromisoformat(g[2]) for g in got] == [e[2] for e in expected]
            listed = await _pages(http, supervisor, f"/api/v1/stats/escalations?{query}", limit)
            assert [(i["assignment_id"], i["level"], i["kind"]) for i in listed] == escalated, (filters, limit)
