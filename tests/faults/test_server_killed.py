"""SIGKILL a server in the middle of a steady load: nothing it accepted is lost."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.api_helpers import new_user_token
from tests.faults.harness import Observer, ServerProcess, report, settle_and_check, steady_load


async def test_sigkill_mid_load_loses_no_ticket_and_no_event(
    fault_dsn: str, fault_redis_url: str, tmp_path: Path
) -> None:
    a, b = ServerProcess(fault_dsn, fault_redis_url, tmp_path), ServerProcess(fault_dsn, fault_redis_url, tmp_path)
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
        a.kill()  # mid-request for some of the load
        await asyncio.sleep(1.5)
        a.start()
        await a.ready()
        await asyncio.sleep(1.5)
        stop.set()
        result = await load
        figures = await settle_and_check(fault_dsn, result, observer, rounds=100)
        report("sigkill", figures)
        assert figures["tickets_accepted"] > 20
        assert not [k for k in result.refused if k.startswith("5") and not k.startswith("503")]
    finally:
        a.stop()
        b.stop()
