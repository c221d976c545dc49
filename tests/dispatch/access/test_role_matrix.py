"""Every cell of the role matrix in docs/api.md, tested: who may create, read and move what."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest

from dispatch.access.permissions import ALL_ROLES, PERMISSIONS
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory

Scenario = Callable[[aiohttp.ClientSession, str, dict[str, Any]], Awaitable[int]]


async def _setup(http: aiohttp.ClientSession, make_user: UserFactory) -> dict[str, Any]:
    taker_user, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    _, other = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description="另一起打架"))
    _, queued = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description="说不清的事", queue=True))
    return {
        "ticket": ticket,
        "other": other,
        "queued": queued,
        "lead": ticket["assignments"][0]["id"],
        "taker": taker_user.name,
    }


async def _create(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "POST", "/api/v1/tickets", token, ticket_body()))[0]


async def _read(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", f"/api/v1/tickets/{ctx['ticket']['id']}", token))[0]


async def _list(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/tickets", token))[0]


async def _report(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    path = f"/api/v1/tickets/{ctx['ticket']['id']}/reports"
    return (await call(http, "POST", path, token, {"description": "又一个电话"}))[0]


async def _merge(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    path = f"/api/v1/tickets/{ctx['other']['id']}/merge"
    return (await call(http, "POST", path, token, {"into": ctx["ticket"]["id"]}))[0]


async def _assign(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    path = f"/api/v1/tickets/{ctx['ticket']['id']}/assignments"
    return (await call(http, "POST", path, token, {"agency": "emergency", "role": "assist", "reason": "需要应急"}))[0]


async def _move(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "POST", f"/api/v1/assignments/{ctx['lead']}/acknowledge", token, {}))[0]


async def _me(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/me", token))[0]


async def _classify(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "POST", "/api/v1/classify", token, {"text": "路灯不亮了"}))[0]


async def _export(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", f"/api/v1/tickets/{ctx['ticket']['id']}/eido", token))[0]


async def _import_eido(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    document = {
        "incidentComponent": {"incidentTypeInternalCode": "urban.street_light", "incidentPriorityInternalText": "P4"},
        "notesComponent": [{"$id": "n", "notesActionComments": "路灯不亮"}],
        "locationComponent": [{"$id": "l", "locationDescriptionText": "驿城区解放路"}],
    }
    return (await call(http, "POST", "/api/v1/eido", token, document))[0]


async def _open311_submit(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    form = {"api_key": token, "service_code": "urban.street_light", "address_string": "驿城区解放路"}
    async with http.post("/open311/v2/requests.json", data=form) as response:
        return response.status


async def _read_service_levels(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/service-levels", token))[0]


async def _set_service_level(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    body = {"priority": "P4", "ack_seconds": 3600, "resolve_seconds": 259200}
    return (await call(http, "PUT", "/api/v1/service-levels", token, body))[0]


async def _pause(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "POST", f"/api/v1/assignments/{ctx['lead']}/pause", token, {"reason": "等待群众回复"}))[0]


async def _stats(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/stats/summary", token))[0]


async def _stream(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    try:
        async with http.ws_connect(f"/api/v1/stream?token={token}") as ws:
            await ws.receive_json(timeout=5)  # hello
            return 200
    except aiohttp.WSServerHandshakeError as exc:
        return exc.status


async def _read_desks(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/desks?agency=police", token))[0]


async def _write_desk(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    body = {"agency": "police", "name": "公安 驿城区 二席", "districts": []}
    return (await call(http, "PUT", "/api/v1/desks/police.yicheng-2", token, body))[0]


async def _note(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    body = {"kind": "on_scene", "text": "已到场"}
    return (await call(http, "POST", f"/api/v1/assignments/{ctx['lead']}/notes", token, body))[0]


async def _read_handled(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/assignments/handled", token))[0]


async def _read_dead_letters(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/deliveries/dead", token))[0]


async def _replay_dead_letters(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "POST", "/api/v1/deliveries/dead/replay", token, {"all": True}))[0]


async def _read_queue(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/queue", token))[0]


async def _reroute(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    path = f"/api/v1/tickets/{ctx['queued']['id']}/reroute"
    return (await call(http, "POST", path, token, {"category": "police.dispute"}))[0]


async def _read_kb(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/kb/suggest?text=居住证", token))[0]


async def _write_kb(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "POST", "/api/v1/kb", token, {"title": "居住证", "answer": "到派出所办理"}))[0]


async def _set_password(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    body = {"password": "a-new-password"}
    return (await call(http, "PUT", f"/api/v1/users/{ctx['taker']}/password", token, body))[0]


async def _read_sms(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/sms", token))[0]


async def _urge(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "POST", f"/api/v1/assignments/{ctx['lead']}/urge", token, {"text": "请尽快签收"}))[0]


async def _redispatch(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    body = {"desk": "police.xiping", "reason": "事发地在西平"}
    return (await call(http, "POST", f"/api/v1/assignments/{ctx['lead']}/redispatch", token, body))[0]


async def _read_gazetteer(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    return (await call(http, "GET", "/api/v1/gazetteer", token))[0]


async def _import_gazetteer(http: aiohttp.ClientSession, token: str, ctx: dict[str, Any]) -> int:
    body = {"csv": "name,kind,district,lat,lon\n人民公园,place,驿城区,33.006,114.020\n"}
    return (await call(http, "POST", "/api/v1/gazetteer/import", token, body))[0]


SCENARIOS: dict[str, Scenario] = {
    "queue.read": _read_queue,
    "ticket.reroute": _reroute,
    "gazetteer.read": _read_gazetteer,
    "gazetteer.write": _import_gazetteer,
    "desk.read": _read_desks,
    "desk.write": _write_desk,
    "stream": _stream,
    "ticket.create": _create,
    "ticket.read": _read,
    "ticket.list": _list,
    "ticket.report": _report,
    "ticket.merge": _merge,
    "ticket.assign": _assign,
    "assignment.move": _move,
    "me": _me,
    "classify": _classify,
    "ticket.export": _export,
    "eido.import": _import_eido,
    "open311.submit": _open311_submit,
    "service_level.read": _read_service_levels,
    "service_level.write": _set_service_level,
    "assignment.pause": _pause,
    "stats.read": _stats,
    "assignment.note": _note,
    "assignment.read": _read_handled,
    "deliveries.read": _read_dead_letters,
    "deliveries.replay": _replay_dead_letters,
    "kb.read": _read_kb,
    "kb.write": _write_kb,
    "user.password": _set_password,
    "sms.read": _read_sms,
    "assignment.urge": _urge,
    "assignment.redispatch": _redispatch,
}

# The user each role is tested as: the desk is the lead agency's (police), so that a
# refusal can only come from the role matrix, not from row-level visibility.
USERS = {"desk": {"agency": "police"}}


def test_every_operation_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(PERMISSIONS)


@pytest.mark.parametrize("role", ALL_ROLES)
@pytest.mark.parametrize("operation", sorted(PERMISSIONS))
async def test_role_matrix_cell(http: aiohttp.ClientSession, make_user: UserFactory, operation: str, role: str) -> None:
    ctx = await _setup(http, make_user)
    _, token = await make_user(role, **USERS.get(role, {}))
    status = await SCENARIOS[operation](http, token, ctx)
    allowed = role in PERMISSIONS[operation]
    if allowed:
        # A partner sees only what it filed: the shared ticket is invisible to it (404).
        expected = {404} if role == "partner" and operation in ("ticket.read",) else {200, 201}
        assert status in expected, (operation, role, status)
    else:
        assert status == 403, (operation, role, status)


async def test_desk_of_an_uninvolved_agency_gets_404_not_403(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    ctx = await _setup(http, make_user)
    _, urban = await make_user("desk", agency="urban")
    assert await _read(http, urban, ctx) == 404
    assert await _move(http, urban, ctx) == 404
    assert await _report(http, urban, ctx) == 403  # desks never add reports, whoever's ticket
    _, page = await call(http, "GET", "/api/v1/tickets", urban)
    assert page["items"] == []


async def test_involved_desk_may_not_move_another_agencys_assignment(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    ctx = await _setup(http, make_user)
    _, health = await make_user("desk", agency="health")  # assisting on the ticket
    assert await _read(http, health, ctx) == 200
    status, error = await call(http, "POST", f"/api/v1/assignments/{ctx['lead']}/acknowledge", health, {})
    assert status == 403 and error["error"]["code"] == "not_your_assignment"


async def test_desk_lists_only_its_agencys_tickets(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    light = ticket_body(description="路灯不亮", category="urban.street_light", priority="P4", agencies=["urban"])
    _, urban_ticket = await call(http, "POST", "/api/v1/tickets", taker, light)
    _, urban = await make_user("desk", agency="urban")
    _, page = await call(http, "GET", "/api/v1/tickets", urban)
    assert [t["id"] for t in page["items"]] == [urban_ticket["id"]]
    assert page["items"][0]["tracking_token"] is None  # desks do not read tokens out to callers


async def test_partner_sees_only_what_it_filed(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    _, partner = await make_user("partner")
    _, page = await call(http, "GET", "/api/v1/tickets", partner)
    assert page["items"] == []


def test_every_operation_is_in_the_documented_matrix() -> None:
    from pathlib import Path

    documented = (Path(__file__).resolve().parents[3] / "docs" / "api.md").read_text(encoding="utf-8")
    assert [op for op in PERMISSIONS if f"(`{op}`)" not in documented] == []
