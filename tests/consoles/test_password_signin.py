"""Signing in to the consoles with a user name and password (argon2), beside API tokens: the
CLI sets and resets passwords, an admin resets one over REST, wrong passwords are rate-limited
with one Chinese-first message, and a password change ends the sessions signed before."""

from __future__ import annotations

import subprocess
from http.cookies import SimpleCookie
from typing import Any

import aiohttp
import asyncpg
import pytest

from dispatch.access.sessions import COOKIE_NAME
from tests.api_helpers import call
from tests.cli_helpers import DISPATCH, clean_env
from tests.conftest import UserFactory

PASSWORD = "夜班-2026-secure"


@pytest.fixture
def env(database_url: str, redis_url: str, clean: None) -> dict[str, str]:
    return clean_env(DISPATCH_DATABASE_URL=database_url, DISPATCH_REDIS_URL=redis_url)


def dispatch_with_input(env: dict[str, str], stdin: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*DISPATCH, *args], env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False
    )


async def sign_in(http: aiohttp.ClientSession, body: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
    async with http.post("/console/session", json=body) as response:
        cookie: SimpleCookie = SimpleCookie()
        for header in response.headers.getall("Set-Cookie", []):
            cookie.load(header)
        value = cookie[COOKIE_NAME].value if COOKIE_NAME in cookie else None
        return response.status, await response.json(), value


async def me(http: aiohttp.ClientSession, cookie: str) -> int:
    async with http.get("/api/v1/me", headers={"Cookie": f"{COOKIE_NAME}={cookie}"}) as response:
        return response.status


async def test_user_add_with_a_password_signs_in_by_name_and_keeps_its_token(
    env: dict[str, str], http: aiohttp.ClientSession, pool: asyncpg.Pool
) -> None:
    result = dispatch_with_input(env, PASSWORD + "\n", "user", "add", "张敏", "--role", "call_taker", "--password")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("ms_")  # the token stays the last line: scripts rely on it
    stored = await pool.fetchval("SELECT password_hash FROM users WHERE name = '张敏'")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    status, body, cookie = await sign_in(http, {"username": "张敏", "password": PASSWORD})
    assert status == 200 and body["user"]["name"] == "张敏" and body["home"] == "/console/intake"
    assert cookie and await me(http, cookie) == 200
    status, _, token_cookie = await sign_in(http, {"token": token})  # token sign-in still works
    assert status == 200 and token_cookie and await me(http, token_cookie) == 200


async def test_a_short_password_is_refused_and_creates_no_user(env: dict[str, str], pool: asyncpg.Pool) -> None:
    result = dispatch_with_input(env, "short\n", "user", "add", "li", "--role", "call_taker", "--password")
    assert result.returncode == 2 and "8" in result.stderr
    assert await pool.fetchval("SELECT count(*) FROM users WHERE name = 'li'") == 0


async def test_wrong_password_unknown_user_and_no_password_answer_alike(
    http: aiohttp.ClientSession, make_user: UserFactory, env: dict[str, str]
) -> None:
    await make_user("call_taker", name="nopass")
    dispatch_with_input(env, PASSWORD + "\n", "user", "add", "haspass", "--role", "call_taker", "--password")
    answers = [
        await sign_in(http, {"username": "haspass", "password": "wrong-password"}),
        await sign_in(http, {"username": "nobody", "password": PASSWORD}),
        await sign_in(http, {"username": "nopass", "password": PASSWORD}),
    ]
    assert {(status, body["error"]["message"]) for status, body, _ in answers} == {
        (401, "用户名或密码错误 / wrong user name or password")
    }
    assert all(cookie is None for _, _, cookie in answers)


async def test_wrong_passwords_are_rate_limited_then_even_the_right_one_waits(
    http: aiohttp.ClientSession, env: dict[str, str]
) -> None:
    dispatch_with_input(env, PASSWORD + "\n", "user", "add", "guarded", "--role", "supervisor", "--password")
    allowed = 10  # DISPATCH_SIGNIN_FAILURE_LIMIT default: 10/15 minutes
    for n in range(allowed):
        assert (await sign_in(http, {"username": "guarded", "password": f"guess-{n:04d}"}))[0] == 401
    status, body, cookie = await sign_in(http, {"username": "guarded", "password": PASSWORD})
    assert status == 429 and cookie is None
    assert body["error"]["message"].startswith("too many requests") and "请求过于频繁" in body["error"]["message"]


async def test_passwd_resets_the_password_and_ends_the_sessions_signed_before(
    http: aiohttp.ClientSession, env: dict[str, str]
) -> None:
    dispatch_with_input(
        env, PASSWORD + "\n", "user", "add", "wang", "--role", "desk", "--agency", "police", "--password"
    )
    _, _, old_session = await sign_in(http, {"username": "wang", "password": PASSWORD})
    assert old_session and await me(http, old_session) == 200
    result = dispatch_with_input(env, "new-password-1\n", "user", "passwd", "wang")
    assert result.returncode == 0, result.stderr
    assert await me(http, old_session) == 401
    assert (await sign_in(http, {"username": "wang", "password": PASSWORD}))[0] == 401
    assert (await sign_in(http, {"username": "wang", "password": "new-password-1"}))[0] == 200
    missing = dispatch_with_input(env, "new-password-1\n", "user", "passwd", "nobody")
    assert missing.returncode == 2 and "no live user" in missing.stderr


async def test_an_admin_resets_a_password_over_rest(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, admin = await make_user("admin")
    _, supervisor = await make_user("supervisor", name="zhao")
    path = "/api/v1/users/zhao/password"
    assert (await call(http, "PUT", path, supervisor, {"password": "another-pass"}))[0] == 403
    assert (await call(http, "PUT", path, admin, {"password": "short"}))[0] == 422
    status, body = await call(http, "PUT", path, admin, {"password": "another-pass"})
    assert status == 200 and body["name"] == "zhao" and body["sessions_ended"]
    assert (await sign_in(http, {"username": "zhao", "password": "another-pass"}))[0] == 200
    assert (await call(http, "PUT", "/api/v1/users/nobody/password", admin, {"password": "another-pass"}))[0] == 404


async def test_a_sign_in_body_names_one_way(http: aiohttp.ClientSession) -> None:
    assert (await sign_in(http, {"username": "x"}))[0] == 422
    assert (await sign_in(http, {"username": "x", "password": "y", "token": "ms_z"}))[0] == 422


async def test_the_plain_form_signs_in_with_a_password_too(http: aiohttp.ClientSession, env: dict[str, str]) -> None:
    dispatch_with_input(env, PASSWORD + "\n", "user", "add", "formuser", "--role", "call_taker", "--password")
    form = {"username": "formuser", "password": PASSWORD, "next": "/console/intake"}
    async with http.post("/console/session", data=form, allow_redirects=False) as response:
        assert response.status == 303 and response.headers["Location"] == "/console/intake"
    form["password"] = "wrong-password"
    async with http.post("/console/session", data=form, allow_redirects=False) as response:
        assert response.status == 303 and "error=invalid_credentials" in response.headers["Location"]
