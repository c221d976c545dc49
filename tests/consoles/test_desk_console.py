"""The desk console under load and through a lost connection, in headless Chromium."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory, keep_screenshot

expect = pytest.importorskip("playwright.async_api").expect

LIVE_ASSIGNMENTS = 500
PRIORITIES = ("P1", "P2", "P3", "P4")


async def create_tickets(
    http: aiohttp.ClientSession, token: str, count: int, *, parallel: int = 8
) -> list[dict[str, Any]]:
    """``count`` police-only tickets through the API, ``parallel`` at a time."""
    created: list[dict[str, Any]] = []
    gate = asyncio.Semaphore(parallel)

    async def one(i: int) -> None:
        body = ticket_body(
            description=f"第{i}号测试：小区门口有人打架",
            priority=PRIORITIES[i % 4],
            agencies=["police"],
            caller={"phone": f"139{i:08d}"},
        )
        async with gate:
            status, ticket = await call(http, "POST", "/api/v1/tickets", token, body)
        assert status == 201, ticket
        created.append(ticket)

    await asyncio.gather(*(one(i) for i in range(count)))
    return created


def summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "events": len(ordered),
        "median_ms": round(statistics.median(ordered), 3),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1], 3),
        "max_ms": round(ordered[-1], 3),
    }


@pytest.mark.slow
async def test_the_desk_keeps_up_with_500_live_assignments(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, taker = await make_user("call_taker")
    _, desk_token = await make_user("desk", agency="police")
    desk = await open_page("/console/desk", desk_token)
    await desk.wait_for_selector("body[data-ready=true]")

    started = time.perf_counter()
    tickets = await create_tickets(http, taker, LIVE_ASSIGNMENTS)
    create_s = time.perf_counter() - started
    await expect(desk.locator("#rows tr")).to_have_count(LIVE_ASSIGNMENTS, timeout=30_000)
    arrivals = await desk.evaluate("() => window.__desk.perf.samples.slice()")

    # With 500 rows on screen: 50 acknowledgements, each one event updating one row; this time
    # the figure includes the style and layout the browser does for the change.
    await desk.evaluate("() => { window.__desk.perf.samples.length = 0; window.__desk.perf.forceLayout = true; }")
    for ticket in tickets[:50]:
        assignment = ticket["assignments"][0]["id"]
        status, _ = await call(http, "POST", f"/api/v1/assignments/{assignment}/acknowledge", desk_token)
        assert status == 200
    await expect(desk.locator("#rows tr .state-acknowledged")).to_have_count(50, timeout=30_000)
    updates = await desk.evaluate("() => window.__desk.perf.samples.slice()")

    figures = {
        "assignments": LIVE_ASSIGNMENTS,
        "created_in_s": round(create_s, 2),
        "arrivals": summary(arrivals),
        "updates_with_layout": summary(updates),
        "user_agent": await desk.evaluate("() => navigator.userAgent"),
    }
    (artifacts / "desk-500.json").write_text(json.dumps(figures, indent=2))
    print("desk console with 500 live assignments:", json.dumps(figures))
    path = artifacts / "desk-500.png"
    await desk.screenshot(path=str(path))
    keep_screenshot(path, "desk-500.png")
    assert desk.js_errors == []


async def test_the_desk_says_it_is_offline_and_catches_up_when_back(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, desk_token = await make_user("desk", agency="police")
    desk = await open_page("/console/desk", desk_token)
    await desk.wait_for_selector("body[data-ready=true]")
    await expect(desk.locator("#conn")).to_have_text("● 已连接")

    await desk.context.set_offline(True)
    await expect(desk.locator("#offline")).to_be_visible()
    assert "离线" in await desk.inner_text("#offline")
    (missed,) = await create_tickets(http, taker, 1)  # created while the desk is away
    await desk.context.set_offline(False)

    await expect(desk.locator("#offline")).to_be_hidden(timeout=15_000)
    await desk.locator("#rows tr", has_text=missed["number"]).wait_for()
    assert desk.js_errors == []
