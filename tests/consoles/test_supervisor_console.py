"""The supervisor's dashboard in headless Chromium, through a night shift: opened after
escalations exist it lists them at once, highest level first, and rings for the top level;
an overdue row opens the ticket, and a 催办 sent from there reaches a real desk websocket
client live; every count opens what it counts; the map shows the open incidents; a re-dispatch
that changes nothing is refused on the page; switching language redraws everything at once."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestServer

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory, keep_screenshot
from tests.ws_helpers import collect_events, connect

expect = pytest.importorskip("playwright.async_api").expect

CJK = re.compile(r"[\u4e00-\u9fff]")


async def shot(page: Any, artifacts: Path, name: str, *, full_page: bool = False) -> None:
    path = artifacts / name
    await page.screenshot(path=str(path), full_page=full_page)
    keep_screenshot(path, name)


async def ready(page: Any) -> None:
    await page.wait_for_selector("body[data-ready=true]")


async def overdue_ticket(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, taker: str, minutes_late: float, **overrides: Any
) -> dict[str, Any]:
    """A ticket whose acknowledgement deadlines passed ``minutes_late`` minutes ago: the
    server's deadline watcher escalates it (level 1 at the deadline, 2 after 5 min, 3 after 20)."""
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**overrides))
    await pool.execute(
        """UPDATE assignments SET created_at = now() - make_interval(secs => $2 * 60 + 60),
               ack_due = now() - make_interval(secs => $2 * 60)
           WHERE ticket_id = $1""",
        ticket["id"],
        minutes_late,
    )
    return ticket


async def wait_for_levels(http: aiohttp.ClientSession, token: str, want: dict[int, int]) -> None:
    deadline = time.monotonic() + 20
    while True:
        _, page = await call(http, "GET", "/api/v1/stats/escalations", token)
        levels: dict[int, int] = {}
        for item in page["items"]:
            levels[item["ticket_id"]] = max(levels.get(item["ticket_id"], 0), item["level"])
        if all(levels.get(ticket) == level for ticket, level in want.items()):
            return
        assert time.monotonic() < deadline, (levels, want)
        await asyncio.sleep(0.2)


async def urged_event(ws: Any, timeout: float = 15) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        for event in await collect_events(ws, 1, timeout=max(0.1, deadline - time.monotonic())):
            if event["type"] == "ticket.reminder" and event["actor"] != "system":
                return event


async def test_a_supervisor_opened_after_escalations_sees_them_and_chases_the_desk_live(
    http: aiohttp.ClientSession,
    pool: asyncpg.Pool,
    server: TestServer,
    make_user: UserFactory,
    open_page: PageFactory,
    artifacts: Path,
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor", name="夜班督办")
    _, police = await make_user("desk", agency="police", name="驿城派出所值班台")
    gas = await overdue_ticket(
        http,
        pool,
        taker,
        30,
        description="小区燃气泄漏，楼道里味道很大",
        category="emergency.gas_leak",
        agencies=["police"],
        location={"address": "西平县出山镇建设路", "district": "西平县"},
    )
    fight = await overdue_ticket(http, pool, taker, 1, agencies=["police"])
    located = ticket_body(
        description="路灯不亮",
        category="urban.street_light",
        priority="P4",
        agencies=["urban"],
        location={"address": "汝南县汝宁街道", "district": "汝南县", "lat": 33.01, "lon": 114.36},
    )
    _, lamp = await call(http, "POST", "/api/v1/tickets", taker, located)
    await wait_for_levels(http, supervisor, {gas["id"]: 3, fight["id"]: 1})

    board = await open_page("/console/supervisor", supervisor)
    await ready(board)
    # At once, from REST: both open escalations, the top level first, and the alarm rings.
    live = board.locator("#live li")
    await expect(live).to_have_count(2)
    assert await live.nth(0).get_attribute("data-level") == "3"
    assert await live.nth(0).get_attribute("data-ticket") == str(gas["id"])
    assert gas["number"] in await live.nth(0).inner_text()
    await expect(board.locator("#live-empty")).to_be_hidden()
    await expect(board.locator("body")).to_have_attribute("data-alarm", "ringing")
    await expect(board.locator("#alarm")).to_contain_text(gas["number"])
    # The map: one dot per open incident, overdue ones ringed, placed by coordinates or town.
    map_box = board.locator("#map")
    await expect(map_box).to_have_attribute("data-incidents", "3")
    assert await map_box.get_attribute("data-overdue") == "2"
    gas_dot = board.locator(f"#map circle.incident[data-ticket='{gas['id']}']")
    assert await gas_dot.get_attribute("data-overdue") == "true"
    assert await gas_dot.get_attribute("data-placed") == "town"  # 出山镇
    assert await gas_dot.get_attribute("data-district") == "xiping"
    lamp_dot = board.locator(f"#map circle.incident[data-ticket='{lamp['id']}']")
    assert (await lamp_dot.get_attribute("data-placed"), await lamp_dot.get_attribute("data-overdue")) == (
        "coordinates",
        "false",
    )
    assert await lamp_dot.get_attribute("data-priority") == "P4"
    assert await board.locator("#map path.map-district").count() == 10
    assert await board.locator("#map path.map-zone").count() == 2
    await shot(board, artifacts, "supervisor-night.png", full_page=True)

    # An overdue row opens the ticket: category, address, agencies, timeline.
    await board.locator(f"#overdue tbody tr[data-ticket='{gas['id']}']").click()
    drawer = board.locator("#drawer")
    await expect(drawer).to_have_attribute("data-ticket", str(gas["id"]))
    detail = drawer.locator(".ticket-detail")
    await expect(detail).to_contain_text("燃气泄漏")
    await expect(detail).to_contain_text("西平县出山镇建设路")
    await expect(detail).to_contain_text("公安")
    await expect(detail.locator("#timeline")).to_contain_text("受理")

    # 催办 from there; a real desk websocket client hears it live, and so does the police's
    # desk console, which rings for it.
    desk_page = await open_page("/console/desk", police)
    await ready(desk_page)
    desk = await connect(str(server.make_url("/")), police)
    try:
        await drawer.locator("button[data-action=urge]").first.click()
        await board.fill("#drawer-text", "燃气泄漏已超时30分钟，请立即签收出警")
        await shot(board, artifacts, "supervisor-ticket.png")
        await drawer.locator("form[data-form=urge] button[type=submit]").click()
        event = await urged_event(desk)
    finally:
        await desk.close()
    assert event["data"]["text"] == "燃气泄漏已超时30分钟，请立即签收出警"
    assert event["ticket"]["id"] == gas["id"] and event["actor"] == "supervisor:夜班督办"
    await expect(board.locator("#toast")).to_contain_text("已催办")
    await expect(drawer.locator(".event-ticket-reminder")).to_contain_text("燃气泄漏已超时30分钟")
    # The desk console rings for it (among its other alarms: the banner shows the first five).
    has_urge = f"() => (document.body.dataset.alarmKeys || '').split(' ').includes('remind:{event['event_id']}')"
    await desk_page.wait_for_function(has_urge)
    assert board.js_errors == [] and desk_page.js_errors == []


async def test_counts_open_their_lists_and_an_agency_that_acknowledged_nothing_stands_out(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, first = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())  # police and health
    await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description="又一起打架", agencies=["police"]))

    board = await open_page("/console/supervisor", supervisor)
    await ready(board)
    # Tickets and assignments counted apart, and labelled.
    await expect(board.locator("[data-kpi=open-tickets] .kpi-value")).to_have_text("2")
    await expect(board.locator("[data-kpi=open] .kpi-value")).to_have_text("3")
    await expect(board.locator("[data-kpi=open] .kpi-label")).to_have_text("在办任务")
    await expect(board.locator("[data-kpi=open-tickets] .kpi-label")).to_have_text("在办工单")
    # The police have acknowledged nothing: it says so instead of "—".
    police_times = board.locator("#times tr[data-agency=police]")
    await expect(police_times.locator(".none-acked").first).to_contain_text("未签收 0/2")

    # A count in the agency table opens its list, and a row of the list opens the ticket.
    await board.locator("#by-agency tr[data-agency=health] td button.count-link").first.click()
    drawer = board.locator("#drawer")
    await expect(drawer).to_have_attribute("data-view", "list")
    rows = drawer.locator("#drawer-list tbody tr")
    await expect(rows).to_have_count(1)
    assert await rows.first.get_attribute("data-ticket") == str(first["id"])
    await rows.first.click()
    await expect(drawer).to_have_attribute("data-view", "ticket")
    await expect(drawer).to_have_attribute("data-ticket", str(first["id"]))

    # A re-dispatch that changes nothing is refused on the page, and nothing moves.
    await drawer.locator("li[data-assignment] button[data-action=redispatch]").first.click()
    await expect(board.locator("#drawer-desk option").nth(1)).to_be_attached()
    await board.fill("#drawer-reason", "试一下")
    await drawer.locator("form[data-form=redispatch] button[type=submit]").click()
    await expect(board.locator("#drawer-error")).to_have_text("单位和席位都没有变化")
    # Then a real one: to another desk of the same agency.
    await board.select_option("#drawer-desk", "police.xiping")
    await drawer.locator("form[data-form=redispatch] button[type=submit]").click()
    await expect(drawer.locator(".event-assignment-desk_changed")).to_contain_text("改派席位")
    _, ticket = await call(http, "GET", f"/api/v1/tickets/{first['id']}", supervisor)
    _, desks = await call(http, "GET", "/api/v1/desks?agency=police", supervisor)
    xiping = next(d["id"] for d in desks["items"] if d["code"] == "police.xiping")
    assert ticket["assignments"][0]["desk_id"] == xiping
    await shot(board, artifacts, "supervisor-redispatch.png")
    assert board.js_errors == []


async def test_switching_language_redraws_the_dashboard_at_once(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    late = await overdue_ticket(http, pool, taker, 1, agencies=["police"])
    await wait_for_levels(http, supervisor, {late["id"]: 1})
    board = await open_page("/console/supervisor", supervisor)
    await ready(board)
    await expect(board.locator("#live li")).to_have_count(1)
    await board.locator(f"#overdue tbody tr[data-ticket='{late['id']}']").click()
    await expect(board.locator("#drawer .ticket-detail")).to_be_visible()

    await board.keyboard.press("Alt+KeyL")  # the language switch, while the drawer is open
    await expect(board.locator("#drawer-title")).to_have_text(f"Ticket {late['number']}")
    for selector in ("#kpis", "#live", "#by-agency", "#overdue", "#live-title", "#drawer .drawer-actions"):
        text = await board.inner_text(selector)
        assert not CJK.search(text), (selector, text)
    assert "Police" in await board.inner_text("#live")
    labels = await board.locator("#map .map-labels text").all_text_contents()
    assert any(label.startswith("Yicheng District") for label in labels), labels
    assert re.search(r"updated \d\d:\d\d:\d\d", await board.inner_text("#updated"))
    await board.click("#drawer-close")
    await board.evaluate("window.scrollTo(0, 0)")
    await shot(board, artifacts, "supervisor-en.png", full_page=True)
    await board.keyboard.press("Alt+KeyL")
    await expect(board.locator("[data-kpi=open] .kpi-label")).to_have_text("在办任务")
    assert board.js_errors == []


async def test_a_duplicate_is_merged_from_the_side_sheet_by_ticket_number(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, first = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"]))
    _, second = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(description="永辉超市门口有人打架", agencies=["police"])
    )
    board = await open_page("/console/supervisor", supervisor)
    await ready(board)
    await board.locator("[data-kpi=open-tickets]").click()
    drawer = board.locator("#drawer")
    await drawer.locator(f"#drawer-list tr[data-ticket='{second['id']}']").click()
    await expect(drawer).to_have_attribute("data-ticket", str(second["id"]))
    await drawer.locator("button[data-action=merge]").click()
    await board.fill("#drawer-into", "MS00000000-000000")  # no such ticket: said so, nothing merged
    await drawer.locator("form[data-form=merge] button[type=submit]").click()
    await expect(board.locator("#drawer-error")).to_contain_text("找不到工单")
    await board.fill("#drawer-into", first["number"].lower())
    await drawer.locator("form[data-form=merge] button[type=submit]").click()
    # The side sheet moves to the ticket it was merged into, whose timeline says so.
    await expect(drawer).to_have_attribute("data-ticket", str(first["id"]))
    await expect(drawer.locator("#timeline")).to_contain_text("合并")
    _, merged = await call(http, "GET", f"/api/v1/tickets/{second['id']}", supervisor)
    assert merged["status"] == "merged" and merged["merged_into"] == first["id"]
    assert board.js_errors == []
