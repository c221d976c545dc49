"""A call-taker's shift in one page load of the intake console (headless Chromium): more than
thirty calls in a row, among them a repeat caller attached to the existing ticket, a withheld
number, landlines, a district typed by name, a call nobody can place yet filed to the 待分派
queue, a consultation answered on the phone from the knowledge base, and a ticket a desk
returns during the shift, re-routed from the queue. Afterwards the
database holds exactly one ticket or report per call, each dispatched or queued as intended,
and no ticket sits in ``new`` without being on the queue."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from dispatch.knowledge.transfer import load_starter
from tests.api_helpers import call
from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory, keep_screenshot

pytest.importorskip("playwright.async_api")


@dataclass
class Call:
    """One call as the call-taker takes it, and what it must become."""

    text: str
    address: str
    phone: str | None = None
    no_phone: str | None = None  # the reason chosen when there is no number
    district: str | None = None  # typed into the district box
    category: str | None = None  # chosen in the menu; "queue" files the call to the queue
    expect_lead: str | None = None  # the lead agency it must be dispatched to
    expect_phone: str | None = None  # the number as stored
    expect_district: str | None = None
    attach_to: int | None = None  # index of the earlier call whose ticket this one joins
    kb_title: str | None = None  # answered on the phone from this knowledge-base entry
    number: str = field(default="", init=False)  # what the console read out


def _calls() -> list[Call]:
    phone = iter(f"139{n:08d}" for n in range(10_000_001, 10_000_100))
    calls = [
        Call("超市门口有两个人打架，其中一人头破血流", "驿城区交通路永辉超市门口", next(phone), expect_lead="police"),
        Call("小区门口的路灯坏了好几天，晚上很黑", "西平县柏城街道人民路", next(phone), expect_lead="urban"),
        Call("路口井盖丢了，很危险", "驿城区解放路与中华路交叉口", "139 1111 2222", expect_lead="urban"),
        Call("楼下饭店油烟太大，垃圾几天没人清运", "驿城区东风街道健康路", next(phone), expect_lead="urban"),
        # The router reads this one as night construction (a known miss, see docs/routing.md);
        # the call-taker corrects the category in the menu before dispatching.
        Call(
            "我家隔壁晚上一直唱歌，吵得睡不着",
            "上蔡县蔡都街道",
            next(phone),
            category="police.public_order",
            expect_lead="police",
        ),
        Call("两车追尾，有人受伤流血", "107国道遂平段", next(phone)),
        Call(
            "闻到很浓的煤气味，好像燃气泄漏了",
            "驿城区雪松街道金桂小区3号楼",
            no_phone="not_shown",
            expect_lead="emergency",
        ),
        Call("老人在家突然晕倒了，没有意识", "汝南县古塔街道", "0396-2345678", expect_lead="health"),
        Call(
            "我的电动车在楼下被偷了",
            "正阳县真阳街道",
            "2345679",
            expect_lead="police",
            expect_phone="+863962345679",
        ),
        Call("接到电话说我涉嫌洗钱，让我转账到安全账户", "确山县盘龙街道", next(phone), expect_lead="police"),
        Call("路面有个大坑，好几辆车都颠坏了", "平舆县古槐街道", next(phone), expect_lead="transport"),
        Call("红绿灯不亮了，路口很乱", "新蔡县古吕街道", next(phone), expect_lead="transport"),
        Call("停水两天了，什么时候来水", "泌阳县泌水街道", no_phone="refused", expect_lead="urban"),
        Call("工地半夜还在施工，噪音很大", "驿城区老街街道", next(phone), expect_lead="urban"),
        Call(
            "街上有人摆摊占道经营，堵住了路",
            "开源路与金山路口",
            next(phone),
            district="开发区",
            expect_lead="urban",
            expect_district="kaifaqu",
        ),
        Call("孩子走丢了，穿红色衣服，五岁", "驿城区南海街道", next(phone), expect_lead="police"),
        Call("出租车司机拒载还骂人", "驿城区火车站", "12345", expect_lead="transport", expect_phone="12345"),
        Call("吃了饭店的饭，好几个人上吐下泻", "遂平县灈阳街道", next(phone), expect_lead="health"),
        Call("仓库着火了，冒很大的烟", "经济开发区金河街道", no_phone="payphone", expect_lead="emergency"),
        Call("邻居私搭乱建，在楼顶盖房子", "西平县柏亭街道", next(phone), expect_lead="urban"),
        Call("暴雨后小区地下车库积水很深", "驿城区橡林街道", next(phone), expect_lead="emergency"),
        Call("有辆车违停在消防通道上堵路", "驿城区新华街道", next(phone), category="transport.obstruction"),
        # Nobody can place this one yet: filed to the queue without a category.
        Call("我想问一下，这个事情不知道该找谁", "驿城区", next(phone), category="queue"),
        # The repeat caller: the same manhole, the same number, attached to call 3's ticket.
        Call("解放路中华路口那个井盖还是没人来盖", "驿城区解放路与中华路交叉口", "139 1111 2222", attach_to=2),
        Call("有人在小区里打架，拿着棍子", "确山县三里河街道", no_phone="on_behalf", expect_lead="police"),
        Call("公交车到站不停，司机态度差", "驿城区雪松大道", "010-12345678", expect_lead="transport"),
        Call("垃圾桶满了好几天没人清理", "上蔡县重阳街道", next(phone), category="urban.sanitation"),
        Call("路边有根电线杆倒了，电线掉在地上", "平舆县清河街道", next(phone)),
        Call("路灯杆被车撞歪了", "正阳县清源街道", next(phone), expect_lead="urban"),
        # A consultation answered on the phone from the knowledge base: recorded, not dispatched.
        Call("您好，我想问一下办居住证要带什么材料", "", next(phone), kb_title="居住证办理材料"),
        Call("有人在河边钓鱼掉进水里了", "汝南县汝宁街道", next(phone)),
        Call("楼道里有人放了很多煤气罐，很危险", "驿城区西园街道", next(phone), expect_lead="emergency"),
        Call("家里老人走失了，有老年痴呆", "泌阳县花园街道", "23456789", expect_phone="+8639623456789"),
    ]
    return calls


# The call a desk returns during the shift, and how the call-taker re-routes it from the queue.
RETURNED = 1  # 小区门口的路灯坏了: the urban desk says it is in the development zone
RETURN_REASON = "地址在经济开发区，不归西平县"


async def _wait_ready(page: Any) -> None:
    await page.wait_for_selector("body[data-ready=true]")
    await page.wait_for_selector("#queue[data-loaded=true]")


async def _take(page: Any, index: int, c: Call, calls: list[Call]) -> None:
    """Take one call at the console, as a call-taker would, and read out what it became."""
    await page.keyboard.press("Alt+N")  # 新来电: clears whatever the last call left
    assert await page.input_value("#description") == ""
    assert await page.is_hidden("#result")
    assert await page.is_hidden("#toast")  # no "read this number out" left from the last caller
    await page.fill("#description", c.text)
    if c.phone:
        await page.fill("#phone", c.phone)
    if c.no_phone:
        await page.select_option("#no-phone", c.no_phone)
    await page.fill("#address", c.address)
    if c.district:
        await page.fill("#district", c.district)
        await page.press("#district", "Tab")
        assert await page.input_value("#district") == "经济开发区"
    if c.kb_title:
        # 直接答复: the KB panel suggests the entry as the question is typed; the call-taker reads
        # the answer out and files the call as answered.
        entry = page.locator("#kb-list button", has_text=c.kb_title).first
        await entry.wait_for()
        await entry.click()
        await page.wait_for_selector("#kb-answer-text:not(:empty)")
        await page.click("#kb-answer")
        await page.wait_for_selector("#result[data-kind=answered]")
        c.number = (await page.inner_text("#result-number")).strip()
        assert c.number and all(c.number != earlier.number for earlier in calls[:index]), (index, c.number)
        return
    await page.wait_for_selector("#will-send")  # the router answered
    if not c.category and c.attach_to is None and await page.locator("#uncertain").count():
        # The router says it is unsure: the call-taker must choose; here they confirm its proposal.
        proposed = await page.get_attribute("#will-send [data-field=category]", "data-code")
        if proposed:
            await page.select_option("#category", proposed)
    if c.category:
        await page.select_option("#category", c.category)
    if c.attach_to is not None:
        earlier = calls[c.attach_to].number
        card = page.locator("#duplicates li", has_text=earlier)
        await card.wait_for()
        await page.locator("#history li", has_text=earlier).wait_for()  # the caller's earlier call
        if earlier in await page.locator("#duplicates li").first.inner_text():
            await page.keyboard.press("Alt+A")  # the first likely duplicate, from the keyboard
        else:
            await card.locator("button.attach").click()
        await page.wait_for_selector("#result[data-kind=attached]")
        assert (await page.inner_text("#result-number")).strip() == earlier
        assert earlier in await page.inner_text("#result-note")
        c.number = earlier
        return
    await page.keyboard.press("Control+Enter")
    await page.wait_for_selector("#result:not([hidden])")
    kind = await page.get_attribute("#result", "data-kind")
    assert kind == ("queued" if c.category == "queue" else "created"), (index, kind)
    number = (await page.inner_text("#result-number")).strip()
    assert number and all(number != earlier.number for earlier in calls[:index]), (index, number)
    c.number = number
    if index == 4:
        # A second Ctrl+Enter on a recorded call creates nothing more.
        await page.keyboard.press("Control+Enter")
        assert (await page.inner_text("#result-number")).strip() == number


async def test_a_call_takers_shift_in_one_page_load(
    http: aiohttp.ClientSession,
    make_user: UserFactory,
    open_page: PageFactory,
    pool: asyncpg.Pool,
    artifacts: Path,
) -> None:
    user, taker = await make_user("call_taker", name="夜班接警员")
    taker_id = user.id
    _, urban = await make_user("desk", agency="urban", name="城管值班台")
    page = await open_page("/console/intake", taker)
    console_errors: list[str] = []
    page.on("console", lambda message: console_errors.append(message.text) if message.type == "error" else None)
    failed: list[str] = []
    page.on(
        "response",
        lambda response: failed.append(f"{response.status} {response.url}") if response.status >= 400 else None,
    )
    async with pool.acquire() as conn:
        await load_starter(conn)
    await _wait_ready(page)
    await page.evaluate("window.shiftMarker = 'one page load'")

    calls = _calls()
    for index, c in enumerate(calls):
        await _take(page, index, c, calls)
        if index == 3:
            await _screenshot(page, artifacts, "intake-shift-attachable.png")
        if c.no_phone == "not_shown":
            await _screenshot(page, artifacts, "intake-withheld.png")
        if c.attach_to is not None:
            await _screenshot(page, artifacts, "intake-attached.png")
        if c.category == "queue":
            await page.locator("#queue-list li[data-cause=uncategorised]", has_text=c.number).wait_for()
        if index == RETURNED + 5:
            # Meanwhile a desk returns an earlier ticket: it appears on the queue by itself.
            lead = await pool.fetchval(
                "SELECT a.id FROM assignments a JOIN tickets t ON t.id = a.ticket_id WHERE t.number = $1",
                calls[RETURNED].number,
            )
            status, _ = await call(http, "POST", f"/api/v1/assignments/{lead}/return", urban, {"reason": RETURN_REASON})
            assert status == 200
            item = page.locator("#queue-list li[data-cause=returned]", has_text=calls[RETURNED].number)
            await item.wait_for()
            assert RETURN_REASON in await item.inner_text()
            await _screenshot(page, artifacts, "intake-queue.png", full_page=True)
            # Re-route it: the same category, the district typed by name.
            await item.locator("button.reroute").click()
            await page.fill("#reroute-district", "开发区")
            await page.press("#reroute-district", "Tab")
            assert await page.input_value("#reroute-district") == "经济开发区"
            await _screenshot(page, artifacts, "intake-reroute.png", element="#queue")
            await page.press("#reroute-district", "Enter")
            await item.wait_for(state="detached")

    assert await page.evaluate("window.shiftMarker") == "one page load"
    await page.keyboard.press("Alt+N")
    await _screenshot(page, artifacts, "intake-shift-end.png", full_page=True)
    assert console_errors == [], (console_errors, failed)
    assert page.js_errors == [], page.js_errors

    # One ticket per call that made one, one report per call attached.
    created = [c for c in calls if c.attach_to is None]
    tickets = {
        r["number"]: r
        for r in await pool.fetch(
            """SELECT t.id, t.number, t.status, t.category, t.district, t.caller_phone, t.caller_no_phone_reason,
                      (SELECT a.agency FROM assignments a WHERE a.ticket_id = t.id AND a.role = 'lead'
                       AND a.state NOT IN ('returned', 'transferred', 'released')) AS lead
               FROM tickets t WHERE t.created_by = $1""",
            taker_id,
        )
    }
    assert len(calls) >= 30
    assert sorted(tickets) == sorted(c.number for c in created)
    for c in created:
        ticket = tickets[c.number]
        if c.category == "queue":
            assert (ticket["status"], ticket["category"], ticket["lead"]) == ("new", None, None)
            continue
        if c.kb_title:
            assert (ticket["status"], ticket["lead"]) == ("answered", None), (c.text, ticket["status"])
            continue
        assert ticket["status"] == "dispatched", (c.text, ticket["status"])
        if c.expect_lead:
            assert ticket["lead"] == c.expect_lead, (c.text, ticket["lead"])
        if c.category:
            assert ticket["category"] == c.category
        if c.no_phone:
            assert (ticket["caller_phone"], ticket["caller_no_phone_reason"]) == (None, c.no_phone)
        if c.expect_phone:
            assert ticket["caller_phone"] == c.expect_phone
        if c.expect_district:
            assert ticket["district"] == c.expect_district
    rerouted = tickets[calls[RETURNED].number]
    assert (rerouted["lead"], rerouted["district"]) == ("urban", "kaifaqu")
    for c in calls:
        if c.attach_to is not None:
            reports = await pool.fetch("SELECT caller_phone FROM reports WHERE ticket_id = $1", tickets[c.number]["id"])
            assert [r["caller_phone"] for r in reports] == ["+8613911112222"]
    attached = sum(1 for c in calls if c.attach_to is not None)
    assert await pool.fetchval("SELECT count(*) FROM reports WHERE created_by = $1", taker_id) == attached

    # Nothing sits in new without being on the queue, and the queue holds nothing else.
    _, queue = await call(http, "GET", "/api/v1/queue?limit=500", taker)
    in_new = {r["number"] for r in await pool.fetch("SELECT number FROM tickets WHERE status = 'new'")}
    assert {item["ticket"]["number"] for item in queue["items"]} == in_new
    assert in_new == {c.number for c in calls if c.category == "queue"}


async def _screenshot(
    page: Any, artifacts: Path, name: str, *, element: str | None = None, full_page: bool = False
) -> None:
    """A screenshot of the page (or of one element), without the toast over it."""
    await page.evaluate("document.getElementById('toast').hidden = true")
    path = artifacts / name
    if element:
        await page.locator(element).screenshot(path=str(path))
    else:
        await page.screenshot(path=str(path), full_page=full_page)
    keep_screenshot(path, name)
