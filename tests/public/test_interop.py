"""EIDO hand-over between centres (export, then import as if elsewhere) and CAP 1.2 public
warnings validated against the shipped OASIS schema."""

from __future__ import annotations

import copy
from typing import Any

import aiohttp
from lxml import etree

from dispatch.interop.cap import schema_text
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.public.conftest import assert_no_personal_data, create, street_light_body

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


# EIDO ---------------------------------------------------------------------------------------


async def test_eido_export_has_the_incident_components(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    ticket, supervisor = await _worked_on(http, make_user)
    status, document = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}/eido", supervisor)
    assert status == 200
    assert document["eidoVersion"] == "1.0" and document["$id"].startswith("urn:emergency:uid:eido:")
    incident = document["incidentComponent"]
    assert incident["incidentTypeInternalCode"] == "emergency.hazmat"
    assert incident["incidentTypeCommonRegistryText"] == "Hazmat"
    assert incident["incidentPriorityInternalText"] == "P1" and incident["incidentCommonPriorityNumber"] == 9
    assert incident["internalIncidentId"] == ticket["number"]
    ids = {c["$id"] for key in ("locationComponent", "notesComponent", "agencyComponent") for c in document[key]}
    referenced = [r["$ref"].removeprefix("#") for r in incident["locationReference"] + incident["notesReference"]]
    assert set(referenced) <= ids  # every reference resolves inside the document
    [location] = document["locationComponent"]
    assert "<gml:pos>32.9712 114.0456</gml:pos>" in location["locationByValue"]
    assert location["locationDescriptionText"] == "驿城区开源大道化工园区南门"
    owning = [a for a in document["agencyComponent"] if a["incidentOwningAgencyIndicator"]]
    assert [a["$id"].split(".")[0] for a in owning] == ["emergency"]
    assert [d["dispatchRoleText"] for d in document["dispatchComponent"]] == ["lead", "assist"]
    assert len(document["notesComponent"]) == 1 + 1 + len(ticket["timeline"])  # description, report, events


async def test_eido_round_trip_keeps_type_priority_location_agencies_and_timeline(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    original, supervisor = await _worked_on(http, make_user)
    _, exported = await call(http, "GET", f"/api/v1/tickets/{original['id']}/eido", supervisor)

    # The neighbouring centre: another user on (as far as it knows) another system.
    _, elsewhere = await make_user("call_taker", name="neighbour-centre")
    status, imported = await call(http, "POST", "/api/v1/eido", elsewhere, exported)
    assert status == 201, imported
    assert imported["id"] != original["id"] and imported["channel"] == "eido"
    assert imported["category"] == original["category"] == "emergency.hazmat"
    assert imported["priority"] == original["priority"] == "P1"
    assert imported["location"] == original["location"]
    assert [(a["agency"], a["role"]) for a in imported["assignments"]] == [
        (a["agency"], a["role"]) for a in original["assignments"]
    ]
    assert imported["description"] == original["description"]
    assert imported["caller"] == original["caller"]

    notes = [e["data"]["text"] for e in imported["timeline"] if e["type"] == "ticket.note"]
    for event in original["timeline"]:
        assert any(event["type"] in note for note in notes), event["type"]
    assert any("气味更重了" in note for note in notes)  # the further call, as a note
    [provenance] = [e for e in imported["timeline"] if e["type"] == "ticket.imported"]
    assert provenance["data"]["incident_tracking_id"] == exported["incidentTrackingIdentifier"]

    # The same hand-over sent again finds the same ticket; a changed one is refused.
    status, again = await call(http, "POST", "/api/v1/eido", elsewhere, exported)
    assert status == 200 and again["id"] == imported["id"]
    changed = copy.deepcopy(exported)
    changed["incidentComponent"]["incidentPriorityInternalText"] = "P3"
    status, error = await call(http, "POST", "/api/v1/eido", elsewhere, changed)
    assert status == 409 and error["error"]["code"] == "incident_already_imported"


async def test_eido_from_another_system_maps_common_types_and_lets_the_router_fill_gaps(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, partner = await make_user("partner")
    foreign = {
        "$id": "urn:emergency:uid:eido:abc:psap.example.org",
        "eidoVersion": "1.0",
        "issuingElementIdentification": "psap.example.org",
        "incidentTrackingIdentifier": "urn:emergency:uid:incidentid:4711:psap.example.org",
        "incidentComponent": {
            "$id": "inc",
            "incidentTypeCommonRegistryText": "Fire.Structure",
            "incidentCommonPriorityNumber": 10,
            "locationReference": [{"$ref": "#loc"}],
        },
        "callComponent": [{"$id": "call", "notesReference": [{"$ref": "#n1"}]}],
        "notesComponent": [
            {"$id": "n1", "notesActionComments": "<p>仓库起火，浓烟很大</p>"},
            {
                "$id": "n2",
                "lastUpdateTimestamp": "2026-11-24T10:00:00+08:00",
                "notesActionComments": "已派出两辆消防车",
            },
        ],
        "locationComponent": [{"$id": "loc", "locationDescriptionText": "西平县工业园区3号仓库"}],
        "agencyComponent": [
            {
                "$id": "fd.example.org",
                "agencyType": ["urn:emergency:service:responder.fire"],
                "incidentOwningAgencyIndicator": True,
            },
        ],
    }
    status, ticket = await call(http, "POST", "/api/v1/eido", partner, foreign)
    assert status == 201, ticket
    assert ticket["category"] == "emergency.fire" and ticket["priority"] == "P1"
    assert ticket["description"] == "仓库起火，浓烟很大"
    assert ticket["location"]["address"] == "西平县工业园区3号仓库"
    assert ticket["assignments"][0]["agency"] == "emergency"
    assert [e["data"]["text"] for e in ticket["timeline"] if e["type"] == "ticket.note"] == ["已派出两辆消防车"]


async def test_eido_import_refuses_what_cannot_become_a_ticket(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    for document, field in (
        ({"eidoVersion": "1.0"}, "incidentComponent"),
        ({"incidentComponent": {"$id": "x"}}, "notesComponent"),
        (
            {"incidentComponent": {"incidentTypeInternalText": "某事"}, "locationComponent": [{"$id": "l"}]},
            "locationComponent",
        ),
        ({"incidentComponent": {}, "notesComponent": [{"notesActionComments": 5}]}, "notesComponent.0"),
    ):
        status, error = await call(http, "POST", "/api/v1/eido", taker, document)
        assert status == 422, document
        assert any(d["field"].startswith(field) for d in error["error"]["details"]), error


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
