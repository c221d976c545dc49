"""Every channel files through one service (``dispatch.intake.filing``): Open311 and EIDO tickets
are checked for duplicates as REST ones are, and a partner is shown none of the centre's."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.public.conftest import create

ACCIDENT = {
    "description": "两车相撞，有人受伤，车辆堵住了一条车道",
    "category": "transport.accident",
    "priority": None,
    "agencies": None,
    "location": {"address": "驿城区解放大道与雪松路交叉口", "district": "驿城区", "lat": 32.9801, "lon": 114.0203},
}


def _suggested(ticket: dict[str, Any]) -> list[int]:
    return [
        d["id"]
        for e in ticket["timeline"]
        if e["type"] == "ticket.duplicates_suggested"
        for d in e["data"]["duplicates"]
    ]


async def test_an_open311_request_about_an_open_incident_is_suggested_as_its_duplicate(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, partner = await make_user("partner", name="zmd-city-app")
    first = await create(http, taker, ticket_body(**ACCIDENT))
    form = {
        "api_key": partner,
        "service_code": "transport.accident",
        "lat": "32.9801",
        "long": "114.0203",
        "address_string": "驿城区解放大道与雪松路交叉口",
        "description": "解放大道雪松路口两车相撞，有人受伤",
        "attribute[vehicles]": "2",
        "attribute[injured]": "yes",
        "attribute[road_blocked]": "yes",
    }
    async with http.post("/open311/v2/requests.json", data=form) as response:
        assert response.status == 201, await response.text()
        [item] = await response.json()
    status, page = await call(http, "GET", f"/api/v1/tickets?q={item['service_request_id']}", taker)
    assert status == 200
    [filed] = page["items"]
    _, seen_by_taker = await call(http, "GET", f"/api/v1/tickets/{filed['id']}", taker)
    assert _suggested(seen_by_taker) == [first["id"]]
    _, seen_by_partner = await call(http, "GET", f"/api/v1/tickets/{filed['id']}", partner)
    assert not any(e["type"] == "ticket.duplicates_suggested" for e in seen_by_partner["timeline"])


async def test_an_eido_hand_over_of_an_open_incident_comes_back_with_it_as_a_duplicate(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    first = await create(http, taker, ticket_body(**ACCIDENT))
    status, exported = await call(http, "GET", f"/api/v1/tickets/{first['id']}/eido", taker)
    assert status == 200
    exported["$id"] = exported["$id"] + "-elsewhere"  # another centre's incident about the same crash
    status, imported = await call(http, "POST", "/api/v1/eido", taker, exported)
    assert status == 201, imported
    assert imported["id"] != first["id"]
    assert [d["id"] for d in imported["duplicates"]] == [first["id"]]
    assert _suggested(imported) == [first["id"]]


async def test_a_partner_is_shown_no_duplicate_it_may_not_see(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, partner = await make_user("partner", name="neighbour-centre")
    first = await create(http, taker, ticket_body(**ACCIDENT))
    _, exported = await call(http, "GET", f"/api/v1/tickets/{first['id']}/eido", taker)
    exported["$id"] = exported["$id"] + "-neighbour"
    status, imported = await call(http, "POST", "/api/v1/eido", partner, exported)
    assert status == 201, imported
    assert imported["duplicates"] == []
    _, seen_by_taker = await call(http, "GET", f"/api/v1/tickets/{imported['id']}", taker)
    assert _suggested(seen_by_taker) == [first["id"]]
