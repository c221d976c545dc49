import aiohttp
import asyncpg
import pytest

from dispatch.store.users import hash_token
from tests.cli_helpers import clean_env, run_dispatch
from tests.conftest import UserFactory, auth


@pytest.fixture
def env(database_url: str, redis_url: str, clean: None) -> dict[str, str]:
    return clean_env(DISPATCH_DATABASE_URL=database_url, DISPATCH_REDIS_URL=redis_url)


async def test_user_add_prints_a_token_that_authenticates(
    env: dict[str, str], http: aiohttp.ClientSession, pool: asyncpg.Pool
) -> None:
    result = run_dispatch(
        "user", "add", "王芳", "--role", "desk", "--agency", "police", "--district", "驿城区", env=env
    )
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("ms_") and len(token) > 40
    async with http.get("/api/v1/me", headers=auth(token)) as response:
        assert response.status == 200
        body = await response.json()
    assert (body["name"], body["role"], body["agency"], body["district"]) == (
        "王芳",
        "desk",
        "police",
        "yicheng",
    )
    stored = await pool.fetchval("SELECT token_hash FROM users WHERE name = '王芳'")
    assert stored == hash_token(token)
    assert token.encode() not in stored


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "captain"], "unknown role"),
        (["--role", "desk", "--agency", "fire_brigade"], "unknown agency"),
        (["--role", "desk"], "needs --agency"),
        (["--role", "call_taker", "--district", "北京"], "unknown district"),
    ],
)
def test_bad_user_add_is_a_clear_error_and_creates_nothing(
    env: dict[str, str], database_url: str, args: list[str], message: str
) -> None:
    result = run_dispatch("user", "add", "nobody", *args, env=env)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == ""
    listing = run_dispatch("user", "add", "nobody", "--role", "call_taker", env=env)
    assert listing.returncode == 0  # the name was still free: nothing was created before


def test_duplicate_user_name_is_refused(env: dict[str, str]) -> None:
    assert run_dispatch("user", "add", "li", "--role", "call_taker", env=env).returncode == 0
    again = run_dispatch("user", "add", "li", "--role", "admin", env=env)
    assert again.returncode == 2 and "already exists" in again.stderr


async def test_wrong_or_missing_token_gets_401_json(http: aiohttp.ClientSession) -> None:
    for headers in ({}, auth("ms_wrong"), {"Authorization": "Basic abc"}):
        async with http.get("/api/v1/me", headers=headers) as response:
            assert response.status == 401
            body = await response.json()
            assert body["error"]["code"] in ("unauthorized", "invalid_token")
            assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_revoked_and_expired_tokens_stop_working(
    http: aiohttp.ClientSession, make_user: UserFactory, env: dict[str, str], pool: asyncpg.Pool
) -> None:
    revoked, revoked_token = await make_user("supervisor")
    expired, expired_token = await make_user("supervisor")
    await pool.execute("UPDATE users SET expires_at = now() - interval '1 second' WHERE id = $1", expired.id)
    assert run_dispatch("user", "revoke", revoked.name, env=env).returncode == 0
    for token in (revoked_token, expired_token):
        async with http.get("/api/v1/me", headers=auth(token)) as response:
            assert response.status == 401
