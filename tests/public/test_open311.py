"""Open311 GeoReport v2 as an outside app sees it: plain HTTP, form-encoded posts, answers
parsed with the standard library's json and xml.etree, in both formats, against the spec's
field lists and error cases. No project code on the client side."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import call
from tests.conftest import UserFactory
from tests.public.conftest import assert_no_personal_data, create, resolve_all

BASE = "/open311/v2"
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
ATTRIBUTE_FIELDS = {"variable", "code", "datatype", "required", "datatype_description", "order", "description"}
REQUEST_FIELDS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
}
W3C_DATETIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")


async def fetch(http: aiohttp.ClientSession, method: str, path: str, **kwargs: Any) -> tuple[int, bytes, Any]:
    async with http.request(method, BASE + path, **kwargs) as response:
        return response.status, await response.read(), response.headers


def parse_json(raw: bytes) -> Any:
    return json.loads(raw.decode("utf-8"))


def parse_xml(raw: bytes) -> ET.Element:
    assert raw.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(raw)


def xml_items(root: ET.Element, item: str) -> list[dict[str, str | None]]:
    """Each ``<item>`` child as {element: text} (one level)."""
    return [{child.tag: child.text for child in element} for element in root.findall(item)]


# A street light has no attributes: a report of one sends none.
LIGHT = {
    "service_code": "urban.street_light",
    "description": "路灯坏了",
    "attribute[vehicles]": None,
    "attribute[injured]": None,
    "attribute[road_blocked]": None,
}


def report_form(api_key: str, **overrides: str | None) -> dict[str, str]:
    """A partner app's report of a traffic accident, form fields as the spec names them."""
    form: dict[str, str | None] = {
        "api_key": api_key,
        "service_code": "transport.accident",
        "lat": "32.9801",
        "long": "114.0203",
        "address_string": "驿城区解放大道与雪松路交叉口",
        "description": "两车相撞，有人受伤，车辆堵住了一条车道",
        "attribute[vehicles]": "2",
        "attribute[injured]": "yes",
        "attribute[road_blocked]": "yes",
        "first_name": "明",
        "last_name": "王",
        "phone": "139 1234 5678",
        "email": "wangming@example.org",
        "media_url": "https://partner.example.org/photos/1.jpg",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


async def partner_key(make_user: UserFactory) -> str:
    _, token = await make_user("partner", name="zmd-city-app")
    return token


async def file_request(http: aiohttp.ClientSession, api_key: str, **overrides: str | None) -> dict[str, Any]:
    status, raw, _ = await fetch(http, "POST", "/requests.json", data=report_form(api_key, **overrides))
    assert status == 201, raw
    [item] = parse_json(raw)
    return dict(item)


# Discovery and services ------------------------------------------------------------------


async def test_discovery_in_json_and_xml(http: aiohttp.ClientSession) -> None:
    status, raw, headers = await fetch(http, "GET", "/discovery.json")
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    document = parse_json(raw)
    assert {"changeset", "contact", "key_service", "endpoints"} <= set(document)
    [endpoint] = document["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2") and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    assert W3C_DATETIME.match(document["changeset"])

    status, raw, headers = await fetch(http, "GET", "/discovery.xml")
    assert status == 200 and headers["Content-Type"].startswith("text/xml")
    root = parse_xml(raw)
    assert root.tag == "discovery"
    assert root.findtext("contact") == document["contact"]
    formats = [f.text for f in root.findall("endpoints/endpoint/formats/format")]
    assert formats == ["text/xml", "application/json"]


async def test_services_list_every_category_in_both_formats(http: aiohttp.ClientSession) -> None:
    status, raw, _ = await fetch(http, "GET", "/services.json")
    assert status == 200
    services = parse_json(raw)
    assert len(services) == 28
    assert all(set(s) == SERVICE_FIELDS for s in services)
    by_code = {s["service_code"]: s for s in services}
    assert by_code["health.emergency"]["metadata"] is True
    assert by_code["urban.street_light"]["metadata"] is False
    assert by_code["health.emergency"]["service_name"] == "急症、急救"
    assert (
        by_code["health.emergency"]["group"] == "卫生健康 (120)" or "卫生健康" in by_code["health.emergency"]["group"]
    )
    assert all(s["type"] == "realtime" and isinstance(s["keywords"], str) for s in services)

    status, raw, _ = await fetch(http, "GET", "/services.xml")
    assert status == 200
    root = parse_xml(raw)
    assert root.tag == "services"
    items = xml_items(root, "service")
    assert [i["service_code"] for i in items] == [s["service_code"] for s in services]
    assert all(set(i) == SERVICE_FIELDS for i in items)
    assert {i["service_code"]: i["metadata"] for i in items}["emergency.fire"] == "true"


@pytest.mark.parametrize(
    ("code", "attributes"),
    [
        ("health.emergency", ["conscious", "breathing", "injured_count"]),
        ("emergency.fire", ["people_trapped", "trapped_count", "premises"]),
        ("transport.accident", ["vehicles", "injured", "road_blocked"]),
        ("urban.street_light", []),
    ],
)
async def test_service_definition_in_both_formats(
    http: aiohttp.ClientSession, code: str, attributes: list[str]
) -> None:
    status, raw, _ = await fetch(http, "GET", f"/services/{code}.json")
    assert status == 200
    definition = parse_json(raw)
    assert definition["service_code"] == code
    assert [a["code"] for a in definition["attributes"]] == attributes
    for order, attribute in enumerate(definition["attributes"], start=1):
        assert ATTRIBUTE_FIELDS <= set(attribute) <= ATTRIBUTE_FIELDS | {"values"}
        assert attribute["order"] == order and attribute["variable"] is True
        if attribute["datatype"] in ("singlevaluelist", "multivaluelist"):
            assert all(set(v) == {"key", "name"} for v in attribute["values"])

    status, raw, _ = await fetch(http, "GET", f"/services/{code}.xml")
    assert status == 200
    root = parse_xml(raw)
    assert root.tag == "service_definition" and root.findtext("service_code") == code
    assert [a.findtext("code") for a in root.findall("attributes/attribute")] == attributes
    if code == "health.emergency":
        conscious = root.find("attributes/attribute")
        assert conscious is not None
        assert conscious.findtext("required") == "true" and conscious.findtext("datatype") == "singlevaluelist"
        assert [v.findtext("key") for v in conscious.findall("values/value")] == ["yes", "no", "unknown"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_service_is_404_in_the_spec_error_format(http: aiohttp.ClientSession, fmt: str) -> None:
    status, raw, _ = await fetch(http, "GET", f"/services/no.such_thing.{fmt}")
    assert status == 404
    if fmt == "json":
        [error] = parse_json(raw)
        assert error["code"] == 404 and "service_code" in error["description"]
    else:
        root = parse_xml(raw)
        assert root.tag == "errors" and root.findtext("error/code") == "404"


# Filing requests ---------------------------------------------------------------------------


async def test_post_request_creates_an_open311_ticket_through_the_normal_routing(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    key = await partner_key(make_user)
    item = await file_request(http, key)
    # The spec: service_request_id or token, not both; the citizen's token has its own name.
    assert set(item) == {"service_request_id", "service_notice", "account_id", "tracking_token"}
    assert re.match(r"^MS\d{8}-\d{6,}$", item["service_request_id"]) and len(item["tracking_token"]) >= 16
    assert "公安" in item["service_notice"]  # a traffic accident is led by police (交警)

    status, page = await call(http, "GET", "/api/v1/tickets", key)  # a partner sees what it filed
    assert status == 200
    [ticket] = page["items"]
    assert ticket["number"] == item["service_request_id"] and ticket["tracking_token"] == item["tracking_token"]
    assert ticket["channel"] == "open311" and ticket["category"] == "transport.accident"
    assert ticket["assignments"][0]["agency"] == "police" and ticket["assignments"][0]["role"] == "lead"
    assert ticket["caller"] == {"phone": "+8613912345678", "name": "王明"}
    assert ticket["location"]["lat"] == pytest.approx(32.9801)
    assert "涉事车辆数：2" in ticket["description"] and "是否有人受伤：是" in ticket["description"]
    assert ticket["classification"]["proposed"] is not None  # the router was asked, as for POST /tickets

    _, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", key)
    submitted = [e for e in full["timeline"] if e["type"] == "ticket.service_request"]
    assert submitted[0]["data"]["attributes"] == {"vehicles": 2, "injured": "yes", "road_blocked": "yes"}
    assert "wangming@example.org" not in json.dumps(full, ensure_ascii=False)  # e-mail is not kept


async def test_post_request_answers_in_xml(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    key = await partner_key(make_user)
    status, raw, headers = await fetch(http, "POST", "/requests.xml", data=report_form(key))
    assert status == 201 and headers["Content-Type"].startswith("text/xml")
    root = parse_xml(raw)
    assert root.tag == "service_requests"
    [item] = xml_items(root, "request")
    assert set(item) == {"service_request_id", "service_notice", "account_id", "tracking_token"}
    assert item["account_id"] is None and (item["service_request_id"] or "").startswith("MS")


async def test_post_request_with_address_only_and_no_optional_fields(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    key = await partner_key(make_user)
    form = {"api_key": key, "service_code": "urban.street_light", "address_string": "驿城区文化路88号门口"}
    status, raw, _ = await fetch(http, "POST", "/requests.json", data=form)
    assert status == 201, raw
    _, page = await call(http, "GET", "/api/v1/tickets", key)
    assert page["items"][0]["description"] == "路灯不亮、路灯损坏（Open311）"
    assert page["items"][0]["caller"] == {"phone": None, "name": None}


@pytest.mark.parametrize(
    ("overrides", "drop", "status", "fragment"),
    [
        ({}, "api_key", 403, "api_key"),
        ({"api_key": "ms_not-a-real-key"}, None, 403, "api_key"),
        ({}, "service_code", 400, "service_code"),
        ({"service_code": "transport.teleport"}, None, 404, "service_code"),  # the spec: not found
        ({"address_string": ""}, "lat", 400, "lat and long"),
        ({"lat": "", "long": "", "address_string": ""}, None, 400, "location"),
        ({"lat": "95"}, None, 400, "lat"),
        ({}, "attribute[road_blocked]", 400, "attribute[road_blocked]"),
        ({"attribute[vehicles]": "many"}, None, 400, "attribute[vehicles]"),
        ({"attribute[injured]": "perhaps"}, None, 400, "attribute[injured]"),
        ({"attribute[colour]": "red"}, None, 400, "attribute[colour]"),
        ({"phone": "110"}, None, 400, "phone"),
        ({"email": "not-an-address"}, None, 400, "email"),
        ({"description": "长" * 4001}, None, 400, "description"),
        ({"media_url": "file:///etc/passwd"}, None, 400, "media_url"),
    ],
)
async def test_post_request_errors_use_the_spec_format_and_create_nothing(
    http: aiohttp.ClientSession,
    make_user: UserFactory,
    pool: asyncpg.Pool,
    overrides: dict[str, str],
    drop: str | None,
    status: int,
    fragment: str,
) -> None:
    key = await partner_key(make_user)
    form = {**report_form(key), **overrides}
    if drop:
        form.pop(drop)
    for fmt in ("json", "xml"):
        got, raw, _ = await fetch(http, "POST", f"/requests.{fmt}", data=form)
        assert got == status, raw
        if fmt == "json":
            [error] = parse_json(raw)
            assert error["code"] == status and fragment in error["description"]
        else:
            root = parse_xml(raw)
            assert root.findtext("error/code") == str(status) and fragment in (root.findtext("error/description") or "")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM tickets") == 0


async def test_a_key_whose_role_may_not_file_is_refused_with_403(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, desk = await make_user("desk", agency="urban")
    status, raw, _ = await fetch(http, "POST", "/requests.json", data=report_form(desk))
    assert status == 403 and parse_json(raw)[0]["code"] == 403


# Reading requests ------------------------------------------------------------------------


async def test_get_requests_lists_open311_requests_with_the_spec_fields_and_no_personal_data(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    key = await partner_key(make_user)
    filed = await file_request(
        http,
        key,
        description="两车相撞，我是王明，电话13912345678",
        phone="139 1234 5678",
        first_name="明",
        last_name="王",
    )
    _, taker = await make_user("call_taker")
    await create(http, taker)  # a phone call: not published through Open311

    status, raw, _ = await fetch(http, "GET", "/requests.json")
    assert status == 200
    items = parse_json(raw)
    assert [i["service_request_id"] for i in items] == [filed["service_request_id"]]
    [item] = items
    assert set(item) == REQUEST_FIELDS
    assert item["status"] == "open" and item["service_code"] == "transport.accident"
    assert item["service_name"] == "交通事故" and item["agency_responsible"] == "公安"
    assert item["lat"] == pytest.approx(32.9801) and item["long"] == pytest.approx(114.0203)
    assert item["media_url"] == "https://partner.example.org/photos/1.jpg"
    for field in ("requested_datetime", "updated_datetime", "expected_datetime"):
        assert W3C_DATETIME.match(item[field]), field

    status, xml_raw, _ = await fetch(http, "GET", "/requests.xml")
    assert status == 200
    [xml_item] = xml_items(parse_xml(xml_raw), "request")
    assert set(xml_item) == REQUEST_FIELDS
    assert xml_item["service_request_id"] == item["service_request_id"] and xml_item["long"] == str(item["long"])

    for body in (raw, xml_raw):
        text = body.decode()
        for personal in ("13912345678", "139 1234 5678", "王明", "wangming@example.org"):
            assert personal not in text, personal


async def test_get_one_request_in_both_formats_with_expected_datetime_from_the_lead(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    key = await partner_key(make_user)
    filed = await file_request(http, key)
    number = filed["service_request_id"]
    _, page = await call(http, "GET", "/api/v1/tickets", key)
    due = page["items"][0]["assignments"][0]["resolve_due"]

    status, raw, _ = await fetch(http, "GET", f"/requests/{number}.json")
    assert status == 200
    [item] = parse_json(raw)
    assert set(item) == REQUEST_FIELDS and item["service_request_id"] == number
    assert datetime.fromisoformat(item["expected_datetime"]) == datetime.fromisoformat(due).replace(microsecond=0)

    status, raw, _ = await fetch(http, "GET", f"/requests/{number}.xml")
    assert status == 200
    [xml_item] = xml_items(parse_xml(raw), "request")
    assert xml_item["service_request_id"] == number and xml_item["status"] == "open"


@pytest.mark.parametrize("fmt", ["json", "xml"])
async def test_unknown_request_and_token_are_404(http: aiohttp.ClientSession, fmt: str) -> None:
    for path in (f"/requests/MS20261124-999999.{fmt}", f"/requests/whatever.{fmt}", f"/tokens/{'a' * 22}.{fmt}"):
        status, raw, _ = await fetch(http, "GET", path)
        assert status == 404, path
        code = parse_json(raw)[0]["code"] if fmt == "json" else int(parse_xml(raw).findtext("error/code") or 0)
        assert code == 404


async def test_a_phone_ticket_is_not_readable_through_open311(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    status, _, _ = await fetch(http, "GET", f"/requests/{ticket['number']}.json")
    assert status == 404


async def test_token_resolves_to_the_service_request_id_in_both_formats(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    key = await partner_key(make_user)
    filed = await file_request(http, key)
    token = filed["tracking_token"]
    status, raw, _ = await fetch(http, "GET", f"/tokens/{token}.json")
    assert status == 200
    assert parse_json(raw) == [{"service_request_id": filed["service_request_id"], "token": token}]
    status, raw, _ = await fetch(http, "GET", f"/tokens/{token}.xml")
    assert status == 200
    assert xml_items(parse_xml(raw), "request") == [{"service_request_id": filed["service_request_id"], "token": token}]


async def test_request_filters_id_list_code_status_and_dates(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    key = await partner_key(make_user)
    _, supervisor = await make_user("supervisor")
    accident = await file_request(http, key)
    light = await file_request(http, key, **LIGHT)
    old = await file_request(http, key, **{**LIGHT, "description": "很久以前的路灯"})
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE tickets SET created_at = now() - interval '100 days' WHERE number = $1", old["service_request_id"]
        )
    _, page = await call(http, "GET", "/api/v1/tickets", supervisor)
    light_ticket = next(t for t in page["items"] if t["number"] == light["service_request_id"])
    await resolve_all(http, supervisor, light_ticket, resolution="已更换灯泡")

    async def ids(query: str) -> list[str]:
        status, raw, _ = await fetch(http, "GET", f"/requests.json?{query}")
        assert status == 200, raw
        return [i["service_request_id"] for i in parse_json(raw)]

    numbers = {"accident": accident["service_request_id"], "light": light["service_request_id"]}
    assert await ids("") == [numbers["light"], numbers["accident"]]  # the last 90 days, newest first
    assert await ids(f"service_request_id={numbers['accident']},{old['service_request_id']}") == [
        numbers["accident"],
        old["service_request_id"],
    ]
    assert await ids("service_code=urban.street_light") == [numbers["light"]]
    assert await ids("service_code=urban.street_light,transport.accident&status=open") == [numbers["accident"]]
    assert await ids("status=closed") == [numbers["light"]]
    assert await ids("status=open,closed") == [numbers["light"], numbers["accident"]]
    assert await ids("start_date=2000-01-01T00:00:00%2B08:00&end_date=2099-01-01T00:00:00Z") == [
        numbers["light"],
        numbers["accident"],
        old["service_request_id"],
    ]
    assert await ids("end_date=2000-01-01T00:00:00Z") == []
    assert len(await ids("start_date=2000-01-01T00:00:00+08:00")) == 3  # an unescaped '+' is understood
    assert len(await ids("start_date=2000-01-01")) == 3  # a date alone: midnight, Beijing time
    assert await ids("service_code=no.such") == []
    # An empty parameter counts as absent (as browsers and form libraries send them).
    assert await ids("service_request_id=") == await ids("") == await ids("service_code=&status=")

    status, raw, _ = await fetch(http, "GET", f"/requests/{numbers['light']}.json")
    assert status == 200
    [item] = parse_json(raw)
    assert item["status"] == "closed" and "已更换灯泡" in item["status_notes"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("status=pending", "status"),
        ("start_date=yesterday", "start_date"),
        ("start_date=2026-02-01&end_date=2026-01-01", "after"),
    ],
)
async def test_bad_filters_are_400(http: aiohttp.ClientSession, query: str, fragment: str) -> None:
    status, raw, _ = await fetch(http, "GET", f"/requests.json?{query}")
    assert status == 400
    [error] = parse_json(raw)
    assert error["code"] == 400 and fragment in error["description"]


async def test_resolved_request_read_through_open311_keeps_the_callers_details_out(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    key = await partner_key(make_user)
    filed = await file_request(
        http,
        key,
        phone="138 0000 0000",
        first_name="先生",
        last_name="李",
        description="我是李先生，13800000000，路口撞车",
    )
    _, supervisor = await make_user("supervisor")
    _, page = await call(http, "GET", "/api/v1/tickets", key)
    await resolve_all(http, supervisor, page["items"][0])
    for path in (f"/requests/{filed['service_request_id']}.json", f"/requests/{filed['service_request_id']}.xml"):
        status, raw, _ = await fetch(http, "GET", path)
        assert status == 200
        assert_no_personal_data(raw)


# Outside the happy path ------------------------------------------------------------------


async def test_everything_under_the_prefix_answers_in_the_spec_format(http: aiohttp.ClientSession) -> None:
    status, raw, _ = await fetch(http, "GET", "/nothing-here.json")
    assert status == 404 and parse_json(raw)[0]["code"] == 404
    status, raw, _ = await fetch(http, "GET", "/nothing-here.xml")
    assert status == 404 and parse_xml(raw).findtext("error/code") == "404"
    status, raw, headers = await fetch(http, "DELETE", "/requests.json")
    assert status == 405 and parse_json(raw)[0]["code"] == 405 and "GET" in headers["Allow"]
    status, raw, _ = await fetch(http, "GET", "/services.csv")
    assert status == 404 and parse_json(raw)[0]["code"] == 404


async def test_odd_input_never_answers_5xx(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    key = await partner_key(make_user)
    probes: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", "/requests/%00.json", {}),
        ("GET", "/tokens/%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00%00.json", {}),
        ("GET", "/requests.json?service_request_id=%00,MS1", {}),
        ("GET", "/requests.json?service_code=%00", {}),
        ("GET", "/requests.json?start_date=%00", {}),
        (
            "POST",
            "/requests.json",
            {"data": b"\xff\xfe=\x00", "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        ),
        ("POST", "/requests.json", {"data": report_form(key, description="\x00\x01 控制字符")}),
        ("POST", "/requests.json", {"data": {"api_key": key, "attribute[": "x"}}),
        ("POST", "/requests.json", {"data": "{}", "headers": {"Content-Type": "application/json"}}),
        (
            "POST",
            "/requests.json",
            {"data": "x" * 70_000, "headers": {"Content-Type": "application/x-www-form-urlencoded"}},
        ),
        (
            "POST",
            "/requests.json",
            {"data": b"--b\r\nbroken", "headers": {"Content-Type": "multipart/form-data; boundary=b"}},
        ),
    ]
    for method, path, kwargs in probes:
        status, raw, _ = await fetch(http, method, path, **kwargs)
        assert status < 500, (path, status, raw[:200])


async def test_too_many_requests_from_one_address_are_429_in_the_spec_format(http: aiohttp.ClientSession) -> None:
    statuses = []
    for _ in range(121):  # DISPATCH_OPEN311_RATE_LIMIT default: 120/minute
        status, raw, headers = await fetch(http, "GET", "/services.xml")
        statuses.append(status)
    assert statuses[:120] == [200] * 120
    assert statuses[120] == 429
    assert int(headers["Retry-After"]) >= 1
    assert parse_xml(raw).findtext("error/code") == "429"


async def test_a_listed_request_shows_its_change_at_the_next_list(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    # Lists are rendered from a memo of items (dispatch/open311/requests.py): a request read
    # before must not be served as it was once its ticket changed.
    key = await partner_key(make_user)
    _, supervisor = await make_user("supervisor")
    filed = await file_request(http, key, **LIGHT)
    for _ in range(2):
        status, raw, _ = await fetch(http, "GET", "/requests.json")
        assert status == 200
        assert [(i["service_request_id"], i["status"]) for i in parse_json(raw)] == [
            (filed["service_request_id"], "open")
        ]
    _, page = await call(http, "GET", "/api/v1/tickets", supervisor)
    await resolve_all(http, supervisor, page["items"][0], resolution="已更换灯泡")
    status, raw, _ = await fetch(http, "GET", "/requests.json")
    [item] = parse_json(raw)
    assert item["status"] == "closed" and "已更换灯泡" in item["status_notes"]
