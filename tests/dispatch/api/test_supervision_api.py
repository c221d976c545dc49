"""What a supervisor acts on from the dashboard, over real HTTP: the escalations open now
(highest level first), 催办 pushed live to the desk's websocket, and re-dispatch to another
agency or desk, refused with 409 and nothing changed when the move is illegal."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import asyncpg
from aiohttp.test_utils import TestServer

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.ws_helpers import collect_events, connect


async def _overdue_ticket(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, taker: str, minutes_late: float, **overrides: Any
) -> dict[str, Any]:
    """A police P1 whose acknowledgement deadline passed ``minutes_late`` minutes ago; the
    server's deadline watcher escalates it (level 1 at the deadline, 2 after 5 min, 3 after 20)."""
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"], **overrides))
    await pool.execute(
        """UPDATE assignments SET created_at = now() - make_interval(secs => $2 * 60 + 60),
               ack_due = now() - make_interval(secs => $2 * 60)
           WHERE ticket_id = $1""",
        ticket["id"],
        minutes_late,
    )
    return ticket


async def _event_of_type(ws: Any, event_type: str, timeout: float = 10) -> dict[str, Any]:
    """The next event of ``event_type`` a person caused, on the websocket (earlier ones, e.g.
    the ticket's creation still on its way from the relay, are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"no {event_type} event")
        for event in await collect_events(ws, 1, timeout=remaining):
            if event["type"] == event_type and event["actor"] != "system":  # not the watcher's
                return event


async def _escalations(http: aiohttp.ClientSession, token: str, want: dict[int, int]) -> list[dict[str, Any]]:
    """The open escalations, polled until each ticket in ``want`` stands at its level."""
    deadline = time.monotonic() + 15
    while True:
        status, page = await call(http, "GET", "/api/v1/stats/escalations", token)
        assert status == 200, page
        levels = {item["ticket_id"]: item["level"] for item in page["items"]}
        if all(levels.get(ticket) == level for ticket, level in want.items()):
            return list(page["items"])
        assert time.monotonic() < deadline, (levels, want)
        await asyncio.sleep(0.2)


async def test_open_escalations_are_listed_highest_level_first_until_the_deadline_is_met(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, police = await make_user("desk", agency="police")
    recent = await _overdue_ticket(http, pool, taker, 1, description="第一起打架")
    old = await _overdue_ticket(http, pool, taker, 30, description="第二起打架")
    _, fresh = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description="第三起打架"))

    items = await _escalations(http, supervisor, {old["id"]: 3, recent["id"]: 1})
    assert [item["ticket_id"] for item in items] == [old["id"], recent["id"]]
    top = items[0]
    assert top["kind"] == "ack" and top["number"] == old["number"] and top["agency"] == "police"
    assert (await call(http, "GET", "/api/v1/stats/escalations", supervisor))[1]["levels"] == 3
    assert top["escalated_at"] is not None and top["overdue_seconds"] > 29 * 60
    assert top["desk"] == "police.yicheng" and top["district"] == "yicheng"
    assert fresh["id"] not in {item["ticket_id"] for item in items}

    # A desk reads its own agency's; another agency's desk reads none of them.
    _, urban = await make_user("desk", agency="urban")
    assert len((await call(http, "GET", "/api/v1/stats/escalations", police))[1]["items"]) == 2
    assert (await call(http, "GET", "/api/v1/stats/escalations", urban))[1]["items"] == []
    _, page = await call(http, "GET", "/api/v1/stats/escalations?limit=1", supervisor)
    assert [i["ticket_id"] for i in page["items"]] == [old["id"]] and page["next_cursor"]
    _, page = await call(http, "GET", f"/api/v1/stats/escalations?limit=1&cursor={page['next_cursor']}", supervisor)
    assert [i["ticket_id"] for i in page["items"]] == [recent["id"]] and page["next_cursor"] is None

    # Acknowledged: the acknowledgement escalation is no longer open.
    status, _ = await call(http, "POST", f"/api/v1/assignments/{top['assignment_id']}/acknowledge", police, {})
    assert status == 200
    _, page = await call(http, "GET", "/api/v1/stats/escalations", supervisor)
    assert [item["ticket_id"] for item in page["items"]] == [recent["id"]]


async def test_open_escalations_refuse_a_call_taker(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    status, body = await call(http, "GET", "/api/v1/stats/escalations", taker)
    assert status == 403 and body["error"]["code"]


async def test_open_work_lists_place_and_deadline_state_and_counts_tickets_apart_from_assignments(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    late = await _overdue_ticket(http, pool, taker, 2)
    body = ticket_body(location={"address": "西平县出山镇", "district": "西平县", "lat": 33.35, "lon": 113.8})
    _, two_agencies = await call(http, "POST", "/api/v1/tickets", taker, body)  # police and health

    _, page = await call(http, "GET", "/api/v1/stats/open", supervisor)
    by_ticket: dict[int, list[dict[str, Any]]] = {}
    for item in page["items"]:
        by_ticket.setdefault(item["ticket_id"], []).append(item)
    assert len(by_ticket[two_agencies["id"]]) == 2
    placed = by_ticket[two_agencies["id"]][0]
    assert (placed["lat"], placed["lon"], placed["district"]) == (33.35, 113.8, "xiping")
    assert placed["address"] == "西平县出山镇" and placed["overdue"] is False and placed["deadline"] == "ack"
    assert by_ticket[late["id"]][0]["overdue"] is True

    _, page = await call(http, "GET", "/api/v1/stats/open?overdue=true", supervisor)
    assert {item["ticket_id"] for item in page["items"]} == {late["id"]}
    _, page = await call(http, "GET", "/api/v1/stats/open?agency=health&state=dispatched", supervisor)
    assert [item["ticket_id"] for item in page["items"]] == [two_agencies["id"]]

    _, found = await call(http, "GET", f"/api/v1/tickets?q={late['number']}", supervisor)
    assert [item["id"] for item in found["items"]] == [late["id"]]  # a ticket found by its number

    _, summary = await call(http, "GET", "/api/v1/stats/summary", supervisor)
    assert summary["open"]["total"] == 3 and summary["open"]["tickets"] == 2
    assert summary["overdue_now"]["total"] == 1 and summary["overdue_now"]["tickets"] == 1


async def test_an_urge_is_recorded_and_reaches_the_desk_live(
    http: aiohttp.ClientSession, server: TestServer, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor", name="督办 张")
    _, police = await make_user("desk", agency="police")
    _, urban = await make_user("desk", agency="urban")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    lead = ticket["assignments"][0]
    base = str(server.make_url("/"))
    desk = await connect(base, police)
    other = await connect(base, urban)
    try:
        status, body = await call(
            http, "POST", f"/api/v1/assignments/{lead['id']}/urge", supervisor, {"text": "请立即签收"}
        )
        assert status == 201, body
        assert body["event"]["type"] == "ticket.reminder" and body["event"]["actor"] == "supervisor:督办 张"
        event = await _event_of_type(desk, "ticket.reminder")
        assert event["assignment"]["id"] == lead["id"]
        data = event["data"]
        assert data["text"] == "请立即签收" and data["deadline"] == "ack" and data["number"] == ticket["number"]
        assert data["notify"]["desk"] == "police.yicheng" and data["overdue_seconds"] < 0
        try:
            await _event_of_type(other, "ticket.reminder", timeout=1)
            raise AssertionError("an uninvolved agency's desk heard the urge")
        except TimeoutError:
            pass
    finally:
        await desk.close()
        await other.close()
    _, detail = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    assert [e["data"]["text"] for e in detail["timeline"] if e["type"] == "ticket.reminder"] == ["请立即签收"]


async def test_urging_closed_work_is_refused_and_writes_nothing(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, police = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    lead = ticket["assignments"][0]["id"]
    await call(http, "POST", f"/api/v1/assignments/{lead}/return", police, {"reason": "不属于本单位"})
    before = await pool.fetchval("SELECT count(*) FROM events")
    status, body = await call(http, "POST", f"/api/v1/assignments/{lead}/urge", supervisor, {})
    assert status == 409 and body["error"]["code"] == "assignment_not_open"
    status, body = await call(http, "POST", "/api/v1/assignments/999999/urge", supervisor, {})
    assert status == 404
    status, body = await call(http, "POST", f"/api/v1/assignments/{lead}/urge", supervisor, {"text": 5})
    assert status == 422
    assert await pool.fetchval("SELECT count(*) FROM events") == before


async def test_redispatch_to_another_agency_transfers_onto_the_named_desk(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"]))
    lead = ticket["assignments"][0]
    body = {"agency": "emergency", "desk": "emergency.city", "reason": "燃气泄漏，应急主办"}
    status, moved = await call(http, "POST", f"/api/v1/assignments/{lead['id']}/redispatch", supervisor, body)
    assert status == 200, moved
    assert moved["assignment"]["state"] == "transferred"
    created = moved["created"]
    assert created["agency"] == "emergency" and created["role"] == "lead" and created["state"] == "dispatched"
    _, desks = await call(http, "GET", "/api/v1/desks?agency=emergency", supervisor)
    city = next(d for d in desks["items"] if d["code"] == "emergency.city")
    assert created["desk_id"] == city["id"]
    _, detail = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    types = [e["type"] for e in detail["timeline"]]
    assert "assignment.transferred" in types and "assignment.desk_changed" in types


async def test_redispatch_to_another_desk_of_the_agency_keeps_the_assignment(
    http: aiohttp.ClientSession, make_user: UserFactory, server: TestServer
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, police = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"]))
    lead = ticket["assignments"][0]
    desk = await connect(str(server.make_url("/")), police)
    try:
        body = {"desk": "police.xiping", "reason": "事发地在西平"}
        status, moved = await call(http, "POST", f"/api/v1/assignments/{lead['id']}/redispatch", supervisor, body)
        assert status == 200, moved
        event = await _event_of_type(desk, "assignment.desk_changed")
    finally:
        await desk.close()
    assert moved["created"] is None and moved["assignment"]["id"] == lead["id"]
    assert moved["assignment"]["state"] == "dispatched" and moved["assignment"]["ack_due"] == lead["ack_due"]
    assert event["type"] == "assignment.desk_changed"
    assert (event["data"]["from_desk"], event["data"]["to_desk"]) == ("police.yicheng", "police.xiping")


async def test_illegal_redispatch_is_409_and_changes_nothing(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())  # police lead, health assist
    lead = ticket["assignments"][0]["id"]
    path = f"/api/v1/assignments/{lead}/redispatch"
    before = (await pool.fetchval("SELECT count(*) FROM events"), await pool.fetch("SELECT * FROM assignments"))
    refused = [
        ({"agency": "health", "reason": "x"}, 409, "agency_already_assigned"),
        ({"desk": "urban.xiping", "reason": "x"}, 409, "desk_not_of_agency"),
        ({"agency": "emergency", "desk": "urban.city", "reason": "x"}, 409, "desk_not_of_agency"),
        ({"desk": "police.yicheng", "reason": "x"}, 409, "no_change"),
        ({"agency": "police", "reason": "x"}, 409, "no_change"),
        ({"desk": "police.nowhere", "reason": "x"}, 422, "unknown_desk"),
        ({"reason": "x"}, 422, None),
        ({"agency": "emergency", "reason": ""}, 422, None),
    ]
    for body, expected, code in refused:
        status, answer = await call(http, "POST", path, supervisor, body)
        assert status == expected, (body, answer)
        if code:
            assert answer["error"]["code"] == code, (body, answer)
    after = (await pool.fetchval("SELECT count(*) FROM events"), await pool.fetch("SELECT * FROM assignments"))
    assert after == before


async def test_only_supervisors_and_admins_urge_and_redispatch(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    lead = ticket["assignments"][0]["id"]
    for role, agency in (("desk", "police"), ("call_taker", None), ("partner", None)):
        _, token = await make_user(role, agency=agency)
        assert (await call(http, "POST", f"/api/v1/assignments/{lead}/urge", token, {}))[0] == 403
        body = {"desk": "police.xiping", "reason": "x"}
        assert (await call(http, "POST", f"/api/v1/assignments/{lead}/redispatch", token, body))[0] == 403
    for role in ("supervisor", "admin"):
        _, token = await make_user(role)
        assert (await call(http, "POST", f"/api/v1/assignments/{lead}/urge", token, {}))[0] == 201
