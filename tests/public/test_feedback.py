"""回访: satisfied closes a resolved ticket; not satisfied reopens the lead agency's assignment
(重办); resolved tickets nobody rated close after the grace period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import aiohttp
import asyncpg

from dispatch.store.feedback import close_resolved
from tests.api_helpers import call
from tests.cli_helpers import clean_env, run_dispatch
from tests.conftest import UserFactory
from tests.public.conftest import create, resolve_all


async def _feedback(
    http: aiohttp.ClientSession, ticket: dict[str, Any], body: dict[str, Any], token: str | None = None
) -> tuple[int, dict[str, Any]]:
    async with http.post(
        f"/api/v1/public/tickets/{ticket['number']}/feedback",
        params={"token": token or ticket["tracking_token"]},
        json=body,
    ) as response:
        return response.status, await response.json()


async def _resolved(http: aiohttp.ClientSession, make_user: UserFactory) -> tuple[dict[str, Any], str]:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    ticket = await create(http, taker)
    await resolve_all(http, supervisor, ticket)
    return ticket, supervisor


async def test_satisfied_feedback_closes_the_ticket(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    ticket, supervisor = await _resolved(http, make_user)
    status, view = await _feedback(http, ticket, {"satisfied": True, "rating": 5, "comment": "修好了，谢谢"})
    assert status == 200, view
    assert view["status"] == "closed" and view["closed_at"] and view["feedback_open"] is False
    assert [line["type"] for line in view["timeline"]][-2:] == ["ticket.feedback", "ticket.closed"]
    _, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    assert full["status"] == "closed" and full["closed_at"]
    closed = full["timeline"][-1]
    assert closed["type"] == "ticket.closed" and closed["actor"] == "system"
    assert full["timeline"][-2]["data"] == {
        "feedback_id": full["timeline"][-2]["data"]["feedback_id"],
        "satisfied": True,
        "rating": 5,
        "comment": "修好了，谢谢",
    }


async def test_satisfied_with_a_low_rating_still_closes(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    ticket, _ = await _resolved(http, make_user)
    status, view = await _feedback(http, ticket, {"satisfied": True, "rating": 1})
    assert status == 200 and view["status"] == "closed"


async def test_not_satisfied_reopens_the_lead_assignment_with_the_comment(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    ticket, supervisor = await _resolved(http, make_user)
    status, view = await _feedback(http, ticket, {"satisfied": False, "rating": 2, "comment": "路灯还是不亮"})
    assert status == 200, view
    assert view["status"] == "dispatched" and view["resolved_at"] is None and view["resolution"] is None
    assert view["timeline"][-1]["type"] == "assignment.reopened"

    _, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    lead = full["assignments"][0]
    assert lead["state"] == "dispatched" and lead["resolution"] is None and lead["acknowledged_at"] is None
    assert lead["resolve_due"] > lead["created_at"]
    feedback, reopened = full["timeline"][-2:]
    assert feedback["type"] == "ticket.feedback" and feedback["data"]["satisfied"] is False
    assert reopened["type"] == "assignment.reopened" and reopened["assignment_id"] == lead["id"]
    assert reopened["data"]["reason"] == "路灯还是不亮" and reopened["data"]["from"] == "resolved"
    assert reopened["actor"] == "system"
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT satisfied, rating, comment FROM feedback WHERE ticket_id = $1", ticket["id"])
        outbox = await conn.fetchval(
            "SELECT count(*) FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.ticket_id = $1"
            " AND e.type IN ('ticket.feedback', 'assignment.reopened')",
            ticket["id"],
        )
    assert [tuple(r) for r in rows] == [(False, 2, "路灯还是不亮")]
    assert outbox == 2  # the desks hear about it through the bus

    # The desk works on it again and resolves; the citizen may answer again.
    await resolve_all(http, supervisor, {"assignments": [lead]})
    status, view = await _feedback(http, ticket, {"satisfied": True, "rating": 4})
    assert status == 200 and view["status"] == "closed"


async def test_feedback_before_resolution_is_refused_and_changes_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    status, error = await _feedback(http, ticket, {"satisfied": False, "rating": 1, "comment": "太慢"})
    assert status == 409 and error["error"]["code"] == "feedback_not_open"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM feedback") == 0


async def test_a_second_answer_after_closing_is_refused(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    ticket, _ = await _resolved(http, make_user)
    assert (await _feedback(http, ticket, {"satisfied": True, "rating": 5}))[0] == 200
    status, error = await _feedback(http, ticket, {"satisfied": False, "rating": 1})
    assert status == 409 and error["error"]["code"] == "feedback_not_open"


async def test_feedback_with_a_wrong_token_is_not_found(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    ticket, _ = await _resolved(http, make_user)
    status, error = await _feedback(http, ticket, {"satisfied": True, "rating": 5}, token="y" * 22)
    assert status == 404 and error["error"]["code"] == "ticket_not_found"


async def test_feedback_body_is_validated(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    ticket, _ = await _resolved(http, make_user)
    for body in ({"satisfied": True, "rating": 6}, {"rating": 3}, {"satisfied": "maybe", "rating": 3}):
        status, error = await _feedback(http, ticket, body)
        assert status == 422, body
        assert error["error"]["code"] == "validation_failed"


async def test_resolved_tickets_close_after_the_grace_period_without_feedback(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    old, supervisor = await _resolved(http, make_user)
    recent, _ = await _resolved(http, make_user)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE tickets SET resolved_at = now() - interval '8 days' WHERE id = $1", old["id"])
        assert await close_resolved(conn, timedelta(days=7)) == 1
        assert await close_resolved(conn, timedelta(days=7)) == 0
    _, full = await call(http, "GET", f"/api/v1/tickets/{old['id']}", supervisor)
    assert full["status"] == "closed"
    assert full["timeline"][-1]["type"] == "ticket.closed"
    assert full["timeline"][-1]["data"] == {"reason": "grace_period", "grace_days": 7.0}
    _, other = await call(http, "GET", f"/api/v1/tickets/{recent['id']}", supervisor)
    assert other["status"] == "resolved"


async def test_close_resolved_command_closes_what_the_grace_period_allows(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, database_url: str
) -> None:
    ticket, _ = await _resolved(http, make_user)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE tickets SET resolved_at = now() - interval '3 days' WHERE id = $1", ticket["id"])
    env = clean_env(DISPATCH_DATABASE_URL=database_url)
    kept = run_dispatch("close-resolved", env=env)
    assert kept.returncode == 0, kept.stderr
    assert kept.stdout.strip().splitlines()[-1] == "closed 0 ticket(s) resolved more than 7 days ago"
    closed = run_dispatch("close-resolved", "--days", "2", env=env)
    assert closed.returncode == 0, closed.stderr
    assert closed.stdout.strip().splitlines()[-1] == "closed 1 ticket(s) resolved more than 2 days ago"
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT status FROM tickets WHERE id = $1", ticket["id"]) == "closed"
