"""Service levels at run time: an admin sets them over HTTP or the command line, and
assignments created afterwards get those deadlines."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from dispatch.runtime.settings import Settings
from dispatch.store.users import Principal
from tests.api_helpers import call
from tests.cli_helpers import clean_env, run_dispatch
from tests.deadlines.conftest import AppFactory
from tests.deadlines.helpers import p1_body

UserMaker = Callable[..., Awaitable[tuple[Principal, str]]]


async def test_admin_sets_a_service_level_and_new_assignments_follow_it(
    app_client: AppFactory, dl_user: UserMaker
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    async with app_client(deadline_watcher=False) as http:
        body = {"priority": "P1", "category": "police.violence", "ack_seconds": 30, "resolve_seconds": 1800}
        status, created = await call(http, "PUT", "/api/v1/service-levels", admin, body)
        assert status == 201 and created["updated_by"] == "admin:admin-1"
        status, replaced = await call(http, "PUT", "/api/v1/service-levels", admin, {**body, "ack_seconds": 45})
        assert status == 200 and replaced["id"] == created["id"] and replaced["ack_seconds"] == 45
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        _, other = await call(http, "POST", "/api/v1/tickets", taker, p1_body(category="police.missing_person"))
        status, page = await call(http, "GET", "/api/v1/service-levels", taker)
        assert status == 200

    def allowed(assignment: dict[str, str]) -> tuple[float, float]:
        created_at = datetime.fromisoformat(assignment["created_at"])
        return (
            (datetime.fromisoformat(assignment["ack_due"]) - created_at).total_seconds(),
            (datetime.fromisoformat(assignment["resolve_due"]) - created_at).total_seconds(),
        )

    assert allowed(ticket["assignments"][0]) == (45, 1800)  # the category's refinement
    assert allowed(other["assignments"][0]) == (60, 3600)  # the P1 default still
    scopes = {(r["priority"], r["category"], r["agency"]): r["ack_seconds"] for r in page["items"]}
    assert scopes[("P1", "police.violence", None)] == 45 and scopes[("P1", None, None)] == 60


async def test_service_levels_refuse_bad_values_and_non_admins(app_client: AppFactory, dl_user: UserMaker) -> None:
    _, admin = await dl_user("admin")
    _, supervisor = await dl_user("supervisor")
    async with app_client(deadline_watcher=False) as http:
        good = {"priority": "P2", "ack_seconds": 100, "resolve_seconds": 1000}
        assert (await call(http, "PUT", "/api/v1/service-levels", supervisor, good))[0] == 403
        for bad in (
            {**good, "resolve_seconds": 50},  # resolve before acknowledge
            {**good, "ack_seconds": 0},
            {**good, "priority": "P9"},
            {**good, "category": "police.nothing"},
            {**good, "agency": "army"},
            {**good, "extra": 1},
        ):
            status, error = await call(http, "PUT", "/api/v1/service-levels", admin, bad)
            assert status == 422, (bad, error)
        _, page = await call(http, "GET", "/api/v1/service-levels", admin)
    assert all(row["updated_by"] == "default" for row in page["items"])  # nothing changed


async def test_sla_set_command_changes_a_service_level(
    dl_settings: Callable[..., Settings], dl_pool: asyncpg.Pool, dl_clean: None
) -> None:
    settings = dl_settings()
    env = clean_env(DISPATCH_DATABASE_URL=settings.database_url, DISPATCH_DATA_DIR=str(settings.data_dir))
    result = run_dispatch(
        "sla", "set", "--priority", "P3", "--ack", "600", "--resolve", "7200", "--agency", "urban", env=env
    )
    assert result.returncode == 0, result.stderr
    assert "P3" in result.stdout and "urban" in result.stdout
    row = await dl_pool.fetchrow(
        """SELECT ack_seconds, resolve_seconds, updated_by FROM service_levels
           WHERE priority = 'P3' AND agency = 'urban' AND category IS NULL"""
    )
    assert (row["ack_seconds"], row["resolve_seconds"], row["updated_by"]) == (600, 7200, "cli")
    bad = run_dispatch("sla", "set", "--priority", "P3", "--ack", "600", "--resolve", "60", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("dispatch:") and len(bad.stderr.strip().splitlines()) == 1
