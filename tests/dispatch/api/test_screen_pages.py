"""Pages sized for a screen whatever the open work: the map's view (counts per cell and the
most urgent items, ``GET /stats/map``) and a desk's open work listed by its assignments
(``GET /tickets?assignment_state=``)."""

from __future__ import annotations

from typing import Any

import aiohttp
import asyncpg

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory

# Two places in 驿城区 a few kilometres apart, one in 西平县 far to the west.
CITY_A = {"address": "驿城区解放路", "district": "驿城区", "lat": 32.98, "lon": 114.02}
CITY_B = {"address": "驿城区雪松路", "district": "驿城区", "lat": 32.99, "lon": 114.03}
WEST = {"address": "西平县出山镇", "district": "西平县", "lat": 33.35, "lon": 113.80}
NOWHERE = {"address": "上蔡县某村", "district": "上蔡县"}


async def _file(http: aiohttp.ClientSession, taker: str, location: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    status, ticket = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(location=location, **{"agencies": ["urban"], **overrides})
    )
    assert status == 201, ticket
    return dict(ticket)


async def test_the_map_view_counts_every_open_ticket_per_cell_and_lists_the_most_urgent_first(
    http: aiohttp.ClientSession, pool: asyncpg.Pool, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    routine = [await _file(http, taker, place, priority="P4") for place in (CITY_A, CITY_B, WEST)]
    urgent = await _file(http, taker, CITY_A, priority="P1", agencies=["urban", "police"])  # two assignments
    unplaced = await _file(http, taker, NOWHERE, priority="P3")
    await pool.execute(
        "UPDATE assignments SET ack_due = now() - interval '1 minute' WHERE ticket_id = $1", urgent["id"]
    )

    status, view = await call(http, "GET", "/api/v1/stats/map?items=2&grid=4", supervisor)
    assert status == 200, view
    assert view["total"] == 5 and view["overdue"] == 1 and view["grid"] == 4 and view["box"] is None
    assert view["complete"] is False  # six open assignments, two items
    assert [item["ticket_id"] for item in view["items"]] == [urgent["id"], urgent["id"]]
    assert {item["agency"] for item in view["items"]} == {"urban", "police"}
    assert all(item["overdue"] for item in view["items"])
    assert sum(cell["tickets"] for cell in view["cells"]) == 4  # the placed ones, each once
    west_cell = next(cell for cell in view["cells"] if cell["lon"] == WEST["lon"])
    assert west_cell["tickets"] == 1 and west_cell["priority"] == "P4" and west_cell["overdue"] == 0
    city_cell = max(view["cells"], key=lambda cell: cell["tickets"])
    assert city_cell["tickets"] == 3 and city_cell["priority"] == "P1" and city_cell["overdue"] == 1
    west, south, east, north = city_cell["bbox"]
    assert west <= CITY_A["lon"] <= east and south <= CITY_A["lat"] <= north
    assert view["unplaced"] == [{"district": "shangcai", "tickets": 1, "overdue": 0, "priority": "P3"}]

    # Zoomed into the city's cell: only what lies inside, all of it, nothing unplaced.
    status, zoomed = await call(http, "GET", f"/api/v1/stats/map?bbox={west},{south},{east},{north}", supervisor)
    assert status == 200, zoomed
    assert zoomed["box"] == [west, south, east, north] and zoomed["complete"] is True
    assert {item["ticket_id"] for item in zoomed["items"]} == {urgent["id"], routine[0]["id"], routine[1]["id"]}
    assert zoomed["total"] == 3 and zoomed["unplaced"] == []
    assert unplaced["id"] not in {item["ticket_id"] for item in zoomed["items"]}


async def test_a_desk_maps_its_own_agency_only_and_a_bad_box_is_422(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    await _file(http, taker, CITY_A)  # urban only
    mine = await _file(http, taker, CITY_B, agencies=["police"])
    status, view = await call(http, "GET", "/api/v1/stats/map", police)
    assert status == 200, view
    assert view["total"] == 1 and {item["ticket_id"] for item in view["items"]} == {mine["id"]}
    status, body = await call(http, "GET", "/api/v1/stats/map?agency=urban", police)
    assert status == 403 and body["error"]["code"] == "not_your_agency"
    for bad in ("1,2,3", "114.1,32,114.0,33", "a,b,c,d", "0,95,1,96"):
        status, body = await call(http, "GET", f"/api/v1/stats/map?bbox={bad}", police)
        assert status == 422, (bad, body)
        assert body["error"]["details"][0]["field"] == "bbox"
    status, body = await call(http, "GET", "/api/v1/stats/map?items=1001", police)
    assert status == 422


async def test_a_desk_lists_its_open_work_by_assignment_page_by_page(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, urban = await make_user("desk", agency="urban")
    filed = [await _file(http, taker, CITY_A) for _ in range(5)]
    elsewhere = await _file(http, taker, CITY_B, agencies=["police"])
    acknowledged = filed[1]["assignments"][0]["id"]
    status, _ = await call(http, "POST", f"/api/v1/assignments/{acknowledged}/acknowledge", urban, {})
    assert status == 200

    seen: list[int] = []
    cursor = None
    for _ in range(5):
        path = "/api/v1/tickets?assignment_state=open&limit=2" + (f"&cursor={cursor}" if cursor else "")
        status, page = await call(http, "GET", path, urban)
        assert status == 200, page
        assert len(page["items"]) <= 2
        seen += [ticket["id"] for ticket in page["items"]]
        assert all(ticket["assignments"] for ticket in page["items"])  # each ticket with its assignments
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [ticket["id"] for ticket in reversed(filed)]  # newest assignment first, each once
    assert elsewhere["id"] not in seen

    status, page = await call(http, "GET", "/api/v1/tickets?assignment_state=acknowledged", urban)
    assert [ticket["id"] for ticket in page["items"]] == [filed[1]["id"]]
    status, page = await call(http, "GET", "/api/v1/tickets?assignment_state=dispatched&agency=urban", urban)
    assert len(page["items"]) == 4


async def test_listing_by_assignment_needs_an_agency_and_its_own_cursor(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    for _ in range(2):
        await _file(http, taker, CITY_A)
    status, body = await call(http, "GET", "/api/v1/tickets?assignment_state=open", supervisor)
    assert status == 422 and body["error"]["details"][0]["field"] == "agency"
    status, body = await call(http, "GET", "/api/v1/tickets?assignment_state=closed&agency=urban", supervisor)
    assert status == 422
    _, by_ticket = await call(http, "GET", "/api/v1/tickets?limit=1", supervisor)
    status, body = await call(
        http, "GET", f"/api/v1/tickets?assignment_state=open&agency=urban&cursor={by_ticket['next_cursor']}", supervisor
    )
    assert status == 400 and body["error"]["code"] == "bad_cursor"
    status, page = await call(http, "GET", "/api/v1/tickets?assignment_state=open&agency=urban", supervisor)
    assert status == 200 and len(page["items"]) == 2
