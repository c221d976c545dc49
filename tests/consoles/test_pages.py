"""The four console pages come out of one shell: each has the shared head and header once, its
own title, styles and scripts, the security headers, and an ETag that answers 304. Plain HTTP
against the shared test server."""

from __future__ import annotations

import re

import aiohttp
import pytest

from dispatch.api.console import PAGES
from tests.conftest import UserFactory
from tests.consoles.test_sessions import session_cookie

OWN_SCRIPT = {"intake": "intake.js", "desk": "desk.js", "supervisor": "supervisor.js", "kb": "kb.js"}
TITLE_KEY = {"intake": "intake.title", "desk": "desk.title", "supervisor": "sup.title", "kb": "kbpage.title"}


@pytest.mark.parametrize("name", sorted(PAGES))
async def test_a_console_page_is_its_own_part_inside_the_shared_shell(
    http: aiohttp.ClientSession, make_user: UserFactory, name: str
) -> None:
    _, token = await make_user("admin")
    cookie = await session_cookie(http, token)
    async with http.get(f"/console/{name}", headers=cookie) as response:
        assert response.status == 200
        assert response.content_type == "text/html" and response.charset == "utf-8"
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-cache"
        etag = response.headers["ETag"]
        html = await response.text()
    assert html.startswith("<!doctype html>") and html.rstrip().endswith("</html>")
    assert "${" not in html
    for shared in ('<header class="bar">', 'id="lang-toggle"', 'id="sign-out"', 'id="toast"', 'id="announce-urgent"'):
        assert html.count(shared) == 1, shared
    assert f'<body data-console="{name}">' in html
    assert re.search(rf'<title data-i18n="{re.escape(TITLE_KEY[name])}">[^<]+</title>', html)
    assert f'src="/console/assets/js/{OWN_SCRIPT[name]}"' in html
    assert html.index("css/console.css") < html.index("</head>") < html.index('<main id="main"')

    async with http.get(f"/console/{name}", headers={**cookie, "If-None-Match": etag}) as again:
        assert again.status == 304
        assert again.headers["ETag"] == etag


async def test_the_page_parts_are_not_served_as_assets(http: aiohttp.ClientSession) -> None:
    for path in ("/console/assets/desk.html", "/console/assets/console-shell.html"):
        async with http.get(path) as response:
            assert response.status == 404, path
    async with http.get("/console/assets/js/desk.js") as response:
        assert response.status == 200
