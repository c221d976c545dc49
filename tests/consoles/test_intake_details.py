"""What a night shift notices at the intake console: validation messages in the console's
language (never pydantic's English), the router's doubts shown as warnings, the matched place
under the address, reasons naming categories in the console's language, and the 待分派 queue on
the supervisor's dashboard too."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory

expect = pytest.importorskip("playwright.async_api").expect


async def _ready(page: Any) -> None:
    await page.wait_for_selector("body[data-ready=true]")


async def _fill(page: Any, description: str, phone: str | None, address: str) -> None:
    await page.fill("#description", description)
    if phone is not None:
        await page.fill("#phone", phone)
    await page.fill("#address", address)
    await page.wait_for_selector("#will-send")


async def test_validation_messages_are_chinese_first_and_english_in_english_mode(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    page = await open_page("/console/intake", taker)
    await _ready(page)
    await _fill(page, "路灯不亮了", None, "驿城区解放路")
    await page.keyboard.press("Control+Enter")
    assert "请填写来电号码，或选择无号码的原因" in await page.inner_text("#form-error")
    await page.fill("#phone", "110")
    await page.keyboard.press("Control+Enter")
    await page.wait_for_selector("#phone[aria-invalid=true]")
    error = await page.inner_text("#form-error")
    assert "来电号码：号码无效" in error
    assert "emergency" not in error and "Value error" not in error
    await page.keyboard.press("Alt+L")  # English
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#form-error")).to_contain_text("Caller's phone")
    assert "not a valid number" in await page.inner_text("#form-error")
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 0
    assert page.js_errors == []


async def test_the_routers_doubts_and_place_are_shown_and_an_unsure_category_must_be_chosen(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    page = await open_page("/console/intake", taker)
    await _ready(page)
    extra: dict[str, Any] = {}

    async def with_extra(route: Any) -> None:
        # The router's newer fields (uncertain, place) added to the real /classify answer.
        response = await route.fetch()
        body = await response.json()
        await route.fulfill(response=response, body=json.dumps(body | extra))

    await page.route("**/api/v1/classify", with_extra)
    extra.update(
        uncertain=True,
        place={"name": "驻马店市中心医院", "district": "yicheng", "lat": 33.0, "lon": 114.0},
    )
    await _fill(page, "这边有人需要帮忙", "13800000000", "中心医院门口")
    await page.wait_for_selector("#uncertain")
    assert "系统无法确定类别" in await page.inner_text("#uncertain")
    assert await page.inner_text("#place") == "匹配地点：驻马店市中心医院（驿城区）"
    await page.keyboard.press("Control+Enter")
    assert "请选择事项类别" in await page.inner_text("#form-error")
    assert await page.get_attribute("#category", "aria-invalid") == "true"
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 0
    await page.select_option("#category", "health.emergency")
    assert "急症、急救" in await page.inner_text("#will-send")
    await page.keyboard.press("Control+Enter")
    await page.wait_for_selector("#result[data-kind=created]")
    assert await pool.fetchval("SELECT category FROM tickets") == "health.emergency"

    # A confident router with low confidence still warns; no place, no line.
    await page.keyboard.press("Alt+N")
    extra.clear()
    extra.update(uncertain=False, confidence=0.31, place=None)
    await _fill(page, "路灯不亮了", "13800000001", "西平县人民路")
    await page.wait_for_selector("#low-confidence")
    assert "31%" in await page.inner_text("#low-confidence")
    assert await page.is_hidden("#place")
    assert await page.locator("#uncertain").count() == 0
    assert page.js_errors == []


async def test_reasons_and_overrides_read_in_the_consoles_language(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    page = await open_page("/console/intake", taker)
    await _ready(page)
    await page.keyboard.press("Alt+L")
    await _fill(page, "闻到很浓的煤气味，好像燃气泄漏了", "13800000000", "驿城区雪松街道")
    reasons = await page.inner_text("#suggestion .reasons")
    assert "Gas leak" in reasons and "燃气泄漏" not in reasons and "emergency.gas_leak" not in reasons
    await page.select_option("#priority", "P2")
    assert "P2" in await page.inner_text("#will-send [data-field=priority]")
    assert "Suggested" in await page.inner_text("#suggestion")  # what the router said, beside it


async def test_the_supervisor_sees_the_queue_live(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, supervisor = await make_user("supervisor")
    _, queued = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(queue=True, category=None))
    page = await open_page("/console/supervisor", supervisor)
    await _ready(page)
    await page.locator("#queue-list li[data-cause=uncategorised]", has_text=queued["number"]).wait_for()
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"]))
    lead = ticket["assignments"][0]["id"]
    await call(http, "POST", f"/api/v1/assignments/{lead}/return", police, {"reason": "不属本辖区"})
    returned = page.locator("#queue-list li[data-cause=returned]", has_text=ticket["number"])
    await returned.wait_for()
    assert "不属本辖区" in await returned.inner_text()
    assert page.js_errors == []
