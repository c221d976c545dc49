"""The whole path over HTTP: create, acknowledge, start, resolve; return, transfer, merge."""

import aiohttp

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


async def test_create_acknowledge_start_resolve_with_lead_and_assisting(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, health = await make_user("desk", agency="health")

    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    assert status == 201
    assert ticket["number"].startswith("MS") and len(ticket["tracking_token"]) >= 16
    assert ticket["status"] == "dispatched"
    assert [(a["agency"], a["role"], a["state"]) for a in ticket["assignments"]] == [
        ("police", "lead", "dispatched"),
        ("health", "assist", "dispatched"),
    ]
    lead, assist = ticket["assignments"]
    assert lead["ack_due"] < lead["resolve_due"]
    assert ticket["caller"]["phone"] == "+8613800000000"

    for token, assignment, action, body in [
        (police, lead, "acknowledge", {}),
        (police, lead, "start", {}),
        (health, assist, "acknowledge", {}),
        (health, assist, "resolve", {"resolution": "伤者已送医"}),
        (police, lead, "resolve", {"resolution": "双方已带回派出所调解"}),
    ]:
        status, result = await call(http, "POST", f"/api/v1/assignments/{assignment['id']}/{action}", token, body)
        assert status == 200, result
    assert result["ticket"]["status"] == "resolved"

    status, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", taker)
    assert status == 200
    assert [e["type"] for e in full["timeline"]] == [
        "ticket.created",
        "assignment.created",
        "assignment.created",
        "assignment.acknowledged",
        "assignment.started",
        "assignment.acknowledged",
        "assignment.resolved",
        "assignment.resolved",
    ]
    assert all(e["actor"] and e["at"] for e in full["timeline"])
    assert full["timeline"][0]["actor"].startswith("call_taker:")
    assert full["timeline"][3]["actor"].startswith("desk:")
    assert full["timeline"][-1]["data"]["resolution"] == "双方已带回派出所调解"


async def test_ticket_status_follows_the_most_advanced_open_assignment(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    lead = ticket["assignments"][0]
    _, result = await call(http, "POST", f"/api/v1/assignments/{lead['id']}/acknowledge", police, {})
    assert result["ticket"]["status"] == "acknowledged"
    _, result = await call(http, "POST", f"/api/v1/assignments/{lead['id']}/start", police, {})
    assert result["ticket"]["status"] == "in_progress"
    _, result = await call(http, "POST", f"/api/v1/assignments/{lead['id']}/resolve", police, {"resolution": "ok"})
    assert result["ticket"]["status"] == "dispatched"  # health has not acted yet


async def test_return_puts_the_ticket_back_in_the_queue_for_rerouting(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, urban = await make_user("desk", agency="urban")
    _, transport = await make_user("desk", agency="transport")
    body = ticket_body(description="路口红绿灯坏了", category="urban.facility", priority="P3", agencies=["urban"])
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assignment = ticket["assignments"][0]

    status, error = await call(http, "POST", f"/api/v1/assignments/{assignment['id']}/return", urban, {})
    assert status == 422 and error["error"]["details"][0]["field"] == "reason"
    status, result = await call(
        http, "POST", f"/api/v1/assignments/{assignment['id']}/return", urban, {"reason": "信号灯归交通部门"}
    )
    assert status == 200
    assert result["assignment"]["state"] == "returned"
    assert result["ticket"]["status"] == "new"

    status, queue = await call(http, "GET", "/api/v1/tickets?status=new", taker)
    assert [t["id"] for t in queue["items"]] == [ticket["id"]]

    status, rerouted = await call(
        http,
        "POST",
        f"/api/v1/tickets/{ticket['id']}/assignments",
        taker,
        {"agency": "transport", "role": "lead", "reason": "改派交通部门"},
    )
    assert status == 201
    assert rerouted["status"] == "dispatched"
    status, seen = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", transport)
    assert status == 200 and seen["assignments"][-1]["agency"] == "transport"
    # The returning desk still sees the ticket it had, with the reason on the timeline.
    status, seen = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", urban)
    assert status == 200
    returned = [e for e in seen["timeline"] if e["type"] == "assignment.returned"]
    assert returned[0]["data"]["reason"] == "信号灯归交通部门"


async def test_transfer_closes_this_assignment_and_opens_one_for_the_target(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, transport = await make_user("desk", agency="transport")
    body = ticket_body(
        description="有车辆违停堵住小区出口",
        category="police.public_order",
        priority="P3",
        agencies=["police"],
    )
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assignment = ticket["assignments"][0]

    status, _before = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", transport)
    assert status == 404  # not transport's ticket yet
    status, result = await call(
        http,
        "POST",
        f"/api/v1/assignments/{assignment['id']}/transfer",
        police,
        {"agency": "transport", "reason": "违停堵路归交通"},
    )
    assert status == 200
    assert result["assignment"]["state"] == "transferred"
    assert result["created"]["agency"] == "transport" and result["created"]["role"] == "lead"
    assert result["assignment"]["transferred_to"] == result["created"]["id"]
    status, _seen = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", transport)
    assert status == 200
    status, _ = await call(http, "POST", f"/api/v1/assignments/{result['created']['id']}/acknowledge", transport, {})
    assert status == 200
    status, error = await call(
        http,
        "POST",
        f"/api/v1/assignments/{result['created']['id']}/transfer",
        transport,
        {"agency": "transport", "reason": "x"},
    )
    assert status == 409 and error["error"]["code"] == "transfer_to_self"


async def test_merge_folds_a_duplicate_into_another_ticket(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    _, first = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    _, second = await call(
        http,
        "POST",
        "/api/v1/tickets",
        taker,
        ticket_body(description="永辉超市门口打起来了", caller={"phone": "13900000000"}),
    )
    status, _report = await call(
        http,
        "POST",
        f"/api/v1/tickets/{second['id']}/reports",
        taker,
        {"description": "又有人打电话说还在打"},
    )
    assert status == 201
    status, merged = await call(http, "POST", f"/api/v1/tickets/{second['id']}/merge", taker, {"into": first["id"]})
    assert status == 200
    assert {r["description"] for r in merged["reports"]} == {"永辉超市门口打起来了", "又有人打电话说还在打"}
    assert all(r["moved_from"] == second["id"] for r in merged["reports"])
    assert merged["timeline"][-1]["type"] == "ticket.merged"

    _, duplicate = await call(http, "GET", f"/api/v1/tickets/{second['id']}", taker)
    assert duplicate["status"] == "merged" and duplicate["merged_into"] == first["id"]
    assert {a["state"] for a in duplicate["assignments"]} == {"released"}
    assert all(a["closed_reason"] == f"merged into {first['number']}" for a in duplicate["assignments"])
    assert duplicate["timeline"][-1]["type"] == "ticket.merged"

    status, error = await call(http, "POST", f"/api/v1/tickets/{second['id']}/merge", taker, {"into": first["id"]})
    assert status == 409
    status, error = await call(http, "POST", f"/api/v1/tickets/{first['id']}/merge", taker, {"into": first["id"]})
    assert status == 409 and error["error"]["code"] == "merge_into_self"
