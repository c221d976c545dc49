"""Stored script payloads in every field a console renders, in headless Chromium: the consoles
show them as text and nothing runs (no ``window.__xss``, no dialog, no navigation away)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.consoles.conftest import PHONE, PageFactory

# Each payload sets window.__xss to its own number if it ever runs.
PAYLOADS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=2">',
    "<svg onload=window.__xss=3>",
    "javascript:window.__xss=4",
    '"><iframe srcdoc="<script>parent.__xss=5</script>">',
    "<a href=javascript:window.__xss=6>点我</a>",
    "{{constructor.constructor('window.__xss=7')()}}",
    "\u202e<b onmouseover=window.__xss=8>反转</b>",
]
ALL = " ".join(PAYLOADS)
PHONE_NUMBER = "13712345678"


# Runs before any page script: a dialog any payload opens is remembered, not shown.
PROBE = (
    "window.__dialogs = [];"
    " for (const f of ['alert', 'confirm', 'prompt']) { window[f] = (m) => window.__dialogs.push(String(m)); }"
)


async def _assert_inert(page: Any, shown: str) -> None:
    """Nothing ran, no dialog opened, and the payload is on screen as text."""
    # Let image errors and loads fire: every image settled (a busy machine takes its time),
    # then a moment for the handlers queued behind them.
    await page.wait_for_function("() => [...document.images].every((image) => image.complete)")
    await page.wait_for_timeout(300)
    assert await page.evaluate("() => window.__xss") is None
    assert await page.evaluate("() => window.__dialogs") == []
    assert page.dialogs == []
    text = await page.inner_text("body")
    assert shown in text, (shown, text[:2000])
    assert page.js_errors == [], page.js_errors


@pytest.fixture
async def payload_tickets(http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool) -> dict[str, Any]:
    """A police ticket with payloads in its text, caller, address and notes (left open and
    overdue), and a resolved urban one with a payload resolution (for the citizens' page)."""
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, urban = await make_user("desk", agency="urban")
    body = ticket_body(
        description=f"有人打架 {ALL}",
        caller={"phone": PHONE_NUMBER, "name": PAYLOADS[0]},
        location={"address": f"驿城区 {PAYLOADS[1]}", "district": "驿城区"},
        agencies=["police"],
    )
    status, open_ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 201, open_ticket
    lead = open_ticket["assignments"][0]["id"]
    for note in (
        {"kind": "note", "text": ALL},
        {"kind": "on_scene", "text": PAYLOADS[2], "data": {"unit": PAYLOADS[3][:100]}},
    ):
        status, _ = await call(http, "POST", f"/api/v1/assignments/{lead}/notes", police, note)
        assert status == 201
    async with pool.acquire() as conn:  # overdue now, so that the supervisor lists it
        await conn.execute("UPDATE assignments SET ack_due = now() - interval '1 hour' WHERE id = $1", lead)

    light = ticket_body(
        description=f"路灯不亮 {PAYLOADS[4]}",
        category="urban.street_light",
        priority="P4",
        agencies=["urban"],
        caller={"phone": PHONE_NUMBER, "name": PAYLOADS[5]},
    )
    status, resolved = await call(http, "POST", "/api/v1/tickets", taker, light)
    assert status == 201
    assignment = resolved["assignments"][0]["id"]
    for action, move in (("acknowledge", {}), ("start", {}), ("resolve", {"resolution": f"已修复 {ALL}"})):
        status, _ = await call(http, "POST", f"/api/v1/assignments/{assignment}/{action}", urban, move)
        assert status == 200, action
    return {"open": open_ticket, "resolved": resolved, "taker": taker, "police": police}


async def _open(open_page: PageFactory, path: str, token: str | None = None, **kwargs: Any) -> Any:
    """``path`` in a signed-in page that records dialogs and what a payload would set."""
    page = await open_page("/console/", token, **kwargs)
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    await page.add_init_script(PROBE)
    await page.goto(path)
    await page.wait_for_selector("body[data-ready=true]")
    return page


async def test_the_desk_console_shows_stored_payloads_as_text(
    open_page: PageFactory, payload_tickets: dict[str, Any], artifacts: Path
) -> None:
    page = await _open(open_page, "/console/desk", payload_tickets["police"])
    row = page.locator("#rows tr", has_text=payload_tickets["open"]["number"])
    await row.click()
    await page.wait_for_selector("#timeline li")
    await page.screenshot(path=str(artifacts / "stored-scripts-desk.png"), full_page=True)
    await _assert_inert(page, PAYLOADS[0])
    assert PAYLOADS[1] in await page.inner_text("#rows")  # the address, in the list too


async def test_the_intake_console_shows_a_callers_history_with_payloads_as_text(
    open_page: PageFactory, payload_tickets: dict[str, Any]
) -> None:
    page = await _open(open_page, "/console/intake", payload_tickets["taker"])
    await page.fill("#description", f"又有人打架 {PAYLOADS[1]}")
    await page.fill("#phone", PHONE_NUMBER)
    await page.fill("#address", "驿城区")
    await page.press("#address", "Tab")
    await page.wait_for_selector("#history li")
    await _assert_inert(page, payload_tickets["open"]["number"])
    assert "window.__xss" in await page.inner_text("#history")


async def test_the_supervisor_console_lists_an_overdue_payload_ticket_as_text(
    open_page: PageFactory, make_user: UserFactory, payload_tickets: dict[str, Any]
) -> None:
    _, supervisor = await make_user("supervisor")
    page = await _open(open_page, "/console/supervisor", supervisor)
    await page.get_by_text(payload_tickets["open"]["number"]).first.wait_for(timeout=20_000)
    await _assert_inert(page, payload_tickets["open"]["number"])


async def test_the_citizens_status_page_shows_a_payload_resolution_as_text(
    open_page: PageFactory, payload_tickets: dict[str, Any]
) -> None:
    ticket = payload_tickets["resolved"]
    page = await _open(open_page, "/status", viewport=PHONE)
    await page.fill("#number", ticket["number"])
    await page.fill("#token", ticket["tracking_token"])
    await page.press("#token", "Enter")
    await page.wait_for_selector("#ticket:not([hidden])")
    await _assert_inert(page, "<script>window.__xss=1</script>")
