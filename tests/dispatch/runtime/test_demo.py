"""``dispatch serve --demo``: an account for every role, each with a token that works."""

from __future__ import annotations

import aiohttp
import pytest

from dispatch.runtime.demo import print_demo_setup, setup_demo
from dispatch.runtime.settings import Settings
from dispatch.store.users import ROLES
from tests.conftest import auth


async def test_the_demo_has_a_working_token_for_every_role_a_partner_key_included(
    database_url: str, http: aiohttp.ClientSession
) -> None:
    accounts = await setup_demo(database_url)
    assert {a.role for a in accounts} == set(ROLES)
    for account in accounts:
        async with http.get("/api/v1/me", headers=auth(account.token)) as response:
            assert response.status == 200, account
            assert (await response.json())["role"] == account.role


async def test_the_demo_prints_every_account_with_its_token(
    database_url: str, settings: Settings, clean: None, capsys: pytest.CaptureFixture[str]
) -> None:
    accounts = await setup_demo(database_url)
    print_demo_setup(accounts, settings)
    printed = capsys.readouterr().out
    for account in accounts:
        assert f"{account.name}" in printed and account.token in printed
    assert "demo-partner" in printed and "/open311/v2/" in printed
