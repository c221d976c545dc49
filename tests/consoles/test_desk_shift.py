"""A night shift at one desk, compressed: many assignments on short service levels, work long
overdue, a network drop, a reload, English on a narrow window. Asserts what the desk must be
able to rely on and keeps screenshots of it (docs/consoles.md)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import PHONE, PageFactory, keep_screenshot

expect = pytest.importorskip("playwright.async_api").expect

PRIORITIES = ("P1", "P2", "P3", "P4")
CATEGORIES = {"P1": "police.violence", "P2": "police.theft", "P3": "police.public_order", "P4": "police.dispute"}

# Cells that cut their text off: wider content than box, in a queue row.
CLIPPED = """() => [...document.querySelectorAll('.queue tbody td, #alarm li, .detail-col button')]
    .filter(e => e.offsetParent !== null && e.scrollWidth > e.clientWidth + 1)
    .map(e => e.textContent.trim())"""

# Within each priority, the deadline running now, in screen order.
ORDER = """() => [...document.querySelectorAll('#rows tr')].map(r => r.dataset.assignment)"""


async def shot(page: Any, artifacts: Path, name: str) -> None:
    path = artifacts / name
    await page.screenshot(path=str(path))
    keep_screenshot(path, name)


@pytest.mark.slow
async def test_a_compressed_night_shift_at_the_desk(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, pool: asyncpg.Pool, artifacts: Path
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    _, police_token = await make_user("desk", agency="police", name="驿城派出所值班台")
    for priority, ack, resolve in (("P1", 60, 600), ("P2", 120, 1200), ("P3", 300, 3600), ("P4", 600, 7200)):
        body = {"priority": priority, "ack_seconds": ack, "resolve_seconds": resolve}
        assert (await call(http, "PUT", "/api/v1/service-levels", admin, body))[0] in (200, 201)

    tickets = []
    for i in range(24):
        priority = PRIORITIES[i % 4]
        agencies = ["police", "health"] if i % 6 == 0 else ["police"]
        body = ticket_body(
            description=f"第{i + 1}起：{'燃气泄漏，楼道有气味' if priority == 'P1' else '群众求助'}",
            priority=priority,
            category=CATEGORIES[priority],
            agencies=agencies,
            caller={"phone": f"1390000{i:04d}"},
            location={"address": f"驿城区解放路{i + 1}号院{i % 5 + 1}单元", "district": "驿城区"},
        )
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
        assert status == 201, ticket
        tickets.append(ticket)
    # The gas leak that waited 1 h 16 min, and older work still open from the day before.
    gas = tickets[0]["assignments"][0]["id"]
    await pool.execute("UPDATE assignments SET ack_due = now() - interval '76 minutes' WHERE id = $1", gas)
    await pool.execute(
        "UPDATE assignments SET ack_due = now() - interval '31 hours' WHERE id = $1", tickets[2]["assignments"][0]["id"]
    )

    desk = await open_page("/console/desk", police_token)
    await desk.wait_for_selector("body[data-ready=true]")
    await expect(desk.locator("#rows tr")).to_have_count(24)
    assert await desk.locator("#perf").count() == 0  # no developer figures on an operator's screen
    assert "ms" not in await desk.inner_text("main")
    # Whether this browser lets sound start before a click varies; test_desk_alarms.py asserts the
    # sound-blocked banner itself. Here it only has to be dealt with as an operator would.
    await expect(desk.locator("body")).to_have_attribute("data-sound", re.compile("blocked|on"))
    await expect(desk.locator("body")).to_have_attribute("data-alarm", "ringing")
    rows = desk.locator("#rows tr")
    assert await rows.first.get_attribute("data-assignment") == str(gas)  # the P1 due first
    assert "1:16:" in await rows.first.locator(".due").inner_text()
    assert await rows.first.get_attribute("data-due") == "over"

    # Within every priority, the deadline due first comes first.
    status, listed = await call(http, "GET", "/api/v1/tickets?agency=police&limit=200", taker)
    due = {
        str(a["id"]): (t["priority"], a["ack_due"])
        for t in listed["items"]
        for a in t["assignments"]
        if a["agency"] == "police"
    }
    shown = [due[a] for a in await desk.evaluate(ORDER)]
    assert shown == sorted(shown)

    if await desk.locator("#sound-blocked").is_visible():
        await desk.click("#sound-blocked button")
    await expect(desk.locator("#sound-blocked")).to_be_hidden()
    await rows.first.click()
    await desk.keyboard.press("a")
    status, _ = await call(
        http, "POST", f"/api/v1/tickets/{tickets[0]['id']}/reports", taker, {"description": "有人说是2单元，气味很重"}
    )
    assert status == 201
    await expect(desk.locator("#detail .reports")).to_contain_text("2单元", timeout=15_000)
    await desk.keyboard.press("n")
    await desk.fill("#dialog-text", "已出警，预计10分钟到")
    await desk.keyboard.press("Control+Enter")
    await expect(desk.locator("#detail .note-list")).to_contain_text("已出警")
    await shot(desk, artifacts, "desk-shift.png")

    # The network drops; work arrives meanwhile; the desk catches up when it is back.
    await desk.context.set_offline(True)
    await expect(desk.locator("#offline")).to_be_visible()
    body = ticket_body(description="夜间有人撬车门", priority="P1", category="police.theft", agencies=["police"])
    status, missed = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 201
    await desk.context.set_offline(False)
    await expect(desk.locator("#offline")).to_be_hidden(timeout=20_000)
    await desk.locator("#rows tr", has_text=missed["number"]).wait_for()
    missed_key = f"p1:{missed['assignments'][0]['id']}"
    await desk.wait_for_function(f"() => document.body.dataset.alarmKeys.split(' ').includes('{missed_key}')")

    # A reload (a new session on the same PC): the same alarms, the same order.
    keys_before = set((await desk.get_attribute("body", "data-alarm-keys") or "").split())
    await desk.reload()
    await desk.wait_for_selector("body[data-ready=true]")
    await expect(desk.locator("#rows tr")).to_have_count(25)
    keys_after = set((await desk.get_attribute("body", "data-alarm-keys") or "").split())
    assert {k for k in keys_before if k.startswith("p1:")} == {k for k in keys_after if k.startswith("p1:")}
    assert await desk.evaluate(CLIPPED) == []

    # English on a narrow window: nothing is cut off.
    await desk.keyboard.press("Alt+l")
    await desk.set_viewport_size(PHONE)
    await rows.first.click()
    await desk.wait_for_selector("#detail .ticket-detail")
    assert await desk.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    assert "overdue 1d 7h" in (await desk.locator("#rows tr[data-due=over] .due").first.text_content() or "")
    assert await desk.evaluate(CLIPPED) == []
    await shot(desk, artifacts, "desk-en-narrow.png")
    await desk.set_viewport_size({"width": 1366, "height": 768})
    assert await desk.evaluate(CLIPPED) == []
    await shot(desk, artifacts, "desk-en.png")

    await desk.click("#tab-handled")
    await desk.keyboard.press("Alt+l")
    await expect(desk.locator("#handled-empty")).to_be_visible()
    assert desk.js_errors == []
