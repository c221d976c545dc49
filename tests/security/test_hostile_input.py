"""Values that pass the first parse but not PostgreSQL or an encoder: every one answers 4xx in
the documented error shape, changes nothing, and leaves no traceback in the log.

The requests a tester sent from outside (loopback, a running server) that answered 500,
and their neighbours; then the same from raw sockets, where aiohttp's own parser and body
decoding are the first to see them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import xml.etree.ElementTree as ET
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from dispatch.api.errors import error_middleware
from tests.api_helpers import call, ticket_body
from tests.conftest import MUTABLE_TABLES, UserFactory, auth
from tests.log_tap import unhandled

HUGE_ID = "9" * 5000  # past Python's 4300-digit limit of int()
PAST_BIGINT = str(2**63)


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _nested(depth: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        inner = {"x": inner}
    return inner


# (method, path, role, JSON body or None) of the reported 500s and their kin.
REPORTED: list[tuple[str, str, str | None, Any]] = [
    ("GET", "/api/v1/tickets?q=%00", "supervisor", None),
    ("GET", "/api/v1/tickets?q=%00%01%7F", "supervisor", None),
    ("GET", "/api/v1/tickets?phone=%00", "supervisor", None),
    ("GET", "/api/v1/tickets?cursor=" + _cursor("t:" + "9" * 25), "supervisor", None),
    ("GET", "/api/v1/tickets?cursor=" + _cursor("t:" + PAST_BIGINT), "supervisor", None),
    ("GET", "/api/v1/tickets?limit=" + "9" * 30, "supervisor", None),
    ("GET", "/api/v1/tickets?created_from=0001-01-01T00:00:00Z", "supervisor", None),
    ("GET", "/api/v1/tickets?created_to=9999-12-31T23:59:59-10:00", "supervisor", None),
    ("GET", "/api/v1/stats/overdue?cursor=" + _cursor("o:1:" + PAST_BIGINT), "supervisor", None),
    ("GET", "/api/v1/stats/overdue?cursor=" + _cursor("o:" + "9" * 30 + ":1"), "supervisor", None),
    ("GET", f"/api/v1/tickets/{HUGE_ID}", "supervisor", None),
    ("GET", f"/api/v1/tickets/{PAST_BIGINT}", "supervisor", None),
    ("GET", f"/api/v1/tickets/{HUGE_ID}/eido", "supervisor", None),
    ("GET", f"/api/v1/tickets/{HUGE_ID}/cap", "supervisor", None),
    ("POST", f"/api/v1/assignments/{HUGE_ID}/acknowledge", "desk", {}),
    ("POST", f"/api/v1/assignments/{HUGE_ID}/resolve", "desk", {"resolution": "已处理"}),
    ("POST", f"/api/v1/assignments/{PAST_BIGINT}/notes", "desk", {"kind": "note", "text": "到场"}),
    ("POST", f"/api/v1/tickets/{HUGE_ID}/merge", "supervisor", {"into": 1}),
    ("POST", "/api/v1/tickets/1/merge", "supervisor", {"into": 2**63}),
    ("GET", "/open311/v2/requests.json?start_date=0001-01-01", None, None),
    ("GET", "/open311/v2/requests.json?end_date=9999-12-31", None, None),
    ("GET", "/open311/v2/requests.json?end_date=0001-01-01T00:00:00", None, None),
    ("GET", "/open311/v2/requests.xml?start_date=9999-12-31T23:59:59-12:00", None, None),
    (
        "POST",
        "/api/v1/eido",
        "admin",
        {"incidentComponent": {"incidentTypeInternalText": "打架"}, "deep": _nested(300)},
    ),
    ("POST", "/api/v1/tickets", "call_taker", ticket_body(facts={"health": _nested(60)})),
    ("POST", "/api/v1/tickets", "call_taker", ticket_body(description="\u0000\u0001\ufffe")),
    ("PUT", "/api/v1/desks/ab%00cd", "admin", {"agency": "police", "name": "一号台"}),
    ("GET", f"/console/assets/{HUGE_ID}", None, None),  # a file name longer than the file system takes
    (
        "POST",
        "/api/v1/assignments/1/notes",
        "desk",
        {"kind": "on_scene", "data": {"arrived_at": "0001-01-01T00:00:00Z"}},
    ),
]


async def _fingerprint(pool: asyncpg.Pool) -> dict[str, Any]:
    """Row counts of every mutable table and the newest event: what a change would move."""
    async with pool.acquire() as conn:
        counts = {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in MUTABLE_TABLES}
        counts["last_event"] = await conn.fetchval("SELECT max(id) FROM events")
        counts["assignment_versions"] = await conn.fetchval("SELECT coalesce(sum(version), 0) FROM assignments")
    return counts


def _assert_error_shape(status: int, raw: bytes, path: str) -> None:
    assert 400 <= status < 500, (status, path, raw[:300])
    if ".xml" in path:  # Open311's XML error list
        errors = ET.fromstring(raw)
        assert errors.tag == "errors" and errors.find("error/code").text == str(status)  # type: ignore[union-attr]
        return
    body = json.loads(raw)
    if path.startswith("/open311/"):
        assert isinstance(body, list) and body[0]["code"] == status  # the spec's error list
        return
    assert set(body["error"]) == {"code", "message", "details"}
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["details"], list)


@pytest.fixture
async def tokens(make_user: UserFactory, http: aiohttp.ClientSession) -> dict[str, str]:
    roles: dict[str, str] = {}
    for role, agency in (("call_taker", None), ("supervisor", None), ("admin", None), ("desk", "police")):
        _, roles[role] = await make_user(role, agency=agency)
    for _ in range(2):  # tickets and assignments for ids 1 and 2 to exist
        await call(http, "POST", "/api/v1/tickets", roles["call_taker"], ticket_body())
    return roles


@pytest.mark.parametrize(("method", "path", "role", "body"), REPORTED, ids=[f"{m} {p[:60]}" for m, p, _, _ in REPORTED])
async def test_a_value_past_what_the_stores_hold_is_a_4xx_that_changes_nothing(
    http: aiohttp.ClientSession,
    pool: asyncpg.Pool,
    tokens: dict[str, str],
    server_log: io.StringIO,
    method: str,
    path: str,
    role: str | None,
    body: Any,
) -> None:
    before = await _fingerprint(pool)
    headers = auth(tokens[role]) if role else {}
    async with http.request(method, path, json=body, headers=headers) as response:
        _assert_error_shape(response.status, await response.read(), path)
    assert await _fingerprint(pool) == before
    assert unhandled(server_log.getvalue()) == []


# Raw requests: what browsers and libraries would never send, written byte by byte.
def _raw(method: str, path: bytes, headers: bytes = b"", body: bytes = b"") -> bytes:
    head = method.encode() + b" " + path + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers
    if body or method == "POST":
        head += b"Content-Length: %d\r\n" % len(body)
    return head + b"\r\n" + body


FORM = b"Content-Type: application/x-www-form-urlencoded"
MULTIPART = b"Content-Type: multipart/form-data; boundary=xx"
PART = b'--xx\r\nContent-Disposition: form-data; name="token"\r\n\r\n'
# Requests a view sees: each answers 4xx in the JSON error shape.
REACH_THE_APP: dict[str, bytes] = {
    "form in an unknown charset": _raw("POST", b"/console/session", FORM + b"; charset=bogus\r\n", b"token=abc"),
    "form of bytes that are no UTF-8": _raw("POST", b"/console/session", FORM + b"\r\n", b"token=\xff\xfe"),
    "multipart without a boundary": _raw("POST", b"/console/session", b"Content-Type: multipart/form-data\r\n", b"x"),
    "multipart cut short": _raw(
        "POST",
        b"/console/session",
        MULTIPART + b"\r\n",
        b'--xx\r\nContent-Disposition: form-data; name="token"\r\n\r\nx',
    ),
    "multipart part in an unknown charset": _raw(
        "POST",
        b"/console/session",
        MULTIPART + b"\r\n",
        PART.replace(b"\r\n\r\n", b"\r\nContent-Type: text/plain; charset=bogus\r\n\r\n") + b"x\r\n--xx--\r\n",
    ),
    "gzip that is not gzip, to the sign-in form": _raw(
        "POST", b"/console/session", FORM + b"\r\nContent-Encoding: gzip\r\n", b"not gzip at all"
    ),
    "deflate that is not deflate, to the sign-in JSON": _raw(
        "POST", b"/console/session", b"Content-Type: application/json\r\nContent-Encoding: deflate\r\n", b"nope"
    ),
    "gzip that is not gzip, unread by the console page": _raw(
        "GET", b"/console/desk", b"Content-Encoding: gzip\r\n", b"not gzip at all"
    ),
    "gzip that is not gzip, unread by a refused API call": _raw(
        "POST", b"/api/v1/tickets", b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n", b"xx"
    ),
    "Open311 form in an unknown charset": _raw(
        "POST", b"/open311/v2/requests.json", FORM + b"; charset=bogus\r\n", b"api_key=a"
    ),
    "Open311 form that is not gzip": _raw(
        "POST", b"/open311/v2/requests.json", FORM + b"\r\nContent-Encoding: gzip\r\n", b"api_key=a"
    ),
    "a session cookie of junk": _raw("GET", b"/console/desk", b'Cookie: dispatch_session="\\377\\000"; ;;=\r\n'),
    "an Origin that is no URL": _raw("POST", b"/console/session", FORM + b"\r\nOrigin: http://[::1\r\n", b"token=a"),
    "a path of percent-escapes that decode to nothing": _raw("GET", b"/console/%ff%00%zz"),
    "a query of broken percent-escapes": _raw("GET", b"/api/v1/tickets?district=%E9%A9%ZZ&q=%"),
    "a query of a cut UTF-8 sequence": _raw("GET", b"/api/v1/tickets?district=%E9%A9"),
}
# Requests aiohttp's parser refuses before any view exists: a 400 in the JSON error shape all
# the same, and a warning instead of a traceback.
REFUSED_BY_THE_PARSER: dict[str, bytes] = {
    "a NUL in a cookie": _raw("GET", b"/console/desk", b"Cookie: dispatch_session=v1.1.9.\x00\r\n"),
    "a NUL in the token header": _raw("GET", b"/console", b"Authorization: Bearer \xff\x00\r\n"),
    "no Host header": b"GET /console HTTP/1.1\r\nConnection: close\r\n\r\n",
    "a Content-Encoding it cannot decode": _raw(
        "POST", b"/console/session", b"Content-Type: application/json\r\nContent-Encoding: br\r\n", b"x"
    ),
    "raw Chinese in the query, not percent-encoded": _raw("GET", "/api/v1/tickets?district=驿城区".encode()),
    "raw Chinese in the path": _raw("GET", "/api/v1/tickets/工单".encode()),
    "a space in the path": _raw("GET", b"/api/v1/tick ets"),
    "a request line over 8 KiB": _raw("GET", b"/api/v1/tickets?q=" + b"a" * 9000),
    "a header line over 8 KiB": _raw("GET", b"/api/v1/tickets", b"X-Long: " + b"a" * 9000 + b"\r\n"),
    "not HTTP at all": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n",
}


async def _send_raw(server: TestServer, raw: bytes) -> tuple[int, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        writer.write(raw)
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize("name", list(REACH_THE_APP))
async def test_a_crafted_request_a_view_sees_answers_4xx_in_the_error_shape(
    server: TestServer, http: aiohttp.ClientSession, server_log: io.StringIO, name: str
) -> None:
    status, headers, body = await _send_raw(server, REACH_THE_APP[name])
    assert status < 500, (status, body[:300])
    if status >= 400:
        _assert_error_shape(status, body, "/open311/" if b"open311" in REACH_THE_APP[name][:40] else "/")
    else:  # a console page sends the browser to sign in first
        assert status in (303, 308) and headers["location"].startswith("/console/")
    await asyncio.sleep(0.05)  # what aiohttp would log after the answer
    assert unhandled(server_log.getvalue()) == []


@pytest.mark.parametrize("name", list(REFUSED_BY_THE_PARSER))
async def test_a_request_aiohttp_cannot_parse_is_a_json_400_and_a_warning(
    server: TestServer, http: aiohttp.ClientSession, server_log: io.StringIO, name: str
) -> None:
    status, headers, body = await _send_raw(server, REFUSED_BY_THE_PARSER[name])
    assert status == 400
    assert headers["content-type"].startswith("application/json")
    _assert_error_shape(status, body, "/")
    assert json.loads(body)["error"]["code"] == "bad_request"
    await asyncio.sleep(0.05)
    assert unhandled(server_log.getvalue()) == []
    assert "http.malformed_request" in server_log.getvalue()


async def test_a_connection_answered_after_an_undecodable_body_is_closed_not_drained(
    server: TestServer, http: aiohttp.ClientSession
) -> None:
    raw = REACH_THE_APP["gzip that is not gzip, to the sign-in form"]
    status, headers, _ = await _send_raw(server, raw)
    assert status == 400 and headers.get("connection", "").lower() == "close"


async def test_a_data_exception_that_gets_past_the_bounds_is_a_400_logged_as_a_bug(
    pool: asyncpg.Pool, server_log: io.StringIO
) -> None:
    async def overflow(request: web.Request) -> web.Response:
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT $1::text::int", "99999999999")  # SQLSTATE 22003
        return web.Response()

    async def nul(request: web.Request) -> web.Response:
        async with pool.acquire() as conn:
            await conn.fetchval("SELECT convert_from('\\x00'::bytea, 'UTF8')")  # SQLSTATE 22021
        return web.Response()

    app = web.Application(middlewares=[error_middleware])
    app.router.add_get("/overflow", overflow)
    app.router.add_get("/nul", nul)
    server = TestServer(app, host="127.0.0.1", port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession() as session:
            for path in ("/overflow", "/nul"):
                async with session.get(server.make_url(path)) as response:
                    assert response.status == 400
                    assert (await response.json())["error"]["code"] == "invalid_value"
    finally:
        await server.close()
    assert server_log.getvalue().count("bug.data_exception") == 2
    assert "Traceback" not in server_log.getvalue()
