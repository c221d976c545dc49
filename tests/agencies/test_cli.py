"""The operators' commands: register a webhook, see and replay dead letters."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from dispatch.delivery.streams import dead_stream
from dispatch.store.webhooks import SECRET_PREFIX
from tests.agencies.conftest import HarnessFactory, Receiver
from tests.agencies.test_delivery import MEDICAL
from tests.api_helpers import call
from tests.cli_helpers import clean_env, run_dispatch

Receivers = Callable[..., Awaitable[Receiver]]


async def test_webhook_add_prints_the_secret_alone_on_the_last_line(
    agency_dsn: str, agency_redis_url: str, harness: HarnessFactory
) -> None:
    env = clean_env(DISPATCH_DATABASE_URL=agency_dsn, DISPATCH_REDIS_URL=agency_redis_url)
    url = "https://120.example.org/dispatch"
    done = await asyncio.to_thread(run_dispatch, "webhook", "add", "--agency", "health", "--url", url, env=env)
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip().splitlines()[-1]
    assert secret.startswith(SECRET_PREFIX) and len(secret) >= 32 and " " not in secret
    listed = await asyncio.to_thread(run_dispatch, "webhook", "list", env=env)
    assert url in listed.stdout and secret not in listed.stdout
    refused = await asyncio.to_thread(run_dispatch, "webhook", "add", "--agency", "water", "--url", url, env=env)
    assert refused.returncode == 2 and "unknown agency" in refused.stderr


async def test_deliveries_list_and_replay_from_the_command_line(
    agency_dsn: str, agency_redis_url: str, harness: HarnessFactory, receivers: Receivers
) -> None:
    up = asyncio.Event()
    receiver = await receivers(lambda body, n: 200 if up.is_set() else 503)
    env = clean_env(DISPATCH_DATABASE_URL=agency_dsn, DISPATCH_REDIS_URL=agency_redis_url)
    async with harness(delivery_max_attempts=2) as h:
        _, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        await asyncio.sleep(0.3)
        await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        for _ in range(200):
            if await h.redis.xlen(dead_stream("health")) == 2:
                break
            await asyncio.sleep(0.05)
        listed = await asyncio.to_thread(run_dispatch, "deliveries", "list", "--agency", "health", env=env)
        assert listed.returncode == 0, listed.stderr
        rows = [line.split() for line in listed.stdout.splitlines()[1:]]
        assert [row[2] for row in rows] == ["ticket.created", "assignment.created"]
        first = rows[0][0]
        assert first.startswith("health:")

        failed = await asyncio.to_thread(run_dispatch, "deliveries", "replay", first, env=env)
        assert failed.returncode == 1 and "failed" in failed.stdout  # the receiver is still down
        up.set()
        one = await asyncio.to_thread(run_dispatch, "deliveries", "replay", first, env=env)
        assert one.returncode == 0, one.stdout + one.stderr
        assert receiver.accepted_types() == ["ticket.created"]
        rest = await asyncio.to_thread(run_dispatch, "deliveries", "replay", "--all", env=env)
        assert rest.returncode == 0 and "replayed 1 of 1" in rest.stdout
        assert receiver.accepted_types() == ["ticket.created", "assignment.created"]
        assert all(r["signature_ok"] for r in receiver.accepted)
        assert await h.redis.xlen(dead_stream("health")) == 0
