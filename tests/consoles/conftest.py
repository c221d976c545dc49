"""Fixtures for the console tests: Debian's Chromium driven by Playwright (never a browser
that Playwright downloads), pages signed in through the real sign-in endpoint."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer

CHROMIUM = Path("/usr/bin/chromium")
HAVE_CHROMIUM = CHROMIUM.exists()
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"  # git-ignored
DESKTOP = {"width": 1366, "height": 768}  # the common office monitor
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the session."""
    if not HAVE_CHROMIUM:
        message = "Debian's chromium is not installed (.ci/run installs it: apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a skipped console suite would pass unseen
        pytest.skip(message)
    async_api = pytest.importorskip("playwright.async_api")
    playwright = await async_api.async_playwright().start()
    try:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        await chromium.close()
    finally:
        await playwright.stop()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


PageFactory = Callable[..., Awaitable[Any]]


@pytest.fixture
async def open_page(browser: Any, server: TestServer) -> AsyncIterator[PageFactory]:
    """``await open_page(path, token=None, viewport=DESKTOP)``: a page in its own browser
    context (own cookies, like a separate PC), signed in with ``token`` when given."""
    contexts: list[Any] = []
    base = str(server.make_url("/")).rstrip("/")

    async def open_(path: str, token: str | None = None, viewport: dict[str, int] | None = None) -> Any:
        context = await browser.new_context(
            base_url=base, viewport=viewport or DESKTOP, locale="zh-CN", timezone_id="Asia/Shanghai"
        )
        contexts.append(context)
        if token is not None:
            response = await context.request.post(
                "/console/session", data={"token": token}, headers={"Origin": base}, fail_on_status_code=True
            )
            assert response.ok
        page = await context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.js_errors = errors  # checked by tests that care
        # Set when the page opens its first websocket. A test can wait for it without running
        # script in the page: Playwright's own in-page waits count as a user gesture, and audio
        # created after one starts unblocked (tests of the sound-blocked banner depend on this).
        page.websocket_opened = asyncio.Event()
        page.on("websocket", lambda _socket: page.websocket_opened.set())
        await page.goto(path)
        return page

    yield open_
    for context in contexts:
        await context.close()


def keep_screenshot(source: Path, name: str) -> None:
    """Copy a screenshot into docs/consoles/ when asked (DISPATCH_UPDATE_DOCS_SCREENSHOTS=1)."""
    if os.environ.get("DISPATCH_UPDATE_DOCS_SCREENSHOTS") == "1":
        target = Path(__file__).resolve().parents[2] / "docs" / "consoles" / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
