"""Every text the service accepts can be written as XML 1.0: the one cleaner removes what XML
forbids at intake (REST, Open311 forms, EIDO, notes, feedback, resolutions, reasons), and the
XML writers (Open311, CAP, EIDO's PIDF-LO) drop it even from text stored before. Each document
is read back with a strict XML parser."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import asyncpg
from lxml import etree

from dispatch.interop.cap import schema_text
from dispatch.normalise import clean_text, xml_text
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.interop import nena_schema

# Characters XML 1.0 cannot carry (and noncharacters it must not): U+FFFE, U+FFFF, NUL, other
# C0 controls, a noncharacter of another plane, U+FDD0. (A lone surrogate cannot arrive: a JSON
# body with one is refused whole, see below, and a form's bytes are UTF-8.)
FORBIDDEN = "\ufffe\uffff\x00\x01\x0b\x0c\x1f\U0001fffe\ufdd0"


def dirty(text: str) -> str:
    return f"{FORBIDDEN[:3]}{text}{FORBIDDEN[3:]}"


def _json(body: Any) -> bytes:
    # json.dumps writes a lone surrogate as \ud800, which is what a hostile client sends.
    return json.dumps(body, ensure_ascii=True).encode("ascii")


async def _post(http: aiohttp.ClientSession, path: str, token: str, body: Any) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with http.post(path, data=_json(body), headers=headers) as response:
        return response.status, await response.json()


def _strict(raw: bytes) -> etree._Element:
    return etree.fromstring(raw, etree.XMLParser(recover=False, resolve_entities=False))


def _no_forbidden(value: Any) -> None:
    text = json.dumps(value, ensure_ascii=False)
    for ch in FORBIDDEN:
        assert ch not in text, repr(ch)


def test_the_cleaner_and_the_writer_guard_remove_every_forbidden_character() -> None:
    for ch in FORBIDDEN + "\ud800\udfff":
        assert clean_text(f"a{ch}b") == "ab", repr(ch)
        assert xml_text(f"a{ch}b") == "ab", repr(ch)
    assert clean_text("火警\t二楼\n三楼") == "火警\t二楼\n三楼"  # tab and newline stay


async def test_every_text_field_survives_an_xml_round_trip(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, desk = await make_user("desk", agency="urban")
    _, partner = await make_user("partner")

    # A lone surrogate makes the JSON body invalid: refused whole, nothing created.
    status, error = await _post(http, "/api/v1/tickets", taker, ticket_body(description="火\ud800警"))
    assert status == 400 and error["error"]["code"] == "malformed_json"

    # REST: description, address, caller name, a further report, facts.
    body = ticket_body(
        description=dirty("路灯不亮，很黑"),
        category="urban.street_light",
        priority="P4",
        agencies=["urban"],
        caller={"phone": "138 0000 0000", "name": dirty("王明")},
        location={"address": dirty("驿城区解放路"), "district": "驿城区", "lat": 32.98, "lon": 114.02},
    )
    status, ticket = await _post(http, "/api/v1/tickets", taker, body)
    assert status == 201, ticket
    assert ticket["description"] == "路灯不亮，很黑" and ticket["location"]["address"] == "驿城区解放路"
    assert ticket["caller"]["name"] == "王明"
    status, _ = await _post(http, f"/api/v1/tickets/{ticket['id']}/reports", taker, {"description": dirty("还是不亮")})
    assert status == 201
    lead = ticket["assignments"][0]["id"]
    status, _ = await _post(http, f"/api/v1/assignments/{lead}/acknowledge", supervisor, {})
    assert status == 200
    status, note = await _post(
        http, f"/api/v1/assignments/{lead}/notes", desk, {"kind": "note", "text": dirty("已到场")}
    )
    assert status == 201, note
    status, returned = await _post(
        http, f"/api/v1/assignments/{lead}/return", supervisor, {"reason": dirty("不归我们")}
    )
    assert status == 200, returned
    status, again = await _post(
        http,
        f"/api/v1/tickets/{ticket['id']}/assignments",
        supervisor,
        {"agency": "urban", "role": "lead", "reason": dirty("重新派单")},
    )
    assert status == 201, again
    _, current = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    [second] = [a["id"] for a in current["assignments"] if a["state"] == "dispatched"]
    for action, payload in (("acknowledge", {}), ("resolve", {"resolution": dirty("已更换灯泡")})):
        status, result = await _post(http, f"/api/v1/assignments/{second}/{action}", supervisor, payload)
        assert status == 200, result
    status, feedback = await _post(
        http,
        f"/api/v1/public/tickets/{ticket['number']}/feedback?token={ticket['tracking_token']}",
        taker,
        {"satisfied": True, "rating": 5, "comment": dirty("谢谢")},
    )
    assert status in (200, 201), feedback

    # Open311: a form body.
    form = {
        "api_key": partner,
        "service_code": "urban.street_light",
        "address_string": dirty("驿城区文化路88号"),
        "description": dirty("路灯坏了"),
        "first_name": dirty("明"),
        "last_name": "王",
    }
    async with http.post("/open311/v2/requests.json", data=form) as response:
        assert response.status == 201, await response.text()

    # EIDO: notes and the location's text.
    eido = nena_schema.sample()
    eido["$id"] = "urn:emergency:uid:incidentid:xmltest:psap.example.org"
    eido["locationComponent"][0]["locationDescriptionText"] = dirty("西平县人民路")
    eido["notesComponent"] = [
        {
            "$id": "n1",
            "lastUpdateTimeStamp": "2026-11-24T10:00:00+08:00",
            "updatedByAgencyReference": {"$ref": "state.pa.us"},
            "notesActionComments": dirty("<p>浓烟</p>"),
        }
    ]
    status, imported = await _post(http, "/api/v1/eido", partner, eido)
    assert status == 201, imported

    # Nothing forbidden was stored anywhere.
    async with pool.acquire() as conn:
        for table in ("tickets", "reports", "assignments", "events", "feedback"):
            rows = await conn.fetch(f"SELECT to_jsonb(x) AS row FROM {table} x")
            for row in rows:
                _no_forbidden(row["row"])

    # Every XML document reads back with a strict parser, and the CAP alert is valid.
    schema = etree.XMLSchema(etree.fromstring(schema_text().encode("utf-8")))
    for path in ("/open311/v2/requests.xml", "/open311/v2/services.xml"):
        async with http.get(path) as response:
            assert response.status == 200
            _strict(await response.read())
    for ticket_id in (ticket["id"], imported["id"]):
        async with http.get(
            f"/api/v1/tickets/{ticket_id}/cap", headers={"Authorization": f"Bearer {supervisor}"}
        ) as response:
            assert response.status == 200
            assert schema.validate(_strict(await response.read())), schema.error_log
        status, document = await call(http, "GET", f"/api/v1/tickets/{ticket_id}/eido", supervisor)
        assert status == 200
        _no_forbidden(document)
        pidf = _strict(document["locationComponent"][0]["locationByValue"].encode("utf-8"))
        assert pidf.tag.endswith("presence")


async def test_text_stored_before_the_cleaner_cannot_break_an_xml_document(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    # A text written before the cleaner removed U+FFFE and U+FFFF (PostgreSQL stores them).
    _, partner = await make_user("partner")
    _, supervisor = await make_user("supervisor")
    form = {"api_key": partner, "service_code": "urban.street_light", "address_string": "驿城区文化路88号"}
    async with http.post("/open311/v2/requests.json", data=form) as response:
        assert response.status == 201
        [filed] = await response.json()
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE tickets SET description = $1, address = $2, caller_name = $3 WHERE number = $4",
            "路灯\ufffe坏了\uffff",
            "文化路\uffff88号",
            "王\ufffe明",
            filed["service_request_id"],
        )
        ticket_id = await conn.fetchval("SELECT id FROM tickets WHERE number = $1", filed["service_request_id"])
    for path in ("/open311/v2/requests.xml", f"/open311/v2/requests/{filed['service_request_id']}.xml"):
        async with http.get(path) as response:
            root = _strict(await response.read())
            assert "路灯坏了" in (root.findtext("request/description") or "")
    async with http.get(f"/api/v1/tickets/{ticket_id}/cap", headers={"Authorization": f"Bearer {supervisor}"}) as r:
        _strict(await r.read())
    status, document = await call(http, "GET", f"/api/v1/tickets/{ticket_id}/eido", supervisor)
    assert status == 200
    _strict(document["locationComponent"][0]["locationByValue"].encode("utf-8"))
