"""Another agency's work, guessed from outside, cell by cell: a desk that names a ticket,
assignment, note, export, feed or statistic of an agency it does not belong to is refused
(404 where the thing is invisible to it, 403 where it sees the ticket but not the right),
and no refusal carries a word of the other ticket.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory, auth
from tests.ws_helpers import connect, next_messages

SECRET_TEXT = "仓库里藏着走私的香烟"  # appears only in the police/health ticket
SECRET_PHONE = "13912345678"


@pytest.fixture
async def world(http: aiohttp.ClientSession, make_user: UserFactory) -> dict[str, Any]:
    """A police-led ticket with health assisting in 驿城区, a note on it, and the desks."""
    _, taker = await make_user("call_taker")
    body = ticket_body(description=f"{SECRET_TEXT}，有人受伤", caller={"phone": SECRET_PHONE, "name": "王某"})
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 201
    desks = {}
    for agency in ("police", "health", "transport", "urban"):
        _, desks[agency] = await make_user("desk", agency=agency, district="yicheng")
    lead = next(a for a in ticket["assignments"] if a["agency"] == "police")
    assist = next(a for a in ticket["assignments"] if a["agency"] == "health")
    status, _ = await call(
        http, "POST", f"/api/v1/assignments/{lead['id']}/notes", desks["police"], {"kind": "note", "text": SECRET_TEXT}
    )
    assert status == 201
    _, partner = await make_user("partner")
    return {"ticket": ticket, "lead": lead["id"], "assist": assist["id"], "desks": desks, "partner": partner}


def _leaks(raw: str, world: dict[str, Any]) -> bool:
    ticket = world["ticket"]
    return any(s in raw for s in (SECRET_TEXT, SECRET_PHONE, "王某", ticket["number"], ticket["tracking_token"]))


async def _everything(ws: Any, seconds: float) -> list[dict[str, Any]]:
    """Every message (events, replies, hello) until the feed is quiet for ``seconds``."""
    got: list[dict[str, Any]] = []
    try:
        while True:
            got += await next_messages(ws, seconds)
    except TimeoutError:
        return got


async def _request(
    http: aiohttp.ClientSession, method: str, path: str, token: str, body: Any = None
) -> tuple[int, str]:
    async with http.request(method, path, json=body, headers=auth(token)) as response:
        return response.status, await response.text()


# (what is guessed, method, path template, body, expected status) for a desk of an agency
# the ticket was never assigned to: the ticket does not exist for it.
UNINVOLVED = [
    ("the ticket", "GET", "/api/v1/tickets/{ticket}", None, 404),
    ("its EIDO export", "GET", "/api/v1/tickets/{ticket}/eido", None, 404),
    ("its CAP export", "GET", "/api/v1/tickets/{ticket}/cap", None, 404),
    ("acknowledging its assignment", "POST", "/api/v1/assignments/{lead}/acknowledge", {}, 404),
    ("resolving its assignment", "POST", "/api/v1/assignments/{lead}/resolve", {"resolution": "办结"}, 404),
    (
        "transferring its assignment",
        "POST",
        "/api/v1/assignments/{lead}/transfer",
        {"agency": "urban", "reason": "x"},
        404,
    ),
    ("a note on its assignment", "POST", "/api/v1/assignments/{lead}/notes", {"kind": "note", "text": "看看"}, 404),
    ("pausing its assignment", "POST", "/api/v1/assignments/{lead}/pause", {"reason": "等待"}, 404),
    ("another agency's statistics", "GET", "/api/v1/stats/summary?agency=police", None, 403),
    ("another agency's overdue list", "GET", "/api/v1/stats/overdue?agency=police", None, 403),
    ("another agency's series", "GET", "/api/v1/stats/timeseries?agency=police", None, 403),
]


@pytest.mark.parametrize(("what", "method", "path", "body", "expected"), UNINVOLVED, ids=[c[0] for c in UNINVOLVED])
@pytest.mark.parametrize("agency", ["transport", "urban"])
async def test_a_desk_of_an_uninvolved_agency_is_refused_and_learns_nothing(
    http: aiohttp.ClientSession,
    world: dict[str, Any],
    agency: str,
    what: str,
    method: str,
    path: str,
    body: Any,
    expected: int,
) -> None:
    target = path.format(ticket=world["ticket"]["id"], lead=world["lead"])
    status, raw = await _request(http, method, target, world["desks"][agency], body)
    assert status == expected, (what, status, raw)
    assert not _leaks(raw, world)


async def test_an_assisting_desk_sees_the_ticket_but_may_not_move_or_note_the_leads_assignment(
    http: aiohttp.ClientSession, world: dict[str, Any]
) -> None:
    health = world["desks"]["health"]
    for action, body in (("acknowledge", {}), ("resolve", {"resolution": "办结"}), ("return", {"reason": "不归我们"})):
        status, raw = await _request(http, "POST", f"/api/v1/assignments/{world['lead']}/{action}", health, body)
        assert status == 403 and "not_your_assignment" in raw, (action, status, raw)
    status, _ = await _request(
        http, "POST", f"/api/v1/assignments/{world['lead']}/notes", health, {"kind": "note", "text": "x"}
    )
    assert status in (403, 404)


async def test_lists_searches_and_own_statistics_of_an_uninvolved_desk_hold_nothing_of_the_ticket(
    http: aiohttp.ClientSession, world: dict[str, Any]
) -> None:
    transport = world["desks"]["transport"]
    for path in (
        "/api/v1/tickets",
        "/api/v1/tickets?agency=police",
        f"/api/v1/tickets?q={SECRET_TEXT[:4]}",
        f"/api/v1/tickets?phone={SECRET_PHONE}",
        "/api/v1/tickets?district=yicheng",
        "/api/v1/stats/overdue",
        "/api/v1/stats/summary",
    ):
        status, raw = await _request(http, "GET", path, transport)
        assert status == 200, (path, raw)
        assert not _leaks(raw, world), path
    status, raw = await _request(http, "GET", "/api/v1/stats/summary", transport)
    assert '"agency":"police"' not in raw.replace(" ", "")


async def test_the_live_feed_of_an_uninvolved_desk_replays_and_carries_nothing_of_the_ticket(
    server: TestServer, http: aiohttp.ClientSession, world: dict[str, Any]
) -> None:
    base = str(server.make_url("/"))
    for params in ({}, {"districts": "yicheng"}):
        async with await connect(base, world["desks"]["transport"], cursor=0, **params) as ws:
            messages = await _everything(ws, 1.0)
            await ws.send(json.dumps({"type": "acknowledge", "assignment_id": world["lead"], "request_id": 1}))
            messages += await _everything(ws, 1.0)
        assert not _leaks(repr(messages), world), params
        events = [m for m in messages if "cursor" in m and m.get("type") != "hello"]
        assert events == [], params
        replies = [m for m in messages if m.get("type") == "reply"]
        assert replies and all(r["error"]["code"] == "assignment_not_found" for r in replies), replies
    status, _ = await _request(http, "GET", f"/api/v1/tickets/{world['ticket']['id']}", world["desks"]["police"])
    assert status == 200  # the ticket is still there, and unmoved, for its own desks


async def test_partners_citizens_and_open311_readers_cannot_reach_a_ticket_by_guessing(
    http: aiohttp.ClientSession, world: dict[str, Any]
) -> None:
    ticket = world["ticket"]
    status, raw = await _request(http, "GET", f"/api/v1/tickets/{ticket['id']}", world["partner"])
    assert status == 404 and not _leaks(raw, world)
    for token in ("wrong-token", ticket["tracking_token"][:-1] + "x", ""):
        async with http.get(f"/api/v1/public/tickets/{ticket['number']}", params={"token": token}) as response:
            assert response.status in (404, 422)
            assert SECRET_TEXT not in await response.text()
    for path in (
        f"/open311/v2/requests/{ticket['number']}.json",
        f"/open311/v2/tokens/{ticket['tracking_token']}.json",
    ):
        async with http.get(path) as response:  # filed by phone, not through Open311: not there
            assert response.status == 404
            raw = await response.text()  # it may echo the guess, nothing more
            assert SECRET_TEXT not in raw and SECRET_PHONE not in raw and "王某" not in raw
    async with http.get("/open311/v2/requests.json") as response:
        assert response.status == 200 and not _leaks(await response.text(), world)
