"""The four consoles in headless Chromium, as their users work: a call-taker creates a ticket
from the form, the desk sees it live and acknowledges and resolves it, the citizen sees it
resolved and rates it, and the supervisor's dashboard counts it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import UserFactory
from tests.consoles.conftest import PHONE, PageFactory, keep_screenshot

expect = pytest.importorskip("playwright.async_api").expect

FIGHT = "超市门口有两个人打架，其中一人头破血流"


async def shot(page: Any, artifacts: Path, name: str, *, full_page: bool = False) -> None:
    path = artifacts / name
    await page.screenshot(path=str(path), full_page=full_page)
    keep_screenshot(path, name)


async def ready(page: Any) -> None:
    await page.wait_for_selector("body[data-ready=true]")


async def test_a_call_flows_from_intake_to_desk_citizen_and_supervisor(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, taker = await make_user("call_taker", name="王芳")
    _, desk_token = await make_user("desk", agency="police", name="驿城派出所值班台")
    _, supervisor = await make_user("supervisor", name="督办中心")

    desk = await open_page("/console/desk", desk_token)
    await ready(desk)
    board = await open_page("/console/supervisor", supervisor)
    await ready(board)

    # The call-taker signs in through the page itself.
    intake = await open_page("/console/intake")
    assert intake.url.endswith("/console/?next=/console/intake")
    await intake.fill("#token", taker)
    await intake.press("#token", "Enter")
    await intake.wait_for_url("**/console/intake")
    await ready(intake)

    await intake.fill("#description", FIGHT)
    await intake.fill("#phone", "138 0000 0000")
    await intake.fill("#address", "驿城区交通路永辉超市门口")
    await intake.wait_for_selector("#suggestion dl")  # classify answered while typing
    assert "打架斗殴" in await intake.inner_text("#suggestion")
    await intake.keyboard.press("Alt+1")  # priority P1 from the keyboard
    assert await intake.input_value("#priority") == "P1"
    await intake.uncheck("#assist-health")  # the police alone this time: override the router
    await shot(intake, artifacts, "intake.png")
    await intake.keyboard.press("Control+Enter")
    await intake.wait_for_selector("#result:not([hidden])")
    number = (await intake.inner_text("#result-number")).strip()
    token = (await intake.inner_text("#result-token")).strip()
    assert re.fullmatch(r"MS\d{8}-\d{6,}", number)
    assert token
    await shot(intake, artifacts, "intake-created.png")

    # The desk sees it without a reload, with the alarm of a new P1.
    row = desk.locator("#rows tr", has_text=number)
    await row.wait_for()
    await expect(desk.locator("#alarm")).to_contain_text(number)
    assert "P1" in await desk.inner_text("#alarm")
    assert "待签收" in await row.inner_text()
    await row.click()
    await desk.wait_for_selector("#timeline li")
    await shot(desk, artifacts, "desk.png")
    await desk.keyboard.press("a")
    await desk.locator("#rows tr", has_text=number).filter(has_text="已签收").wait_for()
    await expect(desk.locator("body")).to_have_attribute("data-alarm", "quiet")
    await desk.keyboard.press("r")
    await desk.fill("#dialog-text", "已到场调解，伤者送医")
    await desk.keyboard.press("Control+Enter")
    await row.wait_for(state="detached")

    # The citizen looks it up on a phone and rates it.
    citizen = await open_page("/status", viewport=PHONE)
    await ready(citizen)
    await citizen.fill("#number", number)
    await citizen.fill("#token", token)
    await citizen.press("#token", "Enter")
    await citizen.wait_for_selector("#ticket:not([hidden])")
    assert "已办结" in await citizen.inner_text("#t-status")
    await shot(citizen, artifacts, "status.png", full_page=True)
    await citizen.check("#satisfied-yes")
    await citizen.check("#rating-5")
    await citizen.click("#feedback-form button[type=submit]")
    await citizen.wait_for_selector("#thanks:not([hidden])")
    assert "归档" in await citizen.inner_text("#t-status")

    # The supervisor's dashboard counts it (it refreshes itself after live events).
    await expect(board.locator("[data-kpi=resolved] .kpi-value")).to_have_text("1", timeout=20_000)
    assert await board.inner_text("[data-kpi=tickets] .kpi-value") == "1"
    await board.click("#refresh")  # the charts too, for the picture
    await expect(board.locator("#chart-volume-text")).to_contain_text("1")
    await shot(board, artifacts, "supervisor.png", full_page=True)
    for page in (intake, desk, citizen, board):
        assert page.js_errors == []
