"""The desk console shows its own agency's open work on the same offline map, behind a toggle,
and a dot opens the ticket's detail."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory, keep_screenshot

expect = pytest.importorskip("playwright.async_api").expect


async def test_the_desk_map_shows_its_agencys_open_work_and_opens_a_ticket(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    body = ticket_body(agencies=["police"], location={"address": "遂平县嵖岈山镇景区门口", "district": "遂平县"})
    _, ours = await call(http, "POST", "/api/v1/tickets", taker, body)
    lamp = ticket_body(description="路灯不亮", category="urban.street_light", priority="P4", agencies=["urban"])
    await call(http, "POST", "/api/v1/tickets", taker, lamp)

    desk = await open_page("/console/desk", police)
    await desk.wait_for_selector("body[data-ready=true]")
    await expect(desk.locator("#desk-map")).to_be_hidden()
    await desk.click("#map-toggle")
    box = desk.locator("#desk-map .map-box")
    await expect(box).to_have_attribute("data-incidents", "1")  # the police's, not the lamp
    dot = box.locator("circle.incident")
    assert await dot.get_attribute("data-ticket") == str(ours["id"])
    assert await dot.get_attribute("data-placed") == "town"
    assert await dot.get_attribute("data-district") == "suiping"
    path = artifacts / "desk-map.png"
    await desk.screenshot(path=str(path))
    keep_screenshot(path, "desk-map.png")
    await dot.click()
    await expect(desk.locator("#detail")).to_contain_text(ours["number"])
    await desk.click("#map-toggle")
    await expect(desk.locator("#desk-map")).to_be_hidden()
    assert desk.js_errors == []


async def _file_many(http: aiohttp.ClientSession, taker: str, places: list[tuple[float, float]]) -> None:
    async def one(i: int, lat: float, lon: float) -> None:
        body = ticket_body(
            description=f"路灯不亮 {i}",
            category="urban.street_light",
            priority="P4" if i % 10 else "P2",
            agencies=["urban"],
            location={"address": f"路灯 {i} 号", "district": "驿城区", "lat": lat, "lon": lon},
        )
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
        assert status == 201, ticket

    for start in range(0, len(places), 10):
        await asyncio.gather(*(one(start + i, *p) for i, p in enumerate(places[start : start + 10])))


async def test_more_open_work_than_a_screen_is_counted_in_circles_that_zoom_in(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    # 230 open tickets: more than the map's 200 dots. In the city (驿城区) 200 around two
    # streets, 30 in 西平县 to the west.
    _, taker = await make_user("call_taker")
    _, urban = await make_user("desk", agency="urban")
    city = [(32.975 + (i % 20) * 0.0008, 114.015 + (i // 20) * 0.0015) for i in range(200)]
    west = [(33.35 + (i % 6) * 0.001, 113.80 + (i // 6) * 0.001) for i in range(30)]
    await _file_many(http, taker, city + west)

    desk = await open_page("/console/desk", urban)
    await desk.wait_for_selector("body[data-ready=true]")
    assert await desk.evaluate("window.__desk.count()") == 230  # the list loads every page
    await desk.click("#map-toggle")
    box = desk.locator("#desk-map .map-box")
    await expect(box).to_have_attribute("data-incidents", "230", timeout=15000)  # a loaded machine
    assert await box.get_attribute("data-zoomed") == "false"
    assert int(await box.get_attribute("data-dots") or 0) <= 200
    clusters = box.locator("g.cluster")
    assert await clusters.count() >= 2
    counted = [int(await c.get_attribute("data-tickets") or 0) for c in await clusters.all()]
    assert sum(counted) == 230  # every ticket counted once, dots or not
    path = artifacts / "desk-map-clusters.png"
    await desk.screenshot(path=str(path))
    keep_screenshot(path, "desk-map-clusters.png")

    # The circle in the west holds the 30 there: zoomed in, they are all dots.
    west_circle = box.locator("g.cluster[data-tickets='30']")
    await west_circle.click()
    await expect(box).to_have_attribute("data-zoomed", "true")
    await expect(box).to_have_attribute("data-incidents", "30")
    await expect(box).to_have_attribute("data-dots", "30")
    assert await box.locator("g.cluster").count() == 0
    path = artifacts / "desk-map-zoomed.png"
    await desk.screenshot(path=str(path))
    keep_screenshot(path, "desk-map-zoomed.png")
    await box.locator("circle.incident").first.click()
    await expect(desk.locator("#detail")).to_contain_text("路灯")

    await box.locator("[data-action=whole-map]").click()
    await expect(box).to_have_attribute("data-zoomed", "false")
    await expect(box).to_have_attribute("data-incidents", "230")
    assert desk.js_errors == []
