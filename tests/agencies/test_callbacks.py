"""What comes back from the agencies: lifecycle moves and progress notes with an
agency-scoped token, 联动 requests from the lead, and when a shared ticket is resolved."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.agencies.conftest import HarnessFactory, Receiver
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.ws_helpers import connect, next_messages

Receivers = Callable[..., Awaitable[Receiver]]

FIGHT = ticket_body(facts={"health": {"conscious": True, "breathing": True, "injured_count": 1}})


async def _wait_for_event(ws: Any, event_type: str, within: float = 15) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"no {event_type} event")
        for message in await next_messages(ws, remaining):
            if message.get("type") == event_type:
                return message


async def test_health_gets_its_facts_and_its_on_scene_note_reaches_the_lead_desk_live(
    harness: HarnessFactory, receivers: Receivers
) -> None:
    receiver = await receivers()
    async with harness() as h:
        _, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        police = await h.user("desk", "police")
        health_system = await h.user("desk", "health")  # the 120 centre's system token
        await asyncio.sleep(0.3)
        async with await connect(h.base, police) as lead_ws:
            status, ticket = await call(h.http, "POST", "/api/v1/tickets", taker, FIGHT)
            assert status == 201
            await receiver.wait_for(3)
            created = next(
                e["body"]
                for e in receiver.accepted
                if e["body"]["type"] == "assignment.created" and e["body"]["assignment"]["agency"] == "health"
            )
            assert created["medical"] == {"conscious": True, "breathing": True, "injured_count": 1, "critical": False}
            mine = created["own_assignment"]["id"]

            # The 120 system answers through the REST API with its agency-scoped token.
            assert (await call(h.http, "POST", f"/api/v1/assignments/{mine}/acknowledge", health_system, {}))[0] == 200
            note = {"kind": "on_scene", "text": "120急救车已到场", "data": {"unit": "120-3"}}
            status, posted = await call(h.http, "POST", f"/api/v1/assignments/{mine}/notes", health_system, note)
            assert status == 201
            assert posted["event"]["type"] == "assignment.note"

            live = await _wait_for_event(lead_ws, "assignment.note")
        assert live["data"] == {
            "kind": "on_scene",
            "text": "120急救车已到场",
            "agency": "health",
            "role": "assist",
            "data": {"unit": "120-3"},
        }
        assert live["assignment"]["id"] == mine
        status, seen = await call(h.http, "GET", f"/api/v1/tickets/{ticket['id']}", police)
        assert status == 200
        notes = [e for e in seen["timeline"] if e["type"] == "assignment.note"]
        assert [(n["data"]["kind"], n["actor"]) for n in notes] == [("on_scene", "desk:desk-health-3")]
        await receiver.wait_for(5)  # its own acknowledgement and note come back to it as well
    assert receiver.accepted_types()[-2:] == ["assignment.acknowledged", "assignment.note"]


async def test_a_note_names_casualties_or_the_agency_needed(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    lead = ticket["assignments"][0]["id"]
    path = f"/api/v1/assignments/{lead}/notes"
    casualties = {"kind": "casualties", "text": "两人受伤", "data": {"injured": 2, "dead": 0}}
    status, posted = await call(http, "POST", path, police, casualties)
    assert status == 201 and posted["event"]["data"]["data"] == {"injured": 2, "dead": 0}
    needs = {"kind": "needs_agency", "text": "现场有燃气味", "data": {"agency": "emergency"}}
    status, posted = await call(http, "POST", path, police, needs)
    assert status == 201 and posted["event"]["data"]["data"] == {"agency": "emergency"}


async def test_a_note_missing_what_its_kind_needs_is_422_and_not_recorded(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    path = f"/api/v1/assignments/{ticket['assignments'][0]['id']}/notes"
    for body in (
        {"kind": "casualties", "text": "有人受伤"},
        {"kind": "needs_agency", "data": {"injured": 1}},
        {"kind": "note"},
        {"kind": "needs_agency", "data": {"agency": "water"}},
        {"kind": "arrived"},
    ):
        status, _ = await call(http, "POST", path, police, body)
        assert status == 422, body
    _, seen = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", police)
    assert not [e for e in seen["timeline"] if e["type"] == "assignment.note"]


async def test_only_the_assignments_own_agency_posts_notes_on_it(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, health = await make_user("desk", agency="health")  # assisting on the ticket
    _, urban = await make_user("desk", agency="urban")  # not on the ticket
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    path = f"/api/v1/assignments/{ticket['assignments'][0]['id']}/notes"
    note = {"kind": "note", "text": "看看"}
    status, error = await call(http, "POST", path, health, note)
    assert status == 403 and error["error"]["code"] == "not_your_assignment"
    assert (await call(http, "POST", path, urban, note))[0] == 404
    assert (await call(http, "POST", "/api/v1/assignments/999999/notes", health, note))[0] == 404


async def test_no_notes_on_a_released_assignment(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    _, health = await make_user("desk", agency="health")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    assist = ticket["assignments"][1]["id"]
    assert (await call(http, "POST", f"/api/v1/assignments/{assist}/release", health, {"reason": "无人受伤"}))[0] == 200
    status, error = await call(http, "POST", f"/api/v1/assignments/{assist}/notes", health, {"kind": "on_scene"})
    assert status == 409 and error["error"]["code"] == "assignment_closed"


async def test_the_lead_desk_requests_another_agency_and_it_sees_the_ticket(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, emergency = await make_user("desk", agency="emergency")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    path = f"/api/v1/tickets/{ticket['id']}/assignments"
    request = {"agency": "emergency", "role": "assist", "reason": "现场燃气泄漏，请求应急联动"}
    status, updated = await call(http, "POST", path, police, request)
    assert status == 201
    added = [a for a in updated["assignments"] if a["agency"] == "emergency"]
    assert [(a["role"], a["state"]) for a in added] == [("assist", "dispatched")]
    event = [e for e in updated["timeline"] if e["type"] == "assignment.created"][-1]
    assert event["data"]["reason"] == request["reason"] and event["actor"].startswith("desk:")
    assert (await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", emergency))[0] == 200


async def test_an_assisting_desk_may_not_request_another_agency(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, health = await make_user("desk", agency="health")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    request = {"agency": "emergency", "role": "assist", "reason": "需要消防"}
    status, error = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/assignments", health, request)
    assert status == 403 and error["error"]["code"] == "not_lead"


async def _move(http: aiohttp.ClientSession, token: str, assignment: int, *actions: str) -> str:
    status = 0
    body: dict[str, Any] = {}
    for action in actions:
        payload = (
            {"resolution": "已处置"} if action == "resolve" else {"reason": "不再需要"} if action == "release" else {}
        )
        status, body = await call(http, "POST", f"/api/v1/assignments/{assignment}/{action}", token, payload)
        assert status == 200, (action, body)
    return str(body["ticket"]["status"])


async def test_a_ticket_is_resolved_only_when_the_lead_and_every_live_assist_are(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    lead, assist = (a["id"] for a in ticket["assignments"])
    assert await _move(http, police, lead, "acknowledge", "resolve") == "dispatched"  # health still on its way
    assert await _move(http, health, assist, "acknowledge", "start") == "in_progress"
    assert await _move(http, health, assist, "resolve") == "resolved"


async def test_releasing_the_last_open_assist_resolves_the_ticket(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    lead, assist = (a["id"] for a in ticket["assignments"])
    assert await _move(http, police, lead, "acknowledge", "resolve") == "dispatched"
    assert await _move(http, health, assist, "release") == "resolved"
