"""Fault-test harness: real servers in subprocesses, a steady load, a resuming observer,
and the checks that nothing accepted was lost."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import websockets

from dispatch.runtime.db import connect as db_connect
from tests.api_helpers import ticket_body
from tests.cli_helpers import DISPATCH, clean_env
from tests.conftest import free_port


class ServerProcess:
    """One ``dispatch serve`` on a port of its own; can be restarted on the same port."""

    def __init__(self, dsn: str, redis_url: str, workdir: Path, **env: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = clean_env(
            DISPATCH_DATABASE_URL=dsn, DISPATCH_REDIS_URL=redis_url, DISPATCH_PORT=str(self.port), **env
        )
        self.workdir = workdir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with (self.workdir / f"serve-{self.port}.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*DISPATCH, "serve", "--workers", "1"], env=self.env, cwd=self.workdir, stdout=log, stderr=log
            )

    async def ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(self.base + "/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.1)
        raise AssertionError(f"{self.base} not ready")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class LoadResult:
    accepted: dict[str, int] = field(default_factory=dict)  # idempotency key → ticket id
    refused: Counter[str] = field(default_factory=Counter)  # status/code → count
    unanswered: list[str] = field(default_factory=list)  # keys whose request got no answer
    latencies: list[float] = field(default_factory=list)
    retry_after: int = 0


async def steady_load(
    bases: list[str], token: str, stop: asyncio.Event, *, workers: int = 4, timeout: float = 5.0
) -> LoadResult:
    """Create tickets until ``stop``: each worker sends one at a time, spreading over servers."""
    result = LoadResult()
    counter = 0

    async def worker(n: int) -> None:
        nonlocal counter
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as http:
            while not stop.is_set():
                counter += 1
                key = f"load-{n}-{counter}"
                base = bases[counter % len(bases)]
                started = time.monotonic()
                try:
                    async with http.post(
                        base + "/api/v1/tickets",
                        json=ticket_body(description=f"负载测试第{counter}起"),
                        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
                    ) as response:
                        body = await response.json(content_type=None)
                        result.latencies.append(time.monotonic() - started)
                        if response.status == 201:
                            result.accepted[key] = body["id"]
                        else:
                            code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
                            result.refused[f"{response.status}:{code}"] += 1
                            if "Retry-After" in response.headers:
                                result.retry_after += 1
                            await asyncio.sleep(0.05)
                except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
                    result.unanswered.append(key)
                    await asyncio.sleep(0.05)

    await asyncio.gather(*(worker(n) for n in range(workers)))
    return result


class Observer:
    """A supervisor's websocket that resumes from its cursor after every drop."""

    def __init__(self, bases: list[str], token: str) -> None:
        self.bases = bases
        self.token = token
        self.cursor = "0"
        self.events: list[dict[str, Any]] = []
        self.reconnects = 0
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        attempt = 0
        while not self._stop.is_set():
            base = self.bases[attempt % len(self.bases)]
            attempt += 1
            url = base.replace("http://", "ws://") + f"/api/v1/stream?token={self.token}&cursor={self.cursor}"
            try:
                async with websockets.connect(url, max_size=2**26, open_timeout=5) as ws:
                    while not self._stop.is_set():
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.5)
                        except TimeoutError:
                            continue
                        message = json.loads(raw)
                        for event in message if isinstance(message, list) else [message]:
                            if event.get("type") == "hello" or "event_id" not in event:
                                continue
                            self.events.append(event)
                            self.cursor = event["cursor"]
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            if not self._stop.is_set():
                self.reconnects += 1
                await asyncio.sleep(0.2)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task


async def wait_drained(dsn: str, timeout: float = 30) -> None:
    """Until the outbox has nothing left to publish."""
    conn = await db_connect(dsn)
    try:
        deadline = time.monotonic() + timeout
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            assert time.monotonic() < deadline, "the outbox did not drain"
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


async def check_nothing_lost(dsn: str, load: LoadResult) -> dict[str, int]:
    """Every accepted ticket is whole; unanswered ones are whole or absent; no half-written
    ticket exists. Returns the figures checked."""
    conn: asyncpg.Connection = await db_connect(dsn)
    try:
        rows = await conn.fetch(
            """SELECT t.id, t.idempotency_key,
                      (SELECT count(*) FROM assignments a WHERE a.ticket_id = t.id) AS assignments,
                      (SELECT count(*) FROM events e WHERE e.ticket_id = t.id AND e.type = 'ticket.created') AS created,
                      (SELECT count(*) FROM events e WHERE e.ticket_id = t.id AND e.type = 'assignment.created') AS ac,
                      (SELECT count(*) FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.ticket_id = t.id)
                          AS queued
               FROM tickets t"""
        )
        events = await conn.fetchval("SELECT count(*) FROM events")
    finally:
        await conn.close()
    by_key = {r["idempotency_key"]: r for r in rows}
    for key, ticket_id in load.accepted.items():
        assert key in by_key, f"accepted ticket {ticket_id} ({key}) is missing"
        assert by_key[key]["id"] == ticket_id
    for row in rows:
        assert row["assignments"] >= 1 and row["created"] == 1, f"half-written ticket {row['id']}"
        assert row["ac"] == row["assignments"], f"ticket {row['id']} lacks assignment events"
        assert row["queued"] == row["created"] + row["ac"], f"ticket {row['id']} lacks outbox rows"
    found_unanswered = sum(1 for key in load.unanswered if key in by_key)
    return {
        "tickets_accepted": len(load.accepted),
        "tickets_in_database": len(rows),
        "unanswered_requests": len(load.unanswered),
        "unanswered_found_by_key": found_unanswered,
        "events_checked": int(events),
        "lost": 0,
    }


async def check_exactly_once(dsn: str, observer: Observer) -> int:
    """The observer received every event exactly once, in cursor order."""
    cursors = [int(e["cursor"]) for e in observer.events]
    assert len(cursors) == len(set(cursors)), "an event was delivered twice"
    assert cursors == sorted(cursors), "events arrived out of order"
    conn = await db_connect(dsn)
    try:
        expected = {r["id"] for r in await conn.fetch("SELECT id FROM events")}
    finally:
        await conn.close()
    received = {e["event_id"] for e in observer.events}
    missing = expected - received
    assert not missing, f"{len(missing)} events never reached the observer"
    return len(received)


async def settle_and_check(dsn: str, load: LoadResult, observer: Observer, *, rounds: int) -> dict[str, Any]:
    """After the load: wait for the outbox to drain and the observer to catch up (``rounds``
    of 0.2 s at most), then check nothing was lost and every event arrived exactly once."""
    await wait_drained(dsn)
    for _ in range(rounds):
        figures = await check_nothing_lost(dsn, load)
        if len(observer.events) >= figures["events_checked"]:
            break
        await asyncio.sleep(0.2)
    await observer.stop()
    figures["events_delivered_exactly_once"] = await check_exactly_once(dsn, observer)
    figures["observer_reconnects"] = observer.reconnects
    return figures


def report(name: str, figures: dict[str, Any]) -> None:
    """Print the weight of a fault test (shown with pytest -s, and kept in tests/artifacts)."""
    line = f"[fault] {name}: " + ", ".join(f"{k}={v}" for k, v in figures.items())
    print(line)
    artifacts = Path(__file__).resolve().parents[1] / "artifacts"
    artifacts.mkdir(exist_ok=True)
    with (artifacts / "faults.txt").open("a", encoding="utf-8") as out:
        out.write(line + "\n")
