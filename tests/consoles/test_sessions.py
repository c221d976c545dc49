"""Console sessions: the cookie's flags, what it authenticates, the CSRF rule, sign-out, and
the pages' security headers. Plain HTTP against the shared test server."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import asyncpg
import pytest
import websockets
from aiohttp.test_utils import TestServer
from pydantic import SecretStr

from dispatch.access.sessions import COOKIE_NAME, parse_session, sign_session, verify_session
from dispatch.runtime.app import create_app
from dispatch.runtime.settings import Settings
from dispatch.store.users import hash_token, rotate_token
from tests.api_helpers import call
from tests.conftest import UserFactory


async def sign_in(http: aiohttp.ClientSession, token: str, **headers: str) -> tuple[int, SimpleCookie, dict[str, Any]]:
    async with http.post("/console/session", json={"token": token}, headers=headers) as response:
        cookie: SimpleCookie = SimpleCookie()
        for header in response.headers.getall("Set-Cookie", []):
            cookie.load(header)
        return response.status, cookie, await response.json()


async def session_cookie(http: aiohttp.ClientSession, token: str) -> dict[str, str]:
    """The Cookie header of a fresh session (aiohttp's jar ignores cookies of IP hosts)."""
    status, cookie, _ = await sign_in(http, token)
    assert status == 200
    return {"Cookie": f"{COOKIE_NAME}={cookie[COOKIE_NAME].value}"}


BROWSER = {"X-Requested-With": "dispatch"}
CLASSIFY = {"text": "小区门口有人打架"}


async def test_sign_in_sets_an_httponly_samesite_strict_cookie_for_one_shift(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("desk", agency="police")
    status, cookie, body = await sign_in(http, token)
    assert status == 200
    morsel = cookie[COOKIE_NAME]
    assert morsel["httponly"] is True
    assert morsel["samesite"] == "Strict"
    assert morsel["path"] == "/"
    assert morsel["max-age"] == str(13 * 3600)  # a 12-hour shift and its hand-over
    assert not morsel["secure"]  # plain http here; see the next test
    assert token not in morsel.value  # the cookie never carries the API token
    assert body["user"]["role"] == "desk"
    assert body["home"] == "/console/desk"


async def test_the_cookie_is_secure_when_the_request_came_over_https(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("call_taker")
    _, cookie, _ = await sign_in(http, token, **{"X-Forwarded-Proto": "https"})
    assert cookie[COOKIE_NAME]["secure"] is True


async def test_a_wrong_token_signs_nobody_in(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    status, cookie, body = await sign_in(http, "ms_not-a-real-token")
    assert status == 401
    assert body["error"]["code"] == "invalid_token"
    assert COOKIE_NAME not in cookie


async def test_a_partner_has_no_console(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, token = await make_user("partner")
    status, cookie, body = await sign_in(http, token)
    assert (status, body["error"]["code"]) == (403, "no_console")
    assert COOKIE_NAME not in cookie


async def test_the_cookie_authenticates_api_reads(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    user, token = await make_user("supervisor")
    status, me = await call(http, "GET", "/api/v1/me", headers=await session_cookie(http, token))
    assert status == 200
    assert me["name"] == user.name


async def test_a_cookie_authenticated_post_without_the_header_is_refused(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("call_taker")
    cookie = await session_cookie(http, token)
    status, body = await call(http, "POST", "/api/v1/classify", json=CLASSIFY, headers=cookie)
    assert status == 403
    assert body["error"]["code"] == "csrf_header_missing"


async def test_a_cookie_authenticated_post_with_the_header_is_accepted(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("call_taker")
    cookie = await session_cookie(http, token)
    status, body = await call(http, "POST", "/api/v1/classify", json=CLASSIFY, headers=cookie | BROWSER)
    assert status == 200
    assert body["agency"] == "police"


async def test_a_cookie_request_from_another_origin_is_refused(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("call_taker")
    cookie = await session_cookie(http, token)
    headers = cookie | BROWSER | {"Origin": "https://evil.example"}
    status, body = await call(http, "GET", "/api/v1/me", headers=headers)
    assert (status, body["error"]["code"]) == (403, "cross_origin")


async def test_bearer_token_requests_need_no_browser_header(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("call_taker")
    status, _ = await call(http, "POST", "/api/v1/classify", token, json=CLASSIFY)
    assert status == 200


async def test_sign_out_tells_the_browser_to_forget_the_cookie(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("desk", agency="health")
    async with http.delete("/console/session", headers=await session_cookie(http, token)) as response:
        assert response.status == 200
        cookie: SimpleCookie = SimpleCookie()
        cookie.load(response.headers["Set-Cookie"])
    assert cookie[COOKIE_NAME].value == ""
    assert cookie[COOKIE_NAME]["max-age"] == "0"


async def test_rotating_the_token_ends_its_sessions(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    user, token = await make_user("call_taker")
    cookie = await session_cookie(http, token)
    async with pool.acquire() as conn:
        assert await rotate_token(conn, user.name)
    status, body = await call(http, "GET", "/api/v1/me", headers=cookie)
    assert (status, body["error"]["code"]) == (401, "session_expired")


async def test_a_cookie_naming_another_user_is_refused(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    me, token = await make_user("call_taker")
    admin, _ = await make_user("admin")
    claim = parse_session((await session_cookie(http, token))["Cookie"].split("=", 1)[1])
    assert claim is not None and claim.user_id == me.id
    # A cookie naming the admin, signed with the key this user could know: its own token's hash.
    signature = sign_session(admin.id, hash_token(token), claim.expires_at).split(".")[3]
    forged = f"v1.{admin.id}.{claim.expires_at}.{signature}"
    status, _ = await call(http, "GET", "/api/v1/me", headers={"Cookie": f"{COOKIE_NAME}={forged}"})
    assert status == 401


def test_an_expired_session_does_not_verify() -> None:
    key = hash_token("ms_example")
    claim = parse_session(sign_session(7, key, int(time.time()) + 60))
    assert claim is not None
    assert verify_session(claim, key)
    assert not verify_session(claim, key, now=time.time() + 61)
    assert not verify_session(claim, hash_token("ms_other"))


@pytest.mark.parametrize("value", ["", "v1", "v2.1.2.abc", "v1.x.2.abc", "v1.1.2.!!!", "v1.1.2." + "A" * 300])
def test_garbage_is_not_a_session(value: str) -> None:
    assert parse_session(value) is None


async def test_the_live_feed_accepts_the_session_cookie(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("desk", agency="police")
    cookie = await session_cookie(http, token)
    url = str(server.make_url("/api/v1/stream")).replace("http://", "ws://")
    async with websockets.connect(url, additional_headers=cookie) as ws:
        assert '"hello"' in str(await ws.recv())


async def test_the_live_feed_refuses_a_cookie_from_another_origin(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("desk", agency="police")
    cookie = await session_cookie(http, token)
    url = str(server.make_url("/api/v1/stream")).replace("http://", "ws://")
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(url, additional_headers=cookie, origin="https://evil.example"):  # type: ignore[arg-type]
            pass
    assert refused.value.response.status_code == 403


async def test_a_console_page_sends_a_stranger_to_sign_in(http: aiohttp.ClientSession) -> None:
    async with http.get("/console/desk", allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/console/?next=/console/desk"


async def test_a_plain_form_signs_in_and_goes_to_the_console(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, token = await make_user("call_taker")
    form = {"token": token, "next": "https://evil.example/"}
    async with http.post("/console/session", data=form, allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/console/intake"  # the foreign "next" is ignored
        assert COOKIE_NAME in response.headers["Set-Cookie"]


@pytest.mark.parametrize("path", ["/console/", "/status"])
async def test_console_pages_carry_strict_security_headers(http: aiohttp.ClientSession, path: str) -> None:
    async with http.get(path) as response:
        assert response.status == 200
        assert response.content_type == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "connect-src 'self' ws: wss:" in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert response.headers["X-Frame-Options"] == "DENY"


async def test_assets_are_served_with_their_types(http: aiohttp.ClientSession) -> None:
    async with http.get("/console/assets/js/desk.js") as response:
        assert response.status == 200
        assert response.content_type == "text/javascript"
    async with http.get("/console/assets/vendor/uplot/LICENSE") as response:
        assert response.status == 200


@pytest.mark.parametrize("path", ["/console/assets/%2e%2e/settings.py", "/console/assets/..%2f..%2fpyproject.toml"])
async def test_assets_stay_inside_the_static_folder(http: aiohttp.ClientSession, path: str) -> None:
    async with http.get(path) as response:
        assert response.status == 404


async def test_an_unreadable_form_is_a_bad_request(http: aiohttp.ClientSession) -> None:
    headers = {"Content-Type": "multipart/form-data"}  # no boundary
    async with http.post("/console/session", data=b'{"token": "x"}', headers=headers) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "malformed_form"


def test_a_session_signed_with_the_servers_secret_verifies_only_with_it() -> None:
    key, secret = hash_token("ms_example"), b"s" * 32
    claim = parse_session(sign_session(7, key, int(time.time()) + 60, secret))
    assert claim is not None
    assert verify_session(claim, key, secret=secret)
    assert not verify_session(claim, key)  # the token hash alone is not the key
    assert not verify_session(claim, key, secret=b"t" * 32)
    unsigned = parse_session(sign_session(7, key, int(time.time()) + 60))
    assert unsigned is not None and not verify_session(unsigned, key, secret=secret)


@pytest.fixture
async def secret_http(settings: Settings, clean: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A server whose session cookies are also signed with ``DISPATCH_SESSION_SECRET``."""
    server = TestServer(create_app(settings.model_copy(update={"session_secret": SecretStr("k" * 40)})), port=0)
    await server.start_server()
    async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
        yield session
    await server.close()


async def test_with_a_server_secret_the_token_hash_alone_cannot_forge_a_session(
    secret_http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    admin, admin_token = await make_user("admin")
    _, token = await make_user("call_taker")
    cookie = await session_cookie(secret_http, token)
    assert (await call(secret_http, "GET", "/api/v1/me", headers=cookie))[0] == 200
    # What someone who can read the users table knows: the admin's token hash.
    forged = sign_session(admin.id, hash_token(admin_token), int(time.time()) + 600)
    status, _ = await call(secret_http, "GET", "/api/v1/me", headers={"Cookie": f"{COOKIE_NAME}={forged}"})
    assert status == 401
