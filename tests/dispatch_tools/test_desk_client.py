"""The terminal desk client's connection and board against the real server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import time

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dispatch.runtime.app_keys import HUB
from dispatch_tools.desk_client import DeskBoard, DeskConnection
from tests.api_helpers import call, ticket_body
from tests.cli_helpers import DISPATCH, clean_env
from tests.conftest import UserFactory

LIGHT = {"description": "路灯不亮", "category": "urban.street_light", "priority": "P4", "agencies": ["urban"]}


async def _until(predicate, timeout: float = 10) -> None:  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_desk_connection_loads_follows_live_and_resumes_after_a_drop(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, desk = await make_user("desk", agency="urban")
    _, before = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
    board = DeskBoard(agency="urban")
    connection = DeskConnection(str(server.make_url("/")), desk, board, lambda: None)
    await connection.load()
    assert [r["ticket"]["id"] for r in board.open_rows()] == [before["id"]]
    runner = asyncio.create_task(connection.run())
    try:
        await _until(lambda: connection.online)
        _, live = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
        await _until(lambda: len(board.open_rows()) == 2)

        reply = await connection.command("acknowledge", live["assignments"][0]["id"])
        assert reply["ok"] is True

        # The server drops the connection; what happens meanwhile arrives after the resume.
        for subscriber in tuple(server.app[HUB].subscribers):
            await subscriber.ws.close()
        _, missed = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
        await _until(lambda: any(r["ticket"]["id"] == missed["id"] for r in board.open_rows()))
        await _until(lambda: connection.online)
        states = {r["ticket"]["id"]: r["assignment"]["state"] for r in board.open_rows()}
        assert states[live["id"]] == "acknowledged"
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
async def test_terminal_desk_shows_assignments_and_acknowledges_with_a_key(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, desk = await make_user("desk", agency="urban")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**LIGHT))
    session = f"desk-{os.getpid()}"
    env = clean_env(LANG="C.UTF-8", LC_ALL="C.UTF-8", TERM="xterm-256color")
    command = " ".join([*DISPATCH, "desk", "--url", str(server.make_url("/")), "--token", desk])
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "160", "-y", "30", command], env=env, check=True)

    def screen() -> str:
        return subprocess.run(
            ["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True, check=False
        ).stdout

    async def shows(text: str, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            content = await asyncio.to_thread(screen)
            if text in content:
                return content
            await asyncio.sleep(0.2)
        raise AssertionError(f"{text!r} not on screen:\n{content}")

    try:
        await shows(ticket["number"])
        await shows("在线")
        subprocess.run(["tmux", "send-keys", "-t", session, "a"], check=True)
        await shows("已签收")
        _, after = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", taker)
        assert after["assignments"][0]["state"] == "acknowledged"
        subprocess.run(["tmux", "send-keys", "-t", session, "q"], check=True)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False, capture_output=True)
