"""Escalation (督办) through the running service: a P1 whose acknowledge deadline passes is
escalated at once, once per level; acknowledging stops it; reminders come first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from dispatch.lifecycle import Action
from dispatch.store.assignments import transition
from dispatch.store.users import Principal
from tests.api_helpers import call
from tests.deadlines.conftest import AppFactory
from tests.deadlines.helpers import events_of, p1_body, wait_for_events

UserMaker = Callable[..., Awaitable[tuple[Principal, str]]]
P1_TWO_SECONDS = {"priority": "P1", "ack_seconds": 2, "resolve_seconds": 600}


async def test_unacknowledged_p1_escalates_between_2_and_3_seconds_after_creation_once(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    supervisor, _ = await dl_user("supervisor", agency="police")
    async with app_client(escalation_intervals=(30.0,)) as http:
        status, _ = await call(http, "PUT", "/api/v1/service-levels", admin, P1_TWO_SECONDS)
        assert status in (200, 201)
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        assert status == 201
        [assignment] = ticket["assignments"]
        [escalated] = await wait_for_events(dl_pool, "ticket.escalated", 1, assignment_id=assignment["id"])
        await asyncio.sleep(1.0)  # time enough for a duplicate to show up, were there one
        assert len(await events_of(dl_pool, "ticket.escalated")) == 1

    after = (escalated["at"] - escalated["assignment_created"]).total_seconds()
    assert 2.0 <= after <= 3.0, after
    data = escalated["data"]
    assert (data["kind"], data["level"], data["agency"], data["priority"]) == ("ack", 1, "police", "P1")
    assert datetime.fromisoformat(data["due_at"]) == datetime.fromisoformat(assignment["ack_due"])
    # P1: every supervisor hears of it at once, besides the desk of the agency
    assert data["notify"]["supervisors"] == "all" and supervisor.id in data["notify"]["supervisor_ids"]
    assert data["notify"]["desk_id"] == assignment["desk_id"] and data["notify"]["desk"].startswith("police.")
    assert escalated["actor"] == "system" and escalated["agencies"] == ["police"]
    rows = await dl_pool.fetch("SELECT kind, level, round FROM escalations")
    assert [tuple(r) for r in rows] == [("ack", 1, 1)]


async def test_a_second_level_follows_after_the_configured_interval(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    async with app_client(escalation_intervals=(1.0,)) as http:
        await call(http, "PUT", "/api/v1/service-levels", admin, P1_TWO_SECONDS)
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        [assignment] = ticket["assignments"]
        first, second = await wait_for_events(dl_pool, "ticket.escalated", 2, assignment_id=assignment["id"])
        await asyncio.sleep(1.5)  # level 2 is the last one: nothing more comes
        assert len(await events_of(dl_pool, "ticket.escalated")) == 2

    assert (first["data"]["level"], second["data"]["level"]) == (1, 2)
    gap = (second["at"] - first["at"]).total_seconds()
    assert 0.75 <= gap <= 2.0, gap
    assert second["data"]["notify"]["supervisors"] == "all"


async def test_acknowledging_stops_the_acknowledge_escalation(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    _, desk = await dl_user("desk", agency="police")
    async with app_client(escalation_intervals=(0.5,)) as http:
        await call(http, "PUT", "/api/v1/service-levels", admin, P1_TWO_SECONDS)
        _, early = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        _, late = await call(http, "POST", "/api/v1/tickets", taker, p1_body(description="另一起打架斗殴"))
        early_id, late_id = early["assignments"][0]["id"], late["assignments"][0]["id"]
        status, _ = await call(http, "POST", f"/api/v1/assignments/{early_id}/acknowledge", desk, {})
        assert status == 200
        await wait_for_events(dl_pool, "ticket.escalated", 1, assignment_id=late_id)
        status, _ = await call(http, "POST", f"/api/v1/assignments/{late_id}/acknowledge", desk, {})
        assert status == 200
        await asyncio.sleep(1.5)  # level 2 would have come 0.5 s after level 1

    assert await events_of(dl_pool, "ticket.escalated", early_id) == []
    assert [e["data"]["level"] for e in await events_of(dl_pool, "ticket.escalated", late_id)] == [1]


async def test_a_reminder_goes_out_before_the_deadline_at_the_configured_fraction(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    async with app_client(reminder_fraction=0.5, escalation_intervals=(30.0,)) as http:
        await call(http, "PUT", "/api/v1/service-levels", admin, {**P1_TWO_SECONDS, "ack_seconds": 3})
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        assignment_id = ticket["assignments"][0]["id"]
        [reminder] = await wait_for_events(dl_pool, "ticket.reminder", 1, assignment_id=assignment_id)
        [escalated] = await wait_for_events(dl_pool, "ticket.escalated", 1, assignment_id=assignment_id)

    reminded_after = (reminder["at"] - reminder["assignment_created"]).total_seconds()
    assert 1.5 <= reminded_after < 3.0, reminded_after  # half of the 3 s, at most a second late
    assert reminder["data"]["kind"] == "reminder_ack" and reminder["data"]["level"] == 0
    assert reminder["data"]["notify"]["supervisors"] == "none"  # a reminder is for the desk
    assert escalated["at"] > reminder["at"]


async def test_a_reopened_assignment_escalates_again_in_a_new_round(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    desk, desk_token = await dl_user("desk", agency="police")
    async with app_client(escalation_intervals=(30.0,)) as http:
        await call(http, "PUT", "/api/v1/service-levels", admin, {**P1_TWO_SECONDS, "ack_seconds": 1})
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        assignment_id = ticket["assignments"][0]["id"]
        await wait_for_events(dl_pool, "ticket.escalated", 1, assignment_id=assignment_id)
        for action, body in (("acknowledge", {}), ("resolve", {"resolution": "已调解"})):
            status, _ = await call(http, "POST", f"/api/v1/assignments/{assignment_id}/{action}", desk_token, body)
            assert status == 200
        reopen: Action = "reopen"
        async with dl_pool.acquire() as conn:
            await transition(conn, assignment_id, reopen, desk, text="群众不满意")
        events = await wait_for_events(dl_pool, "ticket.escalated", 2, assignment_id=assignment_id)

    assert [(e["data"]["level"], e["data"]["round"]) for e in events] == [(1, 1), (1, 2)]
    rounds = await dl_pool.fetch("SELECT round FROM escalations WHERE kind = 'ack' ORDER BY id")
    assert [r["round"] for r in rounds] == [1, 2]
