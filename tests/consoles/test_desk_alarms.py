"""The desk through a night shift, in headless Chromium: alarms that repeat until handled and
survive a reload, further callers' reports and other agencies' notes live, the language switch.

The service here rings again every second, and short service levels make work overdue in two,
so that a shift's alarms play out in a few seconds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.settings import Settings
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import CHROMIUM, CHROMIUM_ARGS, PageFactory, keep_screenshot

expect = pytest.importorskip("playwright.async_api").expect

REPEAT_SECONDS = 1.0


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """A browser of its own for each test: once a page of a browser was clicked, Chromium may let
    later pages sound without a click, and these tests depend on sound waiting for one."""
    async_api = pytest.importorskip("playwright.async_api")
    playwright = await async_api.async_playwright().start()
    try:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()
    finally:
        await playwright.stop()


@pytest.fixture(scope="module")
async def server(settings: Settings) -> AsyncIterator[TestServer]:
    """The service with a one-second alarm repeat (its deadline watcher may be another test
    server's: escalation timing is left at the defaults, only level 1 is awaited)."""
    quick = settings.model_copy(update={"alarm_repeat_seconds": REPEAT_SECONDS})
    test_server = TestServer(create_app(quick), host="127.0.0.1", port=0)
    await test_server.start_server()
    yield test_server
    await test_server.close()


async def desk_page(open_page: PageFactory, token: str) -> Any:
    """The desk console as a person finds it: nobody has touched it yet. The console sets up its
    sound before it opens its websocket, so nothing runs in the page until that socket exists
    (an in-page wait would count as a gesture and let the sound start)."""
    page = await open_page("/console/desk", token)
    await asyncio.wait_for(page.websocket_opened.wait(), timeout=15)
    await page.wait_for_selector("body[data-ready=true]")
    return page


async def rings(page: Any) -> int:
    return int(await page.get_attribute("body", "data-alarm-rings") or "0")


async def new_ticket(http: aiohttp.ClientSession, token: str, **overrides: Any) -> dict[str, Any]:
    status, ticket = await call(http, "POST", "/api/v1/tickets", token, ticket_body(**overrides))
    assert status == 201, ticket
    return ticket


async def test_a_desk_that_never_clicks_is_told_that_sound_is_blocked(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, desk_token = await make_user("desk", agency="police")
    desk = await desk_page(open_page, desk_token)
    await expect(desk.locator("body")).to_have_attribute("data-sound", "blocked")
    await expect(desk.locator("#sound-blocked")).to_be_visible()
    assert "阻止" in await desk.inner_text("#sound-blocked")

    await desk.click("#sound-blocked button")  # the user gesture browsers wait for
    await expect(desk.locator("body")).to_have_attribute("data-sound", "on")
    await expect(desk.locator("#sound-blocked")).to_be_hidden()
    assert desk.js_errors == []


async def test_a_p1_alarm_repeats_until_the_assignment_is_acknowledged(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, desk_token = await make_user("desk", agency="police")
    desk = await desk_page(open_page, desk_token)
    ticket = await new_ticket(http, taker, agencies=["police"], priority="P1", description="燃气泄漏，楼道里很大气味")
    assignment = ticket["assignments"][0]["id"]

    body = desk.locator("body")
    await expect(body).to_have_attribute("data-alarm", "ringing")
    await expect(body).to_have_attribute("data-alarm-keys", f"p1:{assignment}")
    await expect(desk.locator("#alarm")).to_contain_text(ticket["number"])
    first = await rings(desk)
    # Nobody acknowledges: it rings again, and again.
    await desk.wait_for_function(f"() => Number(document.body.dataset.alarmRings) >= {first + 2}", timeout=10_000)
    assert await desk.locator("#alarm .alarm-dismiss").count() == 0  # a P1 is not dismissed, it is acknowledged

    await desk.locator("#rows tr", has_text=ticket["number"]).click()
    await desk.keyboard.press("a")
    await expect(body).to_have_attribute("data-alarm", "quiet")
    await expect(desk.locator("#alarm")).to_be_hidden()
    after = await rings(desk)
    await asyncio.sleep(REPEAT_SECONDS * 2.5)
    assert await rings(desk) == after
    assert desk.js_errors == []


async def test_the_first_press_on_an_alarm_button_is_not_lost_when_it_lets_the_sound_start(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, desk_token = await make_user("desk", agency="police")
    first = await new_ticket(http, taker, agencies=["police"], priority="P1", description="燃气泄漏")
    second = await new_ticket(http, taker, agencies=["police"], priority="P1", description="有人持刀")
    desk = await desk_page(open_page, desk_token)
    await desk.wait_for_selector(f"body[data-detail='{first['id']}']")  # due first: opened
    await expect(desk.locator("#sound-blocked")).to_be_visible()
    button = desk.locator("#alarm li", has_text=second["number"]).get_by_role("button", name="查看")
    before = await button.bounding_box()
    assert before is not None

    # The press is the gesture that lets the sound start, and the sound-blocked banner above
    # the alarms goes; the button must stay under the pointer until it is released.
    await desk.mouse.move(before["x"] + before["width"] / 2, before["y"] + before["height"] / 2)
    await desk.mouse.down()
    await expect(desk.locator("body")).to_have_attribute("data-sound", "on")
    assert await button.bounding_box() == before
    await desk.mouse.up()
    await expect(desk.locator("body")).to_have_attribute("data-detail", str(second["id"]))
    await expect(desk.locator("#sound-blocked")).to_be_hidden()
    assert desk.js_errors == []


async def shot(page: Any, artifacts: Path, name: str) -> None:
    path = artifacts / name
    await page.screenshot(path=str(path))
    keep_screenshot(path, name)


async def test_the_alarm_comes_back_after_a_reload_and_a_dismissal_stays(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    _, desk_token = await make_user("desk", agency="police")
    # A P3 that must be acknowledged within 2 s escalates (level 1) right after.
    level = {"priority": "P3", "ack_seconds": 2, "resolve_seconds": 3600}
    assert (await call(http, "PUT", "/api/v1/service-levels", admin, level))[0] in (200, 201)
    p1 = await new_ticket(http, taker, agencies=["police"], priority="P1")

    desk = await desk_page(open_page, desk_token)  # opened after the fact: nothing arrived live
    p1_key = f"p1:{p1['assignments'][0]['id']}"
    has_p1 = f"() => (document.body.dataset.alarmKeys || '').split(' ').includes('{p1_key}')"
    await desk.wait_for_function(has_p1)
    await desk.reload()
    await desk.wait_for_selector("body[data-ready=true]")
    await desk.wait_for_function(has_p1)  # a reload rings again

    late = await new_ticket(
        http, taker, agencies=["police"], priority="P3", category="police.public_order", description="楼上深夜噪音扰民"
    )
    late_id = late["assignments"][0]["id"]
    escalation = desk.locator(f"#alarm li[data-alarm-key^='esc:{late_id}:']")
    await escalation.wait_for(timeout=15_000)
    key = await escalation.get_attribute("data-alarm-key")
    await escalation.locator(".alarm-dismiss").click()
    await expect(desk.locator(f"#alarm li[data-alarm-key='{key}']")).to_have_count(0)

    # After a reload the dismissed escalation stays silent while the P1 still rings.
    await desk.reload()
    await desk.wait_for_selector("body[data-ready=true]")
    await desk.wait_for_function(has_p1)
    before = await rings(desk)
    await desk.wait_for_function(f"() => Number(document.body.dataset.alarmRings) >= {before + 2}")
    assert key not in (await desk.get_attribute("body", "data-alarm-keys") or "").split()
    assert await desk.locator(f"#alarm li[data-alarm-key='{key}']").count() == 0

    # The timeline folds the watcher's lines into one that opens.
    await desk.locator("#rows tr", has_text=late["number"]).click()
    fold = desk.locator("#detail details.system-fold")
    await fold.wait_for()
    assert "督办" in await fold.locator("summary").inner_text()
    assert await fold.locator("li").first.is_hidden()
    await shot(desk, artifacts, "desk-escalated.png")
    await fold.locator("summary").click()
    await expect(fold.locator("li").first).to_be_visible()
    assert desk.js_errors == []


async def test_a_second_callers_report_alerts_the_desk_and_tops_the_detail(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, taker = await make_user("call_taker")
    _, desk_token = await make_user("desk", agency="police")
    ticket = await new_ticket(
        http, taker, agencies=["police"], priority="P2", category="police.dispute", description="小区里有人争吵"
    )
    desk = await desk_page(open_page, desk_token)
    await desk.wait_for_selector(f"body[data-detail='{ticket['id']}']")  # the only ticket: opened
    body = desk.locator("body")
    await expect(body).to_have_attribute("data-alarm", "quiet")

    # On a slow network the report arrives while the detail the desk just opened is still on
    # its way: it is news all the same, and rings until the desk opens it.
    detail_held = asyncio.Event()

    async def hold_detail(route: Any) -> None:
        await detail_held.wait()
        await route.continue_()

    await desk.route(f"**/api/v1/tickets/{ticket['id']}", hold_detail)
    await desk.locator("#rows tr", has_text=ticket["number"]).click()
    status, _ = await call(
        http, "POST", f"/api/v1/tickets/{ticket['id']}/reports", taker, {"description": "有人说是2单元"}
    )
    assert status == 201
    await expect(body).to_have_attribute("data-alarm", "ringing")
    detail_held.set()  # from now on the route lets every request through at once
    top = desk.locator("#detail .ticket-detail > :first-child")
    await expect(top).to_contain_text("有人说是2单元")
    assert await top.locator("time").count() == 1
    assert await top.locator(".report-new").count() == 1
    await expect(desk.locator("#alarm")).to_contain_text("有人说是2单元")  # with the caller's words
    assert await body.get_attribute("data-alarm") == "ringing"  # shown is not read
    await shot(desk, artifacts, "desk-report.png")
    first = await rings(desk)
    await desk.wait_for_function(f"() => Number(document.body.dataset.alarmRings) > {first}")  # rings again
    # The desk opens it from the alarm: read, the alarm ends.
    await desk.locator("#alarm li", has_text="2单元").get_by_role("button", name="查看").click()
    await expect(body).to_have_attribute("data-alarm", "quiet")
    await expect(desk.locator("#rows tr", has_text=ticket["number"]).locator(".badge")).to_have_count(0)
    assert desk.js_errors == []


async def test_a_note_from_one_agencys_desk_appears_live_on_the_others(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police_token = await make_user("desk", agency="police")
    _, health_token = await make_user("desk", agency="health")
    ticket = await new_ticket(http, taker, agencies=["police", "health"], priority="P2")
    police = await desk_page(open_page, police_token)
    health = await desk_page(open_page, health_token)
    await health.locator("#rows tr", has_text=ticket["number"]).click()
    await health.wait_for_selector("#detail .ticket-detail")

    await police.locator("#rows tr", has_text=ticket["number"]).click()
    await police.keyboard.press("n")
    await police.fill("#dialog-text", "已出警，预计10分钟到")
    await police.keyboard.press("Control+Enter")

    await expect(health.locator("#detail .note-list")).to_contain_text("已出警，预计10分钟到")
    await expect(health.locator("#toast")).to_contain_text("已出警")
    await expect(police.locator("#detail .note-list")).to_contain_text("已出警，预计10分钟到")
    assert police.js_errors == [] and health.js_errors == []


async def test_pause_resume_and_release_from_the_desk(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, health_token = await make_user("desk", agency="health")
    ticket = await new_ticket(http, taker, agencies=["police", "health"], priority="P2")
    health = await desk_page(open_page, health_token)
    row = health.locator("#rows tr", has_text=ticket["number"])
    await row.click()
    await health.keyboard.press("p")
    await health.fill("#dialog-text", "等待群众提供门牌号")
    await health.keyboard.press("Control+Enter")
    await expect(row.locator(".due")).to_contain_text("暂停")
    await expect(health.locator("#pause-label")).to_have_text("恢复计时")
    await health.keyboard.press("p")
    await expect(row.locator(".due")).not_to_contain_text("暂停")

    await health.keyboard.press("l")
    await health.fill("#dialog-text", "无人受伤，无需急救")
    await health.keyboard.press("Control+Enter")
    await row.wait_for(state="detached")
    await health.click("#tab-handled")
    await expect(health.locator("#handled-rows tr", has_text=ticket["number"])).to_contain_text("协办结束")
    assert health.js_errors == []


async def test_switching_language_redraws_banners_toasts_tables_and_times_at_once(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, desk_token = await make_user("desk", agency="police")
    ticket = await new_ticket(http, taker, agencies=["police"], priority="P1")
    desk = await desk_page(open_page, desk_token)
    await expect(desk.locator("#alarm")).to_contain_text("紧急")
    # Script clicks only: a real click would be the gesture that lets the sound start.
    await desk.locator("#rows tr", has_text=ticket["number"]).evaluate("row => row.click()")
    await desk.wait_for_selector("#detail .ticket-detail")
    await desk.evaluate("() => document.getElementById('toast').hidden = true")
    report = {"description": "又一个电话"}
    status, _ = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reports", taker, report)
    assert status == 201
    await expect(desk.locator("#toast")).to_contain_text("补充反映")

    await desk.evaluate("() => document.getElementById('lang-toggle').click()")  # no gesture: sound stays blocked
    assert await desk.get_attribute("html", "lang") == "en"
    assert "Emergency (P1)" in await desk.inner_text("#alarm")
    assert "blocking sound" in await desk.inner_text("#sound-blocked")
    assert "Further report" in await desk.inner_text("#toast")
    row = desk.locator("#rows tr", has_text=ticket["number"])
    assert "to acknowledge" in await row.inner_text()
    assert "ack due" in await row.locator(".due").inner_text()
    await expect(desk.locator("#detail")).to_contain_text("Further callers")  # the detail reloads after the event
    assert "Timeline" in await desk.inner_text("#detail")
    assert "Sound: off" in await desk.inner_text("#sound")
    for chinese in ("紧急", "签收时限", "处理记录"):
        assert chinese not in await desk.inner_text("main")
    assert desk.js_errors == []
