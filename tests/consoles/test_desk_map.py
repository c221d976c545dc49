"""The desk console shows its own agency's open work on the same offline map, behind a toggle,
and a dot opens the ticket's detail."""

from __future__ import annotations

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
