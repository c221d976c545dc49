"""The knowledge base in headless Chromium: a call-taker signs in with user name and password,
the intake console's KB panel suggests the entry while the description is typed, and 直接答复
files the consultation as answered; supervisors manage entries on /console/kb."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import asyncpg

from dispatch.access.passwords import hash_password
from dispatch.knowledge.transfer import load_starter
from dispatch.store.users import set_password
from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory, keep_screenshot

PASSWORD = "night-shift-2026"


async def _sign_in_with_password(page: Any, name: str, password: str) -> None:
    await page.wait_for_selector("body[data-ready='true']")
    await page.fill("#username", name)
    await page.fill("#password", password)
    await page.press("#password", "Enter")


async def test_password_sign_in_then_a_consultation_answered_from_the_kb_panel(
    open_page: PageFactory, make_user: UserFactory, pool: asyncpg.Pool, artifacts: Path
) -> None:
    taker, _ = await make_user("call_taker", name="李娜")
    async with pool.acquire() as conn:
        await set_password(conn, taker.name, hash_password(PASSWORD))
        await load_starter(conn)
        entry_id = await conn.fetchval("SELECT id FROM kb_entries WHERE title = '居住证办理材料'")
    page = await open_page("/console/?next=/console/intake")
    await _sign_in_with_password(page, "李娜", "wrong-password")
    await page.wait_for_selector("#signin-error:has-text('用户名或密码错误')")
    await _sign_in_with_password(page, "李娜", PASSWORD)
    await page.wait_for_url("**/console/intake")
    await page.wait_for_selector("body[data-ready='true']")

    await page.click("#description")
    await page.keyboard.type("您好，我想问一下办居住证要带什么材料", delay=20)
    await page.fill("#phone", "13800000002")
    pick = page.locator(f"#kb-list button[data-entry='{entry_id}']")
    await pick.wait_for()
    await pick.click()
    await page.wait_for_selector("#kb-answer-text:has-text('身份证原件')")
    await page.screenshot(path=str(artifacts / "kb-panel.png"))
    keep_screenshot(artifacts / "kb-panel.png", "kb-panel.png")
    await page.click("#kb-answer")
    number = (await page.locator("#kb-result-number").inner_text()).strip()
    code = (await page.locator("#kb-result-code").inner_text()).strip()
    await page.screenshot(path=str(artifacts / "kb-panel-answered.png"))
    keep_screenshot(artifacts / "kb-panel-answered.png", "kb-panel-answered.png")

    row = await pool.fetchrow(
        "SELECT status, kb_entry_id, kb_version, short_code, caller_phone FROM tickets WHERE number = $1", number
    )
    assert (row["status"], row["kb_entry_id"], row["kb_version"]) == ("answered", entry_id, 1)
    assert row["short_code"] == code and row["caller_phone"] == "+8613800000002"
    assert await pool.fetchval("SELECT count(*) FROM assignments") == 0
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 1
    assert page.js_errors == []


async def test_a_supervisor_creates_edits_and_retires_an_entry_on_the_kb_page(
    open_page: PageFactory, make_user: UserFactory, pool: asyncpg.Pool, artifacts: Path
) -> None:
    _, token = await make_user("supervisor")
    async with pool.acquire() as conn:
        await load_starter(conn)
    page = await open_page("/console/kb", token)
    await page.wait_for_selector("body[data-ready='true']")
    assert await page.locator("nav a[data-console='kb'][aria-current='page']").count() == 1
    await page.fill("#kb-title", "市民中心办事时间")
    await page.fill("#kb-answer", "市民中心工作日 9:00-17:30 办公，周六上午值班。")
    await page.fill("#kb-keywords", "市民中心，办事时间，几点下班")
    await page.select_option("#kb-agency", "urban")
    await page.click("#kb-save")
    await page.wait_for_selector("#kb-form-heading:has-text('第 1 版')")
    await page.fill("#kb-answer", "市民中心工作日 9:00-17:30 办公，周六全天值班。")
    await page.fill("#kb-change-note", "周六改为全天")
    await page.click("#kb-save")
    await page.wait_for_selector("#kb-form-heading:has-text('第 2 版')")
    await page.wait_for_selector("#kb-versions li:has-text('周六改为全天')")
    await page.screenshot(path=str(artifacts / "kb-page.png"), full_page=True)
    keep_screenshot(artifacts / "kb-page.png", "kb-page.png")
    versions = await pool.fetch(
        "SELECT v.version, v.answer FROM kb_versions v JOIN kb_entries k ON k.id = v.entry_id "
        "WHERE k.title = '市民中心办事时间' ORDER BY v.version"
    )
    assert [v["version"] for v in versions] == [1, 2] and "周六上午" in versions[0]["answer"]
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click("#kb-retire")
    await page.wait_for_selector("#kb-form-heading:has-text('第 3 版')")
    assert await pool.fetchval("SELECT retired_at IS NOT NULL FROM kb_entries WHERE title = '市民中心办事时间'")
    assert page.js_errors == []


async def test_call_takers_get_no_kb_link_in_the_navigation(open_page: PageFactory, make_user: UserFactory) -> None:
    _, token = await make_user("call_taker")
    page = await open_page("/console/intake", token)
    await page.wait_for_selector("body[data-ready='true']")
    assert await page.locator("nav a[data-console='kb']").count() == 0
