"""GET /api/v1/assignments/handled: what a desk handled this shift, searchable by number."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import aiohttp

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


async def _ticket(http: aiohttp.ClientSession, taker: str, description: str) -> dict:
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=description))
    assert status == 201, ticket
    return ticket


async def test_handled_lists_the_agencys_closed_work_newest_first(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")
    resolved = await _ticket(http, taker, "第一起打架")
    returned = await _ticket(http, taker, "第二起打架")
    still_open = await _ticket(http, taker, "第三起打架")
    lead = resolved["assignments"][0]["id"]
    assert (await call(http, "POST", f"/api/v1/assignments/{lead}/acknowledge", police, {}))[0] == 200
    assert (await call(http, "POST", f"/api/v1/assignments/{lead}/resolve", police, {"resolution": "已调解"}))[0] == 200
    other = returned["assignments"][0]["id"]
    status, _ = await call(http, "POST", f"/api/v1/assignments/{other}/return", police, {"reason": "不属于本单位"})
    assert status == 200

    status, page = await call(http, "GET", "/api/v1/assignments/handled", police)
    assert status == 200, page
    assert [(i["ticket"]["number"], i["assignment"]["state"]) for i in page["items"]] == [
        (returned["number"], "returned"),
        (resolved["number"], "resolved"),
    ]
    assert still_open["number"] not in {i["ticket"]["number"] for i in page["items"]}
    assert page["items"][0]["ended_at"] >= page["items"][1]["ended_at"]
    assert page["next_cursor"] is None

    # The health desk handled nothing; its list is its own.
    status, page = await call(http, "GET", "/api/v1/assignments/handled", health)
    assert (status, page["items"]) == (200, [])


async def test_handled_searches_by_number_and_pages(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    tickets = [await _ticket(http, taker, f"第{i}起打架") for i in range(3)]
    for ticket in tickets:
        lead = ticket["assignments"][0]["id"]
        assert (await call(http, "POST", f"/api/v1/assignments/{lead}/return", police, {"reason": "错派"}))[0] == 200

    digits = tickets[1]["number"][-6:]
    status, page = await call(http, "GET", f"/api/v1/assignments/handled?number={digits}", police)
    assert status == 200
    assert [i["ticket"]["number"] for i in page["items"]] == [tickets[1]["number"]]

    seen = []
    cursor = None
    while True:
        path = "/api/v1/assignments/handled?limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await call(http, "GET", path, police)
        assert status == 200
        seen += [i["ticket"]["number"] for i in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [t["number"] for t in reversed(tickets)]


async def test_handled_period_starts_at_since(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    ticket = await _ticket(http, taker, "打架")
    lead = ticket["assignments"][0]["id"]
    assert (await call(http, "POST", f"/api/v1/assignments/{lead}/return", police, {"reason": "错派"}))[0] == 200
    later = quote((datetime.now(UTC) + timedelta(minutes=5)).isoformat())
    status, page = await call(http, "GET", f"/api/v1/assignments/handled?since={later}", police)
    assert (status, page["items"]) == (200, [])


async def test_a_desk_may_not_read_another_agencys_shift(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, police = await make_user("desk", agency="police")
    status, body = await call(http, "GET", "/api/v1/assignments/handled?agency=health", police)
    assert status == 403 and body["error"]["code"] == "other_agency"
    for bad in ("number=%27%3B--", "limit=0", "since=yesterday", "cursor=bm9wZQ"):
        status, body = await call(http, "GET", f"/api/v1/assignments/handled?{bad}", police)
        assert status in (400, 422), (bad, body)
        assert "error" in body


async def test_assignments_carry_their_own_clock_and_escalation_level(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    ticket = await _ticket(http, taker, "打架")
    lead = ticket["assignments"][0]
    assert lead["escalation_level"] == 0 and lead["paused_at"] is None and lead["deadlines_armed_at"] is None
    status, _ = await call(http, "POST", f"/api/v1/assignments/{lead['id']}/pause", police, {"reason": "等待群众回复"})
    assert status == 200
    status, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", police)
    assert full["assignments"][0]["paused_at"] is not None
    assert full["assignments"][0]["pause_reason"] == "等待群众回复"
