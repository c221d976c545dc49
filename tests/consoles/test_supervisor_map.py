"""The supervisor dashboard's map with more open work than a screen: every open ticket counted
in numbered circles (per cell, and per district without coordinates), the most urgent as dots;
a circle zooms in, "Whole map" zooms out, and the circles speak the language chosen."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory, keep_screenshot
from tests.consoles.test_desk_map import _file_many

expect = pytest.importorskip("playwright.async_api").expect


async def test_the_dashboard_counts_what_it_cannot_draw_and_zooms_into_a_circle(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    city = [(32.975 + (i % 20) * 0.0008, 114.015 + (i // 20) * 0.0015) for i in range(190)]
    west = [(33.35 + (i % 5) * 0.001, 113.80 + (i // 5) * 0.001) for i in range(20)]
    await _file_many(http, taker, city + west)
    # Without coordinates, in 上蔡县: counted at the county's seat.
    for _ in range(3):
        body = ticket_body(agencies=["police"], location={"address": "上蔡县某村", "district": "上蔡县"})
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
        assert status == 201, ticket

    board = await open_page("/console/supervisor", supervisor)
    await board.wait_for_selector("body[data-ready=true]")
    box = board.locator("#map")
    await expect(box).to_have_attribute("data-incidents", "213", timeout=15000)
    assert int(await box.get_attribute("data-dots") or 0) <= 200
    unplaced = box.locator("g.cluster.unplaced[data-district='shangcai']")
    assert await unplaced.get_attribute("data-tickets") == "3"
    counted = [int(await c.get_attribute("data-tickets") or 0) for c in await box.locator("g.cluster").all()]
    assert sum(counted) == 213
    path = artifacts / "supervisor-map-clusters.png"
    await box.screenshot(path=str(path))
    keep_screenshot(path, "supervisor-map-clusters.png")

    await board.keyboard.press("Alt+KeyL")
    label = await box.locator("g.cluster[data-tickets='20']").get_attribute("aria-label")
    assert label == "20 open incidents here, 0 overdue; click to zoom in"
    await box.locator("g.cluster[data-tickets='20']").focus()
    await board.keyboard.press("Enter")  # the keyboard zooms as a click does
    await expect(box).to_have_attribute("data-zoomed", "true")
    await expect(box).to_have_attribute("data-dots", "20")
    await expect(box.locator("[data-action=whole-map]")).to_have_text("Whole map")
    await box.locator("[data-action=whole-map]").click()
    await expect(box).to_have_attribute("data-zoomed", "false")
    await expect(box).to_have_attribute("data-incidents", "213")
    assert board.js_errors == []
