"""Health of connections: dead clients dropped, slow clients cut off, shutdown says 1001."""

from __future__ import annotations

import asyncio
import base64
import os
import socket
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.app_keys import HUB
from dispatch.runtime.settings import Settings
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.ws_helpers import connect


@pytest.fixture
async def tight_server(settings: Settings, clean: None) -> AsyncIterator[TestServer]:
    """A server of its own with a 1 s heartbeat and a 40-event client queue (more than one
    relay batch of this test's load brings at once, so that a reading client keeps up)."""
    tight = settings.model_copy(update={"ws_heartbeat_s": 1.0, "ws_queue_limit": 40})
    server = TestServer(create_app(tight), host="127.0.0.1", port=0)
    await server.start_server()
    yield server
    await server.close()


async def _raw_websocket(host: str, port: int, token: str) -> asyncio.StreamWriter:
    """A websocket handshake by hand; the client then never reads and never answers pings."""
    reader, writer = await asyncio.open_connection(host, port, limit=1024)
    writer.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET /api/v1/stream?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    status_line = await asyncio.wait_for(reader.readline(), 10)
    assert b"101" in status_line
    writer.transport.pause_reading()  # never read again: the kernel buffers fill up
    return writer


async def _wait_for_clients(server: TestServer, count: int, timeout: float) -> None:
    hub = server.app[HUB]
    deadline = asyncio.get_running_loop().time() + timeout
    while len(hub.subscribers) != count:
        assert asyncio.get_running_loop().time() < deadline, f"{len(hub.subscribers)} clients, expected {count}"
        await asyncio.sleep(0.1)


async def test_dead_client_is_dropped_by_heartbeat(tight_server: TestServer, make_user: UserFactory) -> None:
    _, desk = await make_user("desk", agency="police")
    raw = await _raw_websocket(tight_server.host, tight_server.port, desk)
    try:
        await _wait_for_clients(tight_server, 1, 5)
        await _wait_for_clients(tight_server, 0, 10)  # 1 s heartbeat: gone within a few seconds
    finally:
        raw.close()


async def test_slow_client_is_disconnected_with_4008_and_others_keep_flowing(
    tight_server: TestServer, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    base = str(tight_server.make_url("/"))
    raw = await _raw_websocket(tight_server.host, tight_server.port, supervisor)
    try:
        async with await connect(base, supervisor) as healthy, aiohttp.ClientSession(base_url=base) as http:
            received = 0

            async def read_all() -> None:
                nonlocal received
                async for _ in healthy:
                    received += 1

            reader = asyncio.create_task(read_all())
            big = "很长的描述" * 500
            for _ in range(150):
                await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=big))
            await _wait_for_clients(tight_server, 1, 15)  # the slow one is gone, the healthy one stays
            reader.cancel()
            assert received > 0
    finally:
        raw.close()


async def test_shutdown_closes_clients_with_1001(settings: Settings, make_user: UserFactory) -> None:
    _, desk = await make_user("desk", agency="police")
    server = TestServer(create_app(settings), host="127.0.0.1", port=0)
    await server.start_server()
    ws = await connect(str(server.make_url("/")), desk)
    closer = asyncio.create_task(server.close())
    try:
        await asyncio.wait_for(ws.wait_closed(), 10)
        assert ws.close_code == 1001
    finally:
        await closer


async def test_shutdown_is_not_held_up_by_a_client_that_stopped_reading(
    settings: Settings, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    server = TestServer(create_app(settings), host="127.0.0.1", port=0)  # the default queue: no 4008 here
    await server.start_server()
    base = str(server.make_url("/"))
    raw = await _raw_websocket(server.host, server.port, supervisor)
    try:
        healthy = await connect(base, supervisor)
        async with aiohttp.ClientSession(base_url=base) as http:
            big = "很长的描述" * 500
            for _ in range(150):
                status, last = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=big))
                assert status == 201
        # Once the healthy client has the last ticket, the one that stopped reading has its
        # connection full of the same events, and a close frame can only wait behind them.
        async with asyncio.timeout(30):
            while last["number"] not in await healthy.recv():
                pass
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(server.close(), 30)
        assert asyncio.get_running_loop().time() - started < 20  # the stuck client dropped, not awaited
        await asyncio.wait_for(healthy.wait_closed(), 10)
        assert healthy.close_code == 1001
    finally:
        raw.close()
