"""Chinese first, English on request: the switch changes every label, including what scripts
drew, and the choice survives a reload."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from tests.conftest import UserFactory
from tests.consoles.conftest import PageFactory, keep_screenshot


async def test_the_language_switch_changes_every_label_and_persists(
    http: aiohttp.ClientSession, make_user: UserFactory, open_page: PageFactory, artifacts: Path
) -> None:
    _, token = await make_user("call_taker", name="Wang Fang")
    page = await open_page("/console/intake", token)
    await page.wait_for_selector("body[data-ready=true]")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    await page.fill("#description", "超市门口有两个人打架，其中一人头破血流")
    await page.wait_for_selector("#suggestion dl")

    await page.keyboard.press("Alt+l")  # the keyboard switch; the header button does the same
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.inner_text("#form-title") == "New request"
    assert "Fights and violence" in await page.inner_text("#suggestion")  # drawn by script, redrawn
    assert await page.inner_text("label[for=phone]") == "Caller's phone"
    path = artifacts / "intake-en.png"
    await page.screenshot(path=str(path))
    keep_screenshot(path, "intake-en.png")

    await page.reload()
    await page.wait_for_selector("body[data-ready=true]")
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.inner_text("#lang-toggle") == "中文"
    await page.click("#lang-toggle")
    assert await page.get_attribute("html", "lang") == "zh-CN"
    assert page.js_errors == []
