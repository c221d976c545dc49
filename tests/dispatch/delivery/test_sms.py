"""Text messages to callers, with a real HTTP receiver standing in for the SMS gateway: sent
after commit to mobile numbers only, retried with back-off, logged and listed without a gateway,
and never holding a create up or failing it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.settings import Settings
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


class Gateway:
    """An SMS gateway on a loopback port: records every POST, answers the next queued statuses."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self.arrived = asyncio.Event()

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        self.arrived.set()
        return web.json_response({"ok": True}, status=self.statuses.pop(0) if self.statuses else 200)


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[Gateway, str]]:
    receiver = Gateway()
    app = web.Application()
    app.router.add_post("/send", receiver.handle)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    yield receiver, str(server.make_url("/send"))
    await server.close()


async def _service(settings: Settings, **changes: Any) -> AsyncIterator[aiohttp.ClientSession]:
    app = create_app(settings.model_copy(update={"sms": True, "sms_retry_initial_s": 0.05, **changes}))
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
            yield session
    finally:
        await server.close()


async def _wait_for(pool: asyncpg.Pool, sql: str, *args: Any, timeout: float = 15) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            value = await pool.fetchval(sql, *args)
            if value:
                return value
            await asyncio.sleep(0.05)


async def test_a_mobile_caller_gets_number_code_and_link_from_the_gateway(
    settings: Settings, clean: None, make_user: UserFactory, pool: asyncpg.Pool, gateway: tuple[Gateway, str]
) -> None:
    receiver, url = gateway
    _, taker = await make_user("call_taker")
    async for http in _service(settings, sms_url=url, public_url="https://12345.example.cn"):
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        assert status == 201
        await asyncio.wait_for(receiver.arrived.wait(), 15)
        state = await _wait_for(
            pool, "SELECT state FROM sms_messages WHERE ticket_id = $1 AND state <> 'pending'", ticket["id"]
        )
    assert state == "sent"
    [message] = receiver.received
    assert message["to"] == "+8613800000000" and message["ticket"] == ticket["number"]
    assert ticket["number"] in message["text"] and ticket["short_code"] in message["text"]
    assert f"https://12345.example.cn/status?number={ticket['number']}" in message["text"]
    assert ticket["tracking_token"] not in message["text"]


async def test_a_failing_gateway_is_retried_and_the_create_never_waits(
    settings: Settings, clean: None, make_user: UserFactory, pool: asyncpg.Pool, gateway: tuple[Gateway, str]
) -> None:
    receiver, url = gateway
    receiver.statuses = [503, 500]
    _, taker = await make_user("call_taker")
    async for http in _service(settings, sms_url=url):
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        assert status == 201  # answered before any attempt succeeded
        await _wait_for(pool, "SELECT state = 'sent' FROM sms_messages WHERE ticket_id = $1", ticket["id"])
    row = await pool.fetchrow("SELECT attempts, last_error FROM sms_messages WHERE ticket_id = $1", ticket["id"])
    assert row["attempts"] == 3 and row["last_error"] is None
    assert len(receiver.received) == 3 and len({m["id"] for m in receiver.received}) == 1


async def test_a_gateway_that_never_answers_well_ends_failed_after_the_bound(
    settings: Settings, clean: None, make_user: UserFactory, pool: asyncpg.Pool, gateway: tuple[Gateway, str]
) -> None:
    receiver, url = gateway
    receiver.statuses = [500] * 10
    _, taker = await make_user("call_taker")
    async for http in _service(settings, sms_url=url, sms_max_attempts=2):
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        await _wait_for(pool, "SELECT state = 'failed' FROM sms_messages WHERE ticket_id = $1", ticket["id"])
    row = await pool.fetchrow("SELECT attempts, last_error FROM sms_messages WHERE ticket_id = $1", ticket["id"])
    assert row["attempts"] == 2 and row["last_error"] == "HTTP 500"


async def test_without_a_gateway_messages_are_logged_and_listed_for_admins(
    settings: Settings, clean: None, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, admin = await make_user("admin")
    _, supervisor = await make_user("supervisor")
    async for http in _service(settings):
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
        await _wait_for(pool, "SELECT state = 'logged' FROM sms_messages WHERE ticket_id = $1", ticket["id"])
        status, page = await call(http, "GET", f"/api/v1/sms?ticket={ticket['id']}", admin)
        assert status == 200
        [message] = page["items"]
        assert message["state"] == "logged" and ticket["short_code"] in message["body"]
        assert (await call(http, "GET", "/api/v1/sms", supervisor))[0] == 403


async def test_landlines_and_answered_calls_without_a_phone_get_no_message(
    settings: Settings, clean: None, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    async for http in _service(settings):
        landline = ticket_body(caller={"phone": "0396-2345678"})
        status, _ = await call(http, "POST", "/api/v1/tickets", taker, landline)
        assert status == 201
        answered = {"description": "咨询", "caller": {"phone": "13900000000"}, "answer": {"text": "已答复"}}
        _, consultation = await call(http, "POST", "/api/v1/tickets", taker, answered)
        text = await _wait_for(pool, "SELECT body FROM sms_messages WHERE ticket_id = $1", consultation["id"])
    assert "已答复办结" in text
    assert await pool.fetchval("SELECT count(*) FROM sms_messages") == 1  # the landline got none


async def test_the_purge_forgets_whom_a_message_went_to(
    settings: Settings, clean: None, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    from dispatch.privacy.retention import purge_closed

    _, taker = await make_user("call_taker")
    async for http in _service(settings):
        answered = {"description": "咨询", "caller": {"phone": "13900000000"}, "answer": {"text": "已答复"}}
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, answered)
        await _wait_for(pool, "SELECT state = 'logged' FROM sms_messages WHERE ticket_id = $1", ticket["id"])
    async with pool.acquire() as conn:
        await conn.execute("UPDATE tickets SET closed_at = now() - interval '200 days' WHERE id = $1", ticket["id"])
        assert await purge_closed(conn, older_than_days=180) == 1
        row = await conn.fetchrow("SELECT phone, body FROM sms_messages WHERE ticket_id = $1", ticket["id"])
    assert row["phone"] is None and ticket["number"] in row["body"]
