"""What the desk console alerts on reaches exactly the desks that may see it, over the socket:
a further caller's report and a progress note go to every agency on the ticket, an escalation
to the overdue agency alone; each carries the assignment fields the alarms are worked out from."""

from __future__ import annotations

import aiohttp
from aiohttp.test_utils import TestServer

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.ws_helpers import collect_events, connect, quiet_for


def base(server: TestServer) -> str:
    return str(server.make_url("/"))


async def test_reports_and_notes_reach_every_agency_on_the_ticket_and_no_other(
    server: TestServer, http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")
    _, urban = await make_user("desk", agency="urban")
    async with (
        await connect(base(server), police) as police_ws,
        await connect(base(server), health) as health_ws,
        await connect(base(server), urban) as urban_ws,
    ):
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police", "health"]))
        lead = ticket["assignments"][0]["id"]
        for ws in (police_ws, health_ws):
            await collect_events(ws, 3)  # ticket.created and its two assignment.created
        status, _ = await call(
            http, "POST", f"/api/v1/tickets/{ticket['id']}/reports", taker, {"description": "有人说是2单元"}
        )
        assert status == 201
        status, _ = await call(
            http, "POST", f"/api/v1/assignments/{lead}/notes", police, {"kind": "note", "text": "已出警，预计10分钟到"}
        )
        assert status == 201
        for ws in (police_ws, health_ws):
            report, note = await collect_events(ws, 2)
            assert report["type"] == "ticket.report_added" and report["data"]["report_id"]
            assert note["type"] == "assignment.note"
            assert note["data"]["text"] == "已出警，预计10分钟到" and note["data"]["agency"] == "police"
            assignment = note["ticket"]["assignments"][0]
            for field in ("paused_at", "pause_reason", "deadlines_armed_at", "escalation_level"):
                assert field in assignment
        assert await quiet_for(urban_ws, 0.5) == []
