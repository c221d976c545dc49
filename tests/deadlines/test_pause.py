"""Pausing the deadline clock while an assignment waits on the citizen, and resuming it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime

import asyncpg

from dispatch.store.users import Principal
from tests.api_helpers import call
from tests.deadlines.conftest import AppFactory
from tests.deadlines.helpers import events_of, p1_body, wait_for_events

UserMaker = Callable[..., Awaitable[tuple[Principal, str]]]


async def test_resume_moves_the_deadlines_by_the_time_paused(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    _, desk = await dl_user("desk", agency="police")
    async with app_client() as http:
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        [assignment] = ticket["assignments"]
        path = f"/api/v1/assignments/{assignment['id']}"
        status, paused = await call(http, "POST", f"{path}/pause", desk, {"reason": "等待群众补充材料"})
        assert status == 200, paused
        assert paused["assignment"]["pause_reason"] == "等待群众补充材料"
        await asyncio.sleep(0.6)
        status, resumed = await call(http, "POST", f"{path}/resume", desk)
        assert status == 200, resumed

    [paused_event] = await events_of(dl_pool, "assignment.paused", assignment["id"])
    [resumed_event] = await events_of(dl_pool, "assignment.resumed", assignment["id"])
    paused_for = (resumed_event["at"] - paused_event["at"]).total_seconds()
    moved = {
        kind: (
            datetime.fromisoformat(resumed["assignment"][f"{kind}_due"])
            - datetime.fromisoformat(assignment[f"{kind}_due"])
        ).total_seconds()
        for kind in ("ack", "resolve")
    }
    # the clock stood still for the pause: both deadlines moved by it (transaction times, so
    # within the few milliseconds the two requests themselves took)
    assert abs(moved["ack"] - resumed["assignment"]["paused_seconds"]) < 0.001
    assert moved["ack"] == moved["resolve"]
    assert abs(moved["ack"] - paused_for) < 0.1 and moved["ack"] >= 0.6
    assert resumed["assignment"]["paused_at"] is None
    assert resumed_event["data"]["shifted"] == ["ack", "resolve"]


async def test_a_paused_assignment_does_not_escalate_until_resumed(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    _, supervisor = await dl_user("supervisor")
    async with app_client(escalation_intervals=(30.0,)) as http:
        sla = {"priority": "P1", "ack_seconds": 1, "resolve_seconds": 600}
        await call(http, "PUT", "/api/v1/service-levels", admin, sla)
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        assignment_id = ticket["assignments"][0]["id"]
        status, _ = await call(
            http, "POST", f"/api/v1/assignments/{assignment_id}/pause", supervisor, {"reason": "联系不上报警人"}
        )
        assert status == 200
        await asyncio.sleep(1.5)
        assert await events_of(dl_pool, "ticket.escalated") == []
        status, _ = await call(http, "POST", f"/api/v1/assignments/{assignment_id}/resume", supervisor, {})
        assert status == 200
        [escalated] = await wait_for_events(dl_pool, "ticket.escalated", 1, assignment_id=assignment_id)

    resumed_at = (await events_of(dl_pool, "assignment.resumed"))[0]["at"]
    after_resume = (escalated["at"] - resumed_at).total_seconds()
    assert 0.5 < after_resume < 2.0, after_resume  # the rest of its second, once the clock ran again


async def test_pause_needs_a_reason_and_refuses_what_cannot_be_paused(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    _, police = await dl_user("desk", agency="police")
    _, urban = await dl_user("desk", agency="urban")
    async with app_client() as http:
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, p1_body(agencies=["police", "health"]))
        lead, assist = ticket["assignments"]
        pause = f"/api/v1/assignments/{lead['id']}/pause"
        assert (await call(http, "POST", pause, police, {}))[0] == 422
        assert (await call(http, "POST", pause, police, {"reason": "  "}))[0] == 422
        assert (await call(http, "POST", pause, taker, {"reason": "等待"}))[0] == 403
        assert (await call(http, "POST", pause, urban, {"reason": "等待"}))[0] == 404  # not its ticket
        status, error = await call(
            http, "POST", f"/api/v1/assignments/{assist['id']}/pause", police, {"reason": "等待"}
        )
        assert (status, error["error"]["code"]) == (403, "not_your_assignment")
        status, error = await call(http, "POST", f"/api/v1/assignments/{lead['id']}/resume", police, {})
        assert (status, error["error"]["code"]) == (409, "not_paused")
        assert (await call(http, "POST", pause, police, {"reason": "等待"}))[0] == 200
        status, error = await call(http, "POST", pause, police, {"reason": "再次"})
        assert (status, error["error"]["code"]) == (409, "already_paused")
        assert (await call(http, "POST", "/api/v1/assignments/999999/pause", police, {"reason": "等待"}))[0] == 404
    assert len(await events_of(dl_pool, "assignment.paused")) == 1
