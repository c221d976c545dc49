"""EIDO checked against what NENA publishes: our exports validate against the standard's schema
with zero errors, NENA's own sample imports, registry-coded incidents map as docs/interop.md
says, a re-sent or updated hand-over adds to one ticket, and PIDF-LO is read in its forms."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

import agencies
from dispatch.interop import eido_registry as registry
from dispatch.interop.eido import parse_pidf
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.interop import nena_schema
from tests.public.conftest import create

DOCS = Path(__file__).parents[2] / "docs" / "interop.md"
PIDF_NS = (
    'xmlns="urn:ietf:params:xml:ns:pidf" xmlns:gp="urn:ietf:params:xml:ns:pidf:geopriv10"'
    ' xmlns:gml="http://www.opengis.net/gml"'
)


def hazmat_body() -> dict[str, Any]:
    return ticket_body(
        description="化工厂罐车侧翻，有刺鼻气味的液体泄漏 <b>很危险</b> & 需要疏散",
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
    report = {"description": "又有人打电话说气味更重了", "caller": {"phone": "139 1234 5678"}}
    status, _ = await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reports", taker, report)
    assert status == 201
    _, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    return full, supervisor


def _registry_values(document: dict[str, Any]) -> None:
    """Every registry element of ``document`` holds a value of its registry."""
    incident = document["incidentComponent"]
    assert incident["incidentTypeCommonRegistryText"] in registry.INCIDENT_TYPES
    assert set(incident["incidentStatusCommonRegistryText"]) <= registry.INCIDENT_STATUSES
    for agency in document["agencyComponent"]:
        assert set(agency["agencyRoleDescriptionRegistryText"]) <= registry.AGENCY_ROLES, agency
        assert set(agency["agencyType"]) <= registry.RESPONDER_TYPES, agency
    for entry in document["callComponent"]:
        assert entry["callStateRegistryText"] in registry.CALL_STATES
    for person in document.get("personComponent", []):
        assert set(person["personIncidentRoleRegistryText"]) <= registry.PERSON_ROLES
    for location in document["locationComponent"]:
        assert location["locationTypeDescriptionRegistryText"] in registry.LOCATION_TYPES


def _references_resolve(document: dict[str, Any]) -> None:
    ids = {c["$id"] for key, value in document.items() if key.endswith("Component") for c in _components(value)}
    ids.add(document["$id"])

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if set(node) == {"$ref"}:
                assert node["$ref"] in ids, node
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(document)


def _components(value: Any) -> list[dict[str, Any]]:
    return value if isinstance(value, list) else [value]


# Export -------------------------------------------------------------------------------------


async def test_exports_validate_against_nenas_schema_with_registry_values(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    worked, supervisor = await _worked_on(http, make_user)
    _, taker = await make_user("call_taker")
    # Transport and city management (no responder type of their own), no coordinates, and a
    # cancelled one, beside the worked-on hazmat ticket.
    road = await create(
        http,
        taker,
        ticket_body(
            description="路面塌了个大坑，路灯也不亮",
            category="transport.road_damage",
            agencies=["transport", "urban"],
            location={"address": "西平县人民路", "district": "西平县"},
        ),
    )
    for ticket_id in (worked["id"], road["id"]):
        status, document = await call(http, "GET", f"/api/v1/tickets/{ticket_id}/eido", supervisor)
        assert status == 200
        assert nena_schema.errors(document) == []
        _registry_values(document)
        _references_resolve(document)
        _, ticket = await call(http, "GET", f"/api/v1/tickets/{ticket_id}", supervisor)
        assert document["$id"] == f"urn:emergency:uid:incidentid:{ticket['number']}:minsheng110.local"
        _, again = await call(http, "GET", f"/api/v1/tickets/{ticket_id}/eido", supervisor)
        assert again == document  # the same state, the same document: a stable $id and stamps

    _, document = await call(http, "GET", f"/api/v1/tickets/{worked['id']}/eido", supervisor)
    incident = document["incidentComponent"]
    assert incident["incidentTypeCommonRegistryText"] == "HAZMAT"
    assert incident["incidentTypeInternalCode"] == "emergency.hazmat"
    assert incident["incidentPriorityInternalText"] == "P1" and incident["incidentCommonPriorityNumber"] == 9
    owning = [a["$id"] for a in document["agencyComponent"] if a["incidentOwningAgencyIndicator"]]
    assert owning == ["emergency.minsheng110.local"]
    assert [len(document["callComponent"]), len(document["callbackComponent"])] == [2, 2]  # the call and the report
    first_call = document["callComponent"][0]
    assert first_call["direction"] == "incoming" and first_call["callStateRegistryText"] == "callEnd"
    callback = next(c for c in document["callbackComponent"] if c["$id"] == first_call["callBackReference"]["$ref"])
    assert callback["callBackInformationUri"] == [f"tel:{worked['caller']['phone']}"]
    # Notes are HTML fragments: what the caller typed is escaped, not markup.
    assert "&lt;b&gt;很危险&lt;/b&gt; &amp; 需要疏散" in document["notesComponent"][0]["notesActionComments"]

    status, document = await call(http, "GET", f"/api/v1/tickets/{road['id']}/eido", supervisor)
    types = {a["$id"].split(".")[0]: a["agencyType"] for a in document["agencyComponent"]}
    assert types == {"minsheng110": ["psap"], "transport": [], "urban": []}
    assert "gml:Point" not in document["locationComponent"][0]["locationByValue"]


async def test_the_schema_check_is_no_rubber_stamp(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    worked, supervisor = await _worked_on(http, make_user)
    _, document = await call(http, "GET", f"/api/v1/tickets/{worked['id']}/eido", supervisor)
    for breaks in (
        lambda d: d.pop("agencyComponent"),
        lambda d: d["incidentComponent"].pop("incidentTypeCommonRegistryText"),
        lambda d: d["callComponent"][0].update(direction="sideways"),
        lambda d: d["notesComponent"][0].update(lastUpdateTimeStamp="yesterday"),
        lambda d: d["locationComponent"][0].pop("lastUpdateTimeStamp"),
        lambda d: d["agencyComponent"][0].update(updatedByAgencyReference={"id": "x"}),
    ):
        broken = copy.deepcopy(document)
        breaks(broken)
        assert nena_schema.errors(broken), broken


# Import -------------------------------------------------------------------------------------


async def test_nenas_sample_imports_into_the_call_takers_queue_with_its_callback_numbers(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    sample = nena_schema.sample()
    assert nena_schema.errors(sample) == []
    _, partner = await make_user("partner")
    status, ticket = await call(http, "POST", "/api/v1/eido", partner, sample)
    assert status == 201, ticket
    # No incident component, so no incident type: no category is guessed.
    assert ticket["status"] == "new" and ticket["category"] is None and ticket["assignments"] == []
    [queued] = [e for e in ticket["timeline"] if e["type"] == "ticket.queued"]
    assert queued["data"]["code"] == "incident_type_missing"
    [imported] = [e for e in ticket["timeline"] if e["type"] == "ticket.imported"]
    assert imported["data"]["incident_tracking_id"] == sample["$id"]
    assert imported["data"]["callbacks"] == ["sip:8195551212@osp.com", "tel:8195551212"]
    assert imported["data"]["location_references"] == ["https://lrf.osp.com?oasufdqwerjn12346jfias"]
    assert imported["data"]["updated_at"] == sample["lastUpdateTimeStamp"]
    assert ticket["location"]["address"] == "42 W Cellular Street, Wilmington, DE, US"
    notes = [e["data"] for e in ticket["timeline"] if e["type"] == "ticket.note"]
    assert [n["text"] for n in notes] == ["This is an example text."]  # the provider's comment block
    assert notes[0]["noted_at"] == "2021-04-30T14:40:00.0-04:00"

    # The queued ticket exports as a valid EIDO too: no category yet, no agency but the centre.
    _, supervisor = await make_user("supervisor")
    status, document = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}/eido", supervisor)
    assert status == 200 and nena_schema.errors(document) == []
    _registry_values(document)
    assert document["incidentComponent"]["incidentTypeCommonRegistryText"] == "NCRNONE"
    assert [a["agencyType"] for a in document["agencyComponent"]] == [["psap"]]


def _coded(code: str, number: int) -> dict[str, Any]:
    """A schema-valid EIDO of incident type ``code`` from another centre."""
    agency = {"$ref": "psap.example.org"}
    stamp = "2026-11-24T10:00:00+08:00"
    return {
        "$id": f"urn:emergency:uid:incidentid:{number}:psap.example.org",
        "lastUpdateTimeStamp": stamp,
        "updatedByAgencyReference": agency,
        "eidoVersion": "1.0",
        "issuingElementIdentification": "cad.psap.example.org",
        "incidentComponent": {
            "$id": f"urn:emergency:uid:eidodatacomponent:inc{number}:psap.example.org",
            "lastUpdateTimeStamp": stamp,
            "updatedByAgencyReference": agency,
            "incidentTypeCommonRegistryText": code,
            "locationReference": [{"$ref": f"loc{number}"}],
        },
        "callComponent": [
            {
                "$id": f"urn:emergency:uid:callid:{number}:psap.example.org",
                "lastUpdateTimeStamp": stamp,
                "updatedByAgencyReference": agency,
                "standardPrimaryCallType": "emergency",
                "direction": "incoming",
                "callStartTimestamp": stamp,
                "callStateRegistryText": "callEnd",
                "notesReference": [{"$ref": f"note{number}"}],
            }
        ],
        "notesComponent": [
            {
                "$id": f"note{number}",
                "lastUpdateTimeStamp": stamp,
                "updatedByAgencyReference": agency,
                "notesActionComments": f"<p>Caller reports {code}</p>",
            }
        ],
        "locationComponent": [
            {
                "$id": f"loc{number}",
                "lastUpdateTimeStamp": stamp,
                "updatedByAgencyReference": agency,
                "locationTypeDescriptionRegistryText": "CurrentIncident",
                "locationByValue": f'<presence {PIDF_NS} entity="pres:x@example.org"><tuple id="t"><status>'
                "<gp:geopriv><gp:location-info><gml:Point><gml:pos>32.98 114.02</gml:pos></gml:Point>"
                "</gp:location-info></gp:geopriv></status></tuple></presence>",
            }
        ],
        "agencyComponent": [
            {
                "$id": "psap.example.org",
                "lastUpdateTimeStamp": stamp,
                "updatedByAgencyReference": agency,
                "agencyRoleDescriptionRegistryText": ["CallReceiving", "TransferredTo"],
                "agencyType": ["psap"],
            }
        ],
    }


CODED = {
    "FSTRU": "emergency.fire",
    "FVEH": "emergency.fire",
    "MVAINJY": "transport.accident",
    "GASLEAKI": "emergency.gas_leak",
    "HAZMAT": "emergency.hazmat",
    "BLDCLPSE": "emergency.collapse",
    "CARDIAC": "health.emergency",
    "PANDEMIC": "health.epidemic",
    "ROBBERY": "police.theft",
    "FRAUD": "police.fraud",
    "PERMISS": "police.missing_person",
    "NOISE": "police.public_order",
    "THAZ": "transport.obstruction",
    "PUBWKS": "urban.utilities",
    "fstru": "emergency.fire",  # registry values are compared without regard to case
}


async def test_registry_coded_incidents_map_as_documented(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, partner = await make_user("partner")
    for number, (code, category) in enumerate(CODED.items(), start=1):
        document = _coded(code, number)
        assert nena_schema.errors(document) == []
        status, ticket = await call(http, "POST", "/api/v1/eido", partner, document)
        assert status == 201, (code, ticket)
        assert ticket["category"] == category, code
        assert ticket["assignments"][0]["agency"] == agencies.CATEGORIES[category].agency
        assert ticket["location"]["lat"] == pytest.approx(32.98)
    for number, (code, reason) in enumerate(
        (
            ("BOMB", "incident_type_unmapped"),
            ("NONEMERG", "incident_type_unmapped"),
            ("Fire.Structure", "incident_type_not_in_registry"),
        ),
        start=100,
    ):
        status, ticket = await call(http, "POST", "/api/v1/eido", partner, _coded(code, number))
        assert status == 201, ticket
        assert (ticket["status"], ticket["category"], ticket["assignments"]) == ("new", None, [])
        [queued] = [e for e in ticket["timeline"] if e["type"] == "ticket.queued"]
        assert queued["data"]["code"] == reason and queued["data"]["incident_type"] == code


def test_the_documented_table_covers_the_whole_registry() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([0-9A-Z]+)` \| [^|]*\| ([^|]+?) \|$", text, flags=re.MULTILINE))
    assert set(rows) == set(registry.INCIDENT_TYPES)
    for code, (_, category) in registry.INCIDENT_TYPES.items():
        assert rows[code] == (f"`{category}`" if category else "queue 待分派"), code
        assert category is None or category in agencies.CATEGORIES
    assert set(registry.CATEGORY_TYPES.values()) <= set(registry.INCIDENT_TYPES)  # what we send is registered


async def test_the_same_incident_twice_is_one_ticket_and_an_update_adds_to_it(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, partner = await make_user("partner")
    document = _coded("FSTRU", 7)
    status, first = await call(http, "POST", "/api/v1/eido", partner, document)
    assert status == 201
    status, again = await call(http, "POST", "/api/v1/eido", partner, document)
    assert status == 200 and again["id"] == first["id"] and again["timeline"] == first["timeline"]

    update = copy.deepcopy(document)
    update["lastUpdateTimeStamp"] = "2026-11-24T10:05:00+08:00"
    update["notesComponent"].append(
        {
            "$id": "note7b",
            "lastUpdateTimeStamp": "2026-11-24T10:04:30+08:00",
            "updatedByAgencyReference": {"$ref": "psap.example.org"},
            "notesActionComments": "二楼有人被困",
        }
    )
    update["callbackComponent"] = [
        {
            "$id": "cb7",
            "lastUpdateTimeStamp": "2026-11-24T10:04:00+08:00",
            "updatedByAgencyReference": {"$ref": "psap.example.org"},
            "callBackInformationUri": ["tel:+8613912345678"],
        }
    ]
    update["callComponent"][0]["callBackReference"] = {"$ref": "cb7"}
    assert nena_schema.errors(update) == []
    for _ in range(2):  # the second time is a re-send of the update: nothing more is added
        status, merged = await call(http, "POST", "/api/v1/eido", partner, update)
        assert status == 200 and merged["id"] == first["id"]
        notes = [e["data"] for e in merged["timeline"] if e["type"] == "ticket.note"]
        assert [(n["text"], n["noted_at"]) for n in notes] == [("二楼有人被困", "2026-11-24T10:04:30+08:00")]
        [updated] = [e for e in merged["timeline"] if e["type"] == "ticket.eido_updated"]
        assert updated["data"]["callbacks"] == ["tel:+8613912345678"]
        assert merged["caller"]["phone"] == "+8613912345678"
        assert len(merged["assignments"]) == len(first["assignments"])
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM tickets") == 1
        assert await conn.fetchval("SELECT versions FROM eido_imports") == 2

    # Another partner holding the identifier cannot read or add to the first one's ticket.
    _, other = await make_user("partner", name="other-centre")
    status, error = await call(http, "POST", "/api/v1/eido", other, update)
    assert status == 409 and error["error"]["code"] == "incident_imported_elsewhere"


async def test_our_export_imported_elsewhere_keeps_the_incident(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    original, supervisor = await _worked_on(http, make_user)
    _, exported = await call(http, "GET", f"/api/v1/tickets/{original['id']}/eido", supervisor)
    _, elsewhere = await make_user("partner", name="neighbour-centre")
    status, imported = await call(http, "POST", "/api/v1/eido", elsewhere, exported)
    assert status == 201, imported
    assert imported["id"] != original["id"] and imported["channel"] == "eido"
    assert (imported["category"], imported["priority"]) == ("emergency.hazmat", "P1")
    assert imported["location"] == original["location"]
    assert [(a["agency"], a["role"]) for a in imported["assignments"]] == [
        (a["agency"], a["role"]) for a in original["assignments"]
    ]
    assert imported["description"] == original["description"]
    assert imported["caller"] == original["caller"]
    notes = [e["data"] for e in imported["timeline"] if e["type"] == "ticket.note"]
    assert any("气味更重了" in n["text"] for n in notes)
    stamps = {n["lastUpdateTimeStamp"] for n in exported["notesComponent"]}
    assert all(n["noted_at"] in stamps for n in notes)  # note times kept
    [provenance] = [e for e in imported["timeline"] if e["type"] == "ticket.imported"]
    assert provenance["data"]["incident_tracking_id"] == exported["$id"]
    assert "tel:+8613912345678" in provenance["data"]["callbacks"]  # the further caller's number too


async def test_what_the_schema_refuses_is_422_and_creates_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    for document, field in (
        ({"notesComponent": [{"notesActionComments": 5}]}, "notesComponent.0"),
        ({"agencyComponent": [{"agencyType": "fire"}]}, "agencyComponent.0"),
        ({"incidentComponent": {"incidentCommonPriorityNumber": "high"}}, "incidentComponent"),
    ):
        status, error = await call(http, "POST", "/api/v1/eido", taker, document)
        assert status == 422, document
        assert any(d["field"].startswith(field) for d in error["error"]["details"]), error
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM tickets") == 0


# PIDF-LO ------------------------------------------------------------------------------------


def _presence(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?><presence {PIDF_NS} entity="pres:a@b">{body}</presence>'


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (  # our own form: civic LOC and a point, with a comment in the middle
            _presence(
                '<tuple id="t"><status><gp:geopriv><gp:location-info><!-- from the CAD -->'
                '<ca:civicAddress xmlns:ca="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr">'
                "<ca:country>CN</ca:country><ca:A3>西平县</ca:A3><ca:LOC>工业园区3号仓库</ca:LOC></ca:civicAddress>"
                "<gml:Point><gml:pos>33.38 114.01</gml:pos></gml:Point></gp:location-info></gp:geopriv>"
                "</status></tuple>"
            ),
            ("工业园区3号仓库", "西平县", 33.38, 114.01),
        ),
        (  # other prefixes, a default namespace for the civic address, a device instead of a tuple
            '<p:presence xmlns:p="urn:ietf:params:xml:ns:pidf" xmlns:geo="urn:ietf:params:xml:ns:pidf:geopriv10"'
            ' xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" entity="pres:a@b"><dm:device id="d"><geo:geopriv>'
            '<geo:location-info><civicAddress xmlns="urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr">'
            "<country>CN</country><A1>河南省</A1><A2>驻马店市</A2><A3>上蔡县</A3><RD>蔡都大道</RD><HNO>88</HNO>"
            "</civicAddress></geo:location-info></geo:geopriv></dm:device></p:presence>",
            ("河南省驻马店市上蔡县蔡都大道88", "上蔡县", None, None),
        ),
        (  # a circle (RFC 5491) with a processing instruction: its centre is the point
            _presence(
                '<tuple id="t"><status><gp:geopriv><gp:location-info><?cad note?>'
                '<gs:Circle xmlns:gs="http://www.opengis.net/pidflo/1.0" srsName="urn:ogc:def:crs:EPSG::4326">'
                '<gml:pos>32.9 114.1</gml:pos><gs:radius uom="urn:ogc:def:uom:EPSG::9001">50</gs:radius>'
                "</gs:Circle></gp:location-info></gp:geopriv></status></tuple>"
            ),
            (None, None, 32.9, 114.1),
        ),
        (  # a DTD (what entity expansion needs) is never read
            '<?xml version="1.0"?><!DOCTYPE presence [<!ENTITY a "aaaaaaaaaa">]>'
            + _presence('<tuple id="t"><status><gml:pos>1 2</gml:pos></status></tuple>').split("?>", 1)[1],
            (None, None, None, None),
        ),
        ("not xml at all <", (None, None, None, None)),
    ],
)
def test_pidf_lo_forms(document: str, expected: tuple[Any, ...]) -> None:
    assert parse_pidf(document) == expected
