"""Kill the deadline watcher's leader process: another process takes over, and no
escalation is lost or sent twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from dispatch.runtime.db import connect as db_connect
from tests.api_helpers import new_user_token, ticket_body
from tests.faults.harness import ServerProcess, report


async def _watcher_leader(dsn: str) -> int | None:
    conn = await db_connect(dsn)
    try:
        name = await conn.fetchval(
            """SELECT a.application_name FROM pg_stat_activity a
               JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
               WHERE a.application_name LIKE 'dispatch-leader-dispatch.deadline_watcher-%'
                 AND a.datname = current_database()"""
        )
    finally:
        await conn.close()
    return int(name.rsplit("-", 1)[1]) if name else None


async def test_watcher_leader_killed_mid_deadlines_neither_loses_nor_doubles(
    fault_dsn: str, fault_redis_url: str, tmp_path: Path
) -> None:
    servers = [ServerProcess(fault_dsn, fault_redis_url, tmp_path) for _ in range(2)]
    for server in servers:
        server.start()
    try:
        await asyncio.gather(*(s.ready() for s in servers))
        admin = await new_user_token(fault_dsn, "admin", "admin")
        headers = {"Authorization": f"Bearer {admin}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            async with http.put(
                servers[0].base + "/api/v1/service-levels",
                json={"priority": "P1", "ack_seconds": 2, "resolve_seconds": 3600},
            ) as response:
                assert response.status == 200, await response.text()
            ids = []
            for i in range(30):  # deadlines spread over about a second and a half
                async with http.post(
                    servers[i % 2].base + "/api/v1/tickets", json=ticket_body(description=f"第{i}起")
                ) as response:
                    assert response.status == 201
                    ids += [a["id"] for a in (await response.json())["assignments"]]
                await asyncio.sleep(0.05)
        leader_pid = None
        for _ in range(50):
            leader_pid = await _watcher_leader(fault_dsn)
            if leader_pid:
                break
            await asyncio.sleep(0.1)
        assert leader_pid
        await asyncio.sleep(1.2)  # some deadlines have passed, others not yet
        (leader,) = [s for s in servers if s.process and s.process.pid == leader_pid]
        leader.kill()
        await asyncio.sleep(6)  # the other process takes over and sends the rest
        conn = await db_connect(fault_dsn)
        try:
            rows = await conn.fetch(
                """SELECT assignment_id, (data->>'level')::int AS level, count(*) AS sent FROM events
                   WHERE type = 'ticket.escalated' AND data->>'kind' = 'ack'
                   GROUP BY assignment_id, (data->>'level')::int"""
            )
        finally:
            await conn.close()
        level_one = {r["assignment_id"]: r["sent"] for r in rows if r["level"] == 1}
        figures = {
            "assignments": len(ids),
            "escalated_at_level_1": len(level_one),
            "sent_twice": sum(1 for r in rows if r["sent"] > 1),
        }
        report("watcher-killed", figures)
        assert set(level_one) == set(ids), "an escalation was lost"
        assert figures["sent_twice"] == 0, "an escalation was sent twice"
    finally:
        for server in servers:
            server.stop()
