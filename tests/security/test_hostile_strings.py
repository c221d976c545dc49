"""Hostile strings through every text field and parameter: NUL and other control characters,
lone surrogates (where JSON's escapes or raw bytes can carry them), noncharacters, RTL
overrides, megabyte strings, SQL and HTML payloads. Whatever comes in, nothing answers 5xx,
every refusal has the documented error shape, and the log holds no unhandled traceback.

Hypothesis drives a plain blocking HTTP client in a worker thread while the server runs on
the test's event loop. Every known payload goes through every target once, then Hypothesis
draws a bounded number more (``DISPATCH_HOSTILE_EXAMPLES``), so that the file runs in a few
minutes at most.
"""

from __future__ import annotations

import asyncio
import http.client
import io
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory
from tests.log_tap import unhandled

EXAMPLES = int(os.environ.get("DISPATCH_HOSTILE_EXAMPLES", "8"))

# The payloads a tester tries first, alone and inside ordinary text.
PAYLOADS = [
    "\x00",
    "a\x00b",
    "\x01\x02\x1b[31m\x7f\x9f",
    "\ud800",  # a lone high surrogate
    "\udfff x",  # a lone low surrogate
    "\ufffe\uffff\ufdd0\U0010ffff",  # noncharacters
    "\u202e\u2066abc\u202c",  # right-to-left override and isolates
    "\u2028\u2029\ufeff",
    "'; DROP TABLE tickets; --",
    "1' OR '1'='1",
    "%00%27%22",
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    "javascript:window.__xss=1",
    "]]><!--<x>&amp;&#0;",
    "{{7*7}}${7*7}",
    "../../../../etc/passwd",
    "𠜎𠜱👩‍👩‍👧‍👦\u0301\u0301\u0301",
    "",
    " ",
    "9" * 5000,  # past Python's 4300-digit int() limit
    str(2**63),  # one past bigint
    "-1",
    "0001-01-01",
    "9999-12-31T23:59:59-12:00",
]
MEGABYTE = "长" * (1024 * 1024 // 3)  # ~1 MB of UTF-8


def hostile_text() -> st.SearchStrategy[str]:
    """One hostile string: a known payload, arbitrary Unicode (surrogates included), the two
    mixed, or a megabyte."""
    mixed = st.tuples(st.text(max_size=20), st.sampled_from(PAYLOADS), st.text(max_size=20)).map("".join)
    return st.one_of(
        st.sampled_from(PAYLOADS),
        st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60),
        mixed,
        st.just(MEGABYTE),
    )


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


def _json(value: Any) -> bytes:
    # ensure_ascii: a lone surrogate travels as a \\ud800 escape, as any JSON library would send it
    return json.dumps(value, ensure_ascii=True).encode("ascii")


def _q(text: str) -> str:
    """Percent-encoded UTF-8; a lone surrogate as the bytes it would be (invalid UTF-8)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe="")


# One hostile value → one request; each target puts it into one field or parameter.
Target = Callable[[str, dict[str, str]], Request]


def _body(method: str, path: str, role: str, build: Callable[[str], Any]) -> Target:
    def target(value: str, tokens: dict[str, str]) -> Request:
        headers = {"Authorization": f"Bearer {tokens[role]}", "Content-Type": "application/json"}
        return Request(method, path.format(**tokens), headers, _json(build(value)))

    return target


def _query(path: str, role: str | None, name: str, **fixed: str) -> Target:
    def target(value: str, tokens: dict[str, str]) -> Request:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        extra = "&" + urlencode(fixed) if fixed else ""
        return Request("GET", f"{path.format(**tokens)}?{name}={_q(value)}{extra}", headers)

    return target


def _path(template: str, role: str | None, method: str = "GET", body: Any = None) -> Target:
    def target(value: str, tokens: dict[str, str]) -> Request:
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role else {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        return Request(method, template.replace("{}", _q(value)), headers, _json(body) if body is not None else b"")

    return target


def _header(name: str, role: str) -> Target:
    def target(value: str, tokens: dict[str, str]) -> Request:
        # Header values are Latin-1 on the wire; what cannot be is sent as its UTF-8 bytes.
        raw = value.encode("utf-8", "surrogatepass").decode("latin-1")
        headers = {"Authorization": f"Bearer {tokens[role]}", name: raw, "Content-Type": "application/json"}
        return Request("POST", "/api/v1/tickets", headers, _json(ticket_body()))

    return target


def _form(path: str, field: str, **fixed: str) -> Target:
    def target(value: str, tokens: dict[str, str]) -> Request:
        pairs = {**{k: v.format(**tokens) for k, v in fixed.items()}, field: value}
        body = "&".join(f"{_q(k)}={_q(v)}" for k, v in pairs.items()).encode("ascii")
        return Request("POST", path, {"Content-Type": "application/x-www-form-urlencoded"}, body)

    return target


def _ticket_with(path: tuple[str, ...]) -> Callable[[str], Any]:
    def build(value: str) -> Any:
        body = ticket_body()
        node = body
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
        return body

    return build


OPEN311_FIELDS = {"service_code": "urban.street_light", "address_string": "驿城区解放大道", "api_key": "{partner}"}

TARGETS: dict[str, Target] = {
    "ticket.description": _body("POST", "/api/v1/tickets", "call_taker", _ticket_with(("description",))),
    "ticket.caller.name": _body("POST", "/api/v1/tickets", "call_taker", _ticket_with(("caller", "name"))),
    "ticket.caller.phone": _body("POST", "/api/v1/tickets", "call_taker", _ticket_with(("caller", "phone"))),
    "ticket.location.address": _body("POST", "/api/v1/tickets", "call_taker", _ticket_with(("location", "address"))),
    "ticket.location.district": _body("POST", "/api/v1/tickets", "call_taker", _ticket_with(("location", "district"))),
    "ticket.category": _body("POST", "/api/v1/tickets", "call_taker", _ticket_with(("category",))),
    "ticket.channel": _body("POST", "/api/v1/tickets", "call_taker", _ticket_with(("channel",))),
    "ticket.facts key": _body(
        "POST", "/api/v1/tickets", "call_taker", lambda v: ticket_body(facts={"health": {v: True}})
    ),
    "ticket.unknown field": _body("POST", "/api/v1/tickets", "call_taker", lambda v: {**ticket_body(), v: v}),
    "report.description": _body("POST", "/api/v1/tickets/{ticket}/reports", "call_taker", lambda v: {"description": v}),
    "resolve.resolution": _body(
        "POST", "/api/v1/assignments/{assignment}/resolve", "desk", lambda v: {"resolution": v}
    ),
    "return.reason": _body("POST", "/api/v1/assignments/{assignment}/return", "desk", lambda v: {"reason": v}),
    "transfer.agency": _body(
        "POST", "/api/v1/assignments/{assignment}/transfer", "desk", lambda v: {"agency": v, "reason": v}
    ),
    "note.text": _body("POST", "/api/v1/assignments/{assignment}/notes", "desk", lambda v: {"kind": "note", "text": v}),
    "note.unit": _body(
        "POST",
        "/api/v1/assignments/{assignment}/notes",
        "desk",
        lambda v: {"kind": "on_scene", "data": {"unit": v, "arrived_at": v}},
    ),
    "assign.reason": _body(
        "POST", "/api/v1/tickets/{ticket}/assignments", "supervisor", lambda v: {"agency": "urban", "reason": v}
    ),
    "classify.text": _body("POST", "/api/v1/classify", "call_taker", lambda v: {"text": v, "address": v, "id": v}),
    "desk.name": _body("PUT", "/api/v1/desks/hostile-desk", "admin", lambda v: {"agency": "police", "name": v}),
    "service level": _body(
        "PUT", "/api/v1/service-levels", "admin", lambda v: {"priority": v, "ack_seconds": 60, "resolve_seconds": 600}
    ),
    "eido.description": _body(
        "POST",
        "/api/v1/eido",
        "admin",
        lambda v: {
            "incidentTrackingIdentifier": v,
            "incidentComponent": {"incidentTypeInternalText": v},
            "locationComponent": [{"locationDescriptionText": v, "locationByValue": v}],
            "notesComponent": [{"notesActionComments": v}],
        },
    ),
    "feedback.comment": _body(
        "POST",
        "/api/v1/public/tickets/{number}/feedback?token={tracking}",
        "call_taker",
        lambda v: {"satisfied": True, "rating": 5, "comment": v},
    ),
    "console sign-in token": _body("POST", "/console/session", "call_taker", lambda v: {"token": v}),
    "query q": _query("/api/v1/tickets", "supervisor", "q"),
    "query phone": _query("/api/v1/tickets", "supervisor", "phone"),
    "query status": _query("/api/v1/tickets", "supervisor", "status"),
    "query cursor": _query("/api/v1/tickets", "supervisor", "cursor"),
    "query created_from": _query("/api/v1/tickets", "supervisor", "created_from"),
    "query limit": _query("/api/v1/tickets", "supervisor", "limit"),
    "stats from": _query("/api/v1/stats/summary", "supervisor", "from"),
    "stats district": _query("/api/v1/stats/timeseries", "supervisor", "district", bucket="minute"),
    "overdue cursor": _query("/api/v1/stats/overdue", "supervisor", "cursor"),
    "desks agency": _query("/api/v1/desks", "supervisor", "agency"),
    "dead letters agency": _query("/api/v1/deliveries/dead", "admin", "agency"),
    "public token": _query("/api/v1/public/tickets/{number}", None, "token"),
    "open311 start_date": _query("/open311/v2/requests.json", None, "start_date"),
    "open311 service_request_id": _query("/open311/v2/requests.xml", None, "service_request_id"),
    "open311 service_code": _query("/open311/v2/requests.json", None, "service_code"),
    "open311 status": _query("/open311/v2/requests.json", None, "status"),
    "path ticket id": _path("/api/v1/tickets/{}", "supervisor"),
    "path ticket id, eido": _path("/api/v1/tickets/{}/eido", "supervisor"),
    "path assignment id": _path("/api/v1/assignments/{}/acknowledge", "desk", "POST", {}),
    "path desk code": _path("/api/v1/desks/{}", "admin", "PUT", {"agency": "police", "name": "台"}),
    "path public number": _path("/api/v1/public/tickets/{}?token=x", None),
    "path open311 request": _path("/open311/v2/requests/{}.json", None),
    "path open311 token": _path("/open311/v2/tokens/{}.json", None),
    "path open311 service": _path("/open311/v2/services/{}.xml", None),
    "path console asset": _path("/console/assets/{}", None),
    "header Idempotency-Key": _header("Idempotency-Key", "call_taker"),
    "header X-Request-Id": _header("X-Request-Id", "call_taker"),
    "open311 description": _form("/open311/v2/requests.json", "description", **OPEN311_FIELDS),
    "open311 address_string": _form("/open311/v2/requests.json", "address_string", service_code="urban.street_light"),
    "open311 first_name": _form("/open311/v2/requests.json", "first_name", **OPEN311_FIELDS),
    "open311 attribute": _form("/open311/v2/requests.json", "attribute[lamp_id]", **OPEN311_FIELDS),
    "open311 media_url": _form("/open311/v2/requests.json", "media_url", **OPEN311_FIELDS),
    "open311 api_key": _form("/open311/v2/requests.json", "api_key", service_code="urban.street_light"),
    "console form token": _form("/console/session", "token", next="/console/desk"),
    "console form next": _form("/console/session", "next", token="{call_taker}"),
}


def _send(port: int, request: Request) -> tuple[int, str, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest(request.method, request.path, skip_accept_encoding=True)
        headers = {"Content-Length": str(len(request.body)), **request.headers}
        for name, value in headers.items():
            connection.putheader(name, value.encode("latin-1"))
        connection.endheaders(request.body or None)
        response = connection.getresponse()
        return response.status, response.getheader("Content-Type", ""), response.read()
    except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
        # The server refused the request line or a header outright and closed: not a 5xx.
        return 400, "", b""
    finally:
        connection.close()


def _check(name: str, value: str, status: int, content_type: str, body: bytes) -> None:
    shown = (name, repr(value[:80]), status, body[:300])
    assert status < 500, shown
    if status < 400 or not content_type.startswith("application/json"):
        # A success, a redirect, Open311's XML, or aiohttp's own text/plain refusal of a
        # request line or header it cannot parse (longer than 8 KiB, bytes HTTP forbids).
        assert status < 400 or content_type.startswith(("text/plain", "text/xml", "application/xml")), shown
        return
    document = json.loads(body)
    if isinstance(document, list):  # Open311's error list
        assert document and all({"code", "description"} <= set(e) for e in document), shown
    else:
        assert set(document["error"]) == {"code", "message", "details"}, shown


@pytest.fixture
async def tokens(http: aiohttp.ClientSession, make_user: UserFactory) -> dict[str, str]:
    found: dict[str, str] = {}
    for role, agency in (("call_taker", None), ("supervisor", None), ("admin", None), ("partner", None)):
        _, found[role] = await make_user(role, agency=agency)
    _, found["desk"] = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", found["call_taker"], ticket_body())
    found["ticket"] = str(ticket["id"])
    found["assignment"] = str(ticket["assignments"][0]["id"])
    found["number"], found["tracking"] = ticket["number"], ticket["tracking_token"]
    return found


@pytest.mark.parametrize("name", list(TARGETS))
async def test_a_hostile_string_in_any_field_or_parameter_never_answers_5xx(
    server: TestServer, tokens: dict[str, str], server_log: io.StringIO, name: str
) -> None:
    target = TARGETS[name]
    port = server.port
    assert port is not None

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    @given(value=hostile_text())
    def attack(value: str) -> None:
        request = target(value, tokens)
        _check(name, value, *_send(port, request))

    def every_payload() -> None:
        for value in PAYLOADS:
            _check(name, value, *_send(port, target(value, tokens)))

    await asyncio.to_thread(every_payload)  # each known payload once, then what Hypothesis draws
    await asyncio.to_thread(attack)
    assert unhandled(server_log.getvalue()) == []
