"""Who may export EIDO, and CAP 1.2 public warnings validated against the shipped OASIS schema."""

from __future__ import annotations

from typing import Any

import aiohttp
from lxml import etree

from dispatch.interop.cap import schema_text
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.public.conftest import assert_no_personal_data, create, resolve_all, street_light_body

CAP_NS = {"cap": "urn:oasis:names:tc:emergency:cap:1.2"}


def hazmat_body() -> dict[str, Any]:
    return ticket_body(
        description="化工厂罐车侧翻，有刺鼻气味的液体泄漏，我是李先生13800000000",
        category="emergency.hazmat",
        priority="P1",
        agencies=["emergency", "health"],
        location={"address": "驿城区开源大道化工园区南门", "district": "驿城区", "lat": 32.9712, "lon": 114.0456},
    )


async def _worked_on(http: aiohttp.ClientSession, make_user: UserFactory) -> tuple[dict[str, Any], str]:
    """A hazmat ticket with a timeline: acknowledged, started, a further call."""
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    ticket = await create(http, taker, hazmat_body())
    lead = ticket["assignments"][0]["id"]
    for action in ("acknowledge", "start"):
        status, _ = await call(http, "POST", f"/api/v1/assignments/{lead}/{action}", supervisor, {})
        assert status == 200
    status, _ = await call(
        http, "POST", f"/api/v1/tickets/{ticket['id']}/reports", taker, {"description": "又有人打电话说气味更重了"}
    )
    assert status == 201
    _, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    return full, supervisor


# EIDO (the conformance tests against NENA's schema are in tests/interop/test_eido.py) ------------


async def test_a_desk_exports_only_what_its_agency_sees(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    ticket, _ = await _worked_on(http, make_user)
    _, police = await make_user("desk", agency="police")
    _, emergency = await make_user("desk", agency="emergency")
    assert (await call(http, "GET", f"/api/v1/tickets/{ticket['id']}/eido", police))[0] == 404
    assert (await call(http, "GET", f"/api/v1/tickets/{ticket['id']}/eido", emergency))[0] == 200
    async with http.get(f"/api/v1/tickets/{ticket['id']}/cap", headers={"Authorization": f"Bearer {police}"}) as r:
        assert r.status == 404


# CAP ----------------------------------------------------------------------------------------


async def _cap(http: aiohttp.ClientSession, ticket_id: int, token: str) -> bytes:
    async with http.get(f"/api/v1/tickets/{ticket_id}/cap", headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("application/cap+xml")
        return await response.read()


async def test_cap_alert_validates_against_the_shipped_cap_1_2_schema(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    schema = etree.XMLSchema(etree.fromstring(schema_text().encode("utf-8")))
    ticket, supervisor = await _worked_on(http, make_user)
    raw = await _cap(http, ticket["id"], supervisor)
    document = etree.fromstring(raw)
    assert schema.validate(document), schema.error_log
    assert document.findtext("cap:status", namespaces=CAP_NS) == "Actual"
    assert document.findtext("cap:scope", namespaces=CAP_NS) == "Public"
    infos = document.findall("cap:info", namespaces=CAP_NS)
    assert [i.findtext("cap:language", namespaces=CAP_NS) for i in infos] == ["zh-CN", "en-US"]
    zh = infos[0]
    assert zh.findtext("cap:category", namespaces=CAP_NS) == "CBRNE"
    assert zh.findtext("cap:event", namespaces=CAP_NS) == "危化品泄漏"
    assert [zh.findtext(f"cap:{f}", namespaces=CAP_NS) for f in ("urgency", "severity", "certainty")] == [
        "Immediate",
        "Severe",
        "Observed",
    ]
    assert zh.findtext("cap:area/cap:circle", namespaces=CAP_NS) == "32.971200,114.045600 2"
    assert "驿城区开源大道化工园区南门" in (zh.findtext("cap:area/cap:areaDesc", namespaces=CAP_NS) or "")


async def test_every_category_and_state_renders_valid_cap_without_personal_data(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    schema = etree.XMLSchema(etree.fromstring(schema_text().encode("utf-8")))
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    # No coordinates, an address naming the caller, a resolved ticket: still valid, still clean.
    body = street_light_body(location={"address": "李先生家门口，电话13800000000", "district": "驿城区"})
    ticket = await create(http, taker, body)
    for assignment in ticket["assignments"]:
        for action, payload in (("acknowledge", {}), ("resolve", {"resolution": "已修复"})):
            await call(http, "POST", f"/api/v1/assignments/{assignment['id']}/{action}", supervisor, payload)
    raw = await _cap(http, ticket["id"], supervisor)
    assert schema.validate(etree.fromstring(raw)), schema.error_log
    assert_no_personal_data(raw)
    assert b"<urgency>Past</urgency>" in raw and b"<responseType>AllClear</responseType>" in raw
    assert b"<msgType>Update</msgType>" in raw  # the all-clear updates the alert, it is no new alert
    violence = await create(http, taker, ticket_body())  # a fight: announced without details
    raw = await _cap(http, violence["id"], supervisor)
    assert schema.validate(etree.fromstring(raw)), schema.error_log
    assert_no_personal_data(raw)
    assert "头破血流" not in raw.decode()


async def test_the_schema_rejects_what_cap_forbids(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    # The shipped schema is not a rubber stamp: a wrong enumeration or a time without zone fails.
    schema = etree.XMLSchema(etree.fromstring(schema_text().encode("utf-8")))
    ticket, supervisor = await _worked_on(http, make_user)
    raw = await _cap(http, ticket["id"], supervisor)
    for good, bad in ((b"<urgency>Immediate</urgency>", b"<urgency>Now</urgency>"), (b"+08:00</sent>", b"</sent>")):
        assert good in raw
        assert not schema.validate(etree.fromstring(raw.replace(good, bad, 1)))


async def test_the_all_clear_is_an_update_referencing_the_alert_it_ends(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    schema = etree.XMLSchema(etree.fromstring(schema_text().encode("utf-8")))
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    ticket = await create(http, taker, hazmat_body())
    first = etree.fromstring(await _cap(http, ticket["id"], supervisor))
    assert schema.validate(first), schema.error_log
    assert first.findtext("cap:msgType", namespaces=CAP_NS) == "Alert"
    assert first.find("cap:references", namespaces=CAP_NS) is None
    assert etree.tostring(first) == etree.tostring(etree.fromstring(await _cap(http, ticket["id"], supervisor)))

    await resolve_all(http, supervisor, ticket, resolution="泄漏已处置")
    clear = etree.fromstring(await _cap(http, ticket["id"], supervisor))
    assert schema.validate(clear), schema.error_log
    assert clear.findtext("cap:msgType", namespaces=CAP_NS) == "Update"
    ended = ",".join(first.findtext(f"cap:{f}", namespaces=CAP_NS) or "" for f in ("sender", "identifier", "sent"))
    assert clear.findtext("cap:references", namespaces=CAP_NS) == ended
    assert clear.findtext("cap:identifier", namespaces=CAP_NS) != first.findtext("cap:identifier", namespaces=CAP_NS)
    for info in clear.findall("cap:info", namespaces=CAP_NS):
        assert info.findtext("cap:responseType", namespaces=CAP_NS) == "AllClear"
        assert info.findtext("cap:urgency", namespaces=CAP_NS) == "Past"
