"""Several real server processes on one PostgreSQL and one Redis."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from dispatch.runtime import redis_client
from dispatch.runtime.db import connect as db_connect
from dispatch.runtime.server import prepare_database
from tests.api_helpers import call, new_user_token, ticket_body
from tests.cli_helpers import DISPATCH, clean_env
from tests.conftest import free_port, other_redis_db
from tests.ws_helpers import collect_events, connect

pytestmark = pytest.mark.slow


class Cluster:
    """Server processes sharing a fresh database and a Redis database of their own."""

    def __init__(self, dsn: str, redis_url: str, workdir: Path) -> None:
        self.dsn = dsn
        self.redis_url = redis_url
        self.workdir = workdir
        self.processes: list[tuple[subprocess.Popen[bytes], str]] = []

    def start(self) -> str:
        port = free_port()
        env = clean_env(DISPATCH_DATABASE_URL=self.dsn, DISPATCH_REDIS_URL=self.redis_url, DISPATCH_PORT=str(port))
        log = (self.workdir / f"serve-{port}.log").open("wb")
        process = subprocess.Popen(
            [*DISPATCH, "serve", "--workers", "1"], env=env, cwd=self.workdir, stdout=log, stderr=log
        )
        log.close()
        base = f"http://127.0.0.1:{port}"
        self.processes.append((process, base))
        return base

    async def wait_ready(self, base: str) -> None:
        async with aiohttp.ClientSession() as http:
            for _ in range(300):
                try:
                    async with http.get(base + "/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
        raise AssertionError(f"{base} did not become ready")

    def stop_all(self) -> None:
        for process, _ in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.terminate()
        for process, _ in self.processes:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
async def cluster(
    scratch_databases: Callable[[], Awaitable[str]], redis_url: str, tmp_path: Path
) -> AsyncIterator[Cluster]:
    dsn = await scratch_databases()
    await prepare_database(dsn)
    group = Cluster(dsn, other_redis_db(redis_url), tmp_path)
    client = redis_client.connect(group.redis_url)
    await redis_client.flush(client)
    await redis_client.close(client)
    yield group
    group.stop_all()


async def _relay_leader_pid(dsn: str) -> int | None:
    conn: asyncpg.Connection = await db_connect(dsn)
    try:
        name = await conn.fetchval(
            """SELECT a.application_name FROM pg_stat_activity a
               JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' AND l.granted
               WHERE a.application_name LIKE 'dispatch-leader-relay-%' AND a.datname = current_database()"""
        )
    finally:
        await conn.close()
    return int(name.rsplit("-", 1)[1]) if name else None


async def test_ticket_created_on_one_process_reaches_a_desk_on_another(cluster: Cluster) -> None:
    a, b = cluster.start(), cluster.start()
    await asyncio.gather(cluster.wait_ready(a), cluster.wait_ready(b))
    taker = await new_user_token(cluster.dsn, "taker", "call_taker")
    desk = await new_user_token(cluster.dsn, "desk", "desk", "police")
    async with await connect(b, desk) as ws, aiohttp.ClientSession(base_url=a) as http:
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        assert status == 201
        events = await collect_events(ws, 3)
    assert {e["ticket"]["id"] for e in events} == {ticket["id"]}


async def test_event_committed_before_the_publisher_is_killed_still_reaches_the_desk(cluster: Cluster) -> None:
    a, b = cluster.start(), cluster.start()
    await asyncio.gather(cluster.wait_ready(a), cluster.wait_ready(b))
    taker = await new_user_token(cluster.dsn, "taker", "call_taker")
    desk = await new_user_token(cluster.dsn, "desk", "desk", "police")
    leader_pid = None
    for _ in range(100):
        leader_pid = await _relay_leader_pid(cluster.dsn)
        if leader_pid:
            break
        await asyncio.sleep(0.1)
    assert leader_pid is not None
    (leader,) = [p for p, _ in cluster.processes if p.pid == leader_pid]
    survivor = next(base for p, base in cluster.processes if p.pid != leader_pid)
    async with await connect(survivor, desk) as ws, aiohttp.ClientSession(base_url=survivor) as http:
        # The leader freezes holding the lock: events are committed but nobody publishes them.
        os.kill(leader.pid, signal.SIGSTOP)
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        assert status == 201
        os.kill(leader.pid, signal.SIGKILL)
        leader.wait(timeout=10)
        events = await collect_events(ws, 3, timeout=20)  # the survivor takes over and publishes
    assert [e["type"] for e in events] == ["ticket.created", "assignment.created", "assignment.created"]
    assert {e["ticket"]["id"] for e in events} == {ticket["id"]}
    assert await _relay_leader_pid(cluster.dsn) == next(p.pid for p, base in cluster.processes if base == survivor)
