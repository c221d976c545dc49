"""Open311 GeoReport v2 under ``/open311/v2/``, in JSON and XML (``.json`` / ``.xml``).

A sub-application with its own error middleware, so that everything under the prefix (also
404 and 405) answers in the spec's error format. Filing a request goes through the same
routing and store as ``POST /api/v1/tickets`` (channel ``open311``; the service code is the
category). Reading requests needs no key and never shows the caller's phone, name or e-mail;
only requests filed through Open311 are listed. Partners read docs/open311.md.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import orjson
import structlog
from aiohttp import web
from multidict import MultiDictProxy
from pydantic import ValidationError as PydanticValidationError

import agencies
from dispatch.access.permissions import roles_for
from dispatch.access.ratelimit import LIMITER, key_id, limit_address, rule
from dispatch.api.errors import Handler, data_exception
from dispatch.api.responses import read_form
from dispatch.api.schemas import Location
from dispatch.bounds import EARLIEST, LATEST, in_window
from dispatch.errors import ApiError, BadRequest, Forbidden, NotFound
from dispatch.intake.filing import file_ticket
from dispatch.intake.new_ticket import NewTicket
from dispatch.interop.public_text import CHINA, agency_names, local_iso
from dispatch.normalise import clean_text, normalise_phone
from dispatch.open311 import render, services
from dispatch.open311.render import Format
from dispatch.open311.requests import RenderedRequests
from dispatch.runtime.app_keys import DB, DESKS, GAZETTEER, SETTINGS
from dispatch.store.new_tickets import NUMBER_PATTERN
from dispatch.store.public import Open311Query, open311_number_by_token, open311_requests
from dispatch.store.users import Principal, find_by_token

log = structlog.get_logger("dispatch.open311")

PREFIX = "/open311/v2"
SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
# When the service list last changed (the discovery document's changeset).
CHANGESET = "2026-11-24T00:00:00+08:00"
DEFAULT_WINDOW = timedelta(days=90)
MAX_RESULTS = 1000
MAX_DESCRIPTION = 4000
_NUMBER = re.compile(f"^{NUMBER_PATTERN}$")
_ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]{1,64})\](\[\])?$")
# Spec statuses: 400 bad request (our 422 too), 403 bad api_key (our 401 too), 404 not found.
_STATUS_MAP = {401: 403, 422: 400}
# The items lists are made of, remembered per process (dispatch/open311/requests.py).
RENDERED = web.AppKey("open311_rendered", RenderedRequests)


def _format(request: web.Request) -> Format:
    """The format named by the path's suffix (JSON unless ``.xml``)."""
    return "xml" if request.path.lower().endswith(".xml") else "json"


def _requested_format(request: web.Request) -> Format:
    fmt = request.match_info.get("format", "").lower()
    if fmt not in render.FORMATS:
        raise NotFound(f"unknown format {fmt!r}: use .json or .xml")
    return fmt


@web.middleware
async def open311_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure under the prefix in the spec's error format and status codes."""
    fmt = _format(request)
    try:
        try:
            return await handler(request)
        except asyncpg.DataError as exc:
            raise data_exception(exc) from None
    except ApiError as exc:
        status = _STATUS_MAP.get(exc.status, exc.status)
        messages = [exc.message] + [str(d["message"]) for d in exc.details if isinstance(d, dict) and "message" in d]
        return render.errors(fmt, status, messages, headers=exc.headers)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k in ("Allow", "Retry-After")}
        message = {404: "not found: see /open311/v2/discovery.json", 405: "method not allowed"}.get(
            exc.status, exc.reason
        )
        return render.errors(fmt, exc.status, [message], headers=headers)


async def _limit(request: web.Request) -> None:
    await limit_address(request, "open311", request.config_dict[SETTINGS].open311_rate_limit)


# Discovery and services ------------------------------------------------------------------


async def discovery(request: web.Request) -> web.Response:
    """GET discovery.{format}: where the endpoint is, its formats and whom to ask for a key."""
    fmt = _requested_format(request)
    await _limit(request)
    settings = request.config_dict[SETTINGS]
    document = {
        "changeset": CHANGESET,
        "contact": settings.open311_contact,
        "key_service": "向民生110管理员申请合作方 API key（dispatch user add APP --role partner）"
        " / ask the centre's administrator for a partner API key",
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": f"{request.url.origin()}{PREFIX}",
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render.respond(fmt, "discovery", document)


async def list_services(request: web.Request) -> web.Response:
    """GET services.{format}: every category as a service."""
    fmt = _requested_format(request)
    await _limit(request)
    return render.respond(fmt, "services", services.services())


async def service_definition(request: web.Request) -> web.Response:
    """GET services/{code}.{format}: the attributes a service asks for."""
    fmt = _requested_format(request)
    await _limit(request)
    code = request.match_info["code"]
    if code not in agencies.CATEGORIES:
        raise NotFound(f"service_code {code[:64]!r} not found; see services.{fmt}")
    return render.respond(fmt, "service_definition", services.definition(code))


# Filing a request --------------------------------------------------------------------------


async def _form(request: web.Request) -> MultiDictProxy[Any]:
    return await read_form(request, code="bad_request")


def _one(form: MultiDictProxy[Any], name: str, *, limit: int) -> str | None:
    value = form.get(name)
    if value is None or not isinstance(value, str):
        return None
    value = clean_text(value)
    if len(value) > limit:
        raise BadRequest(f"{name} is longer than {limit} characters")
    return value or None


def _coordinate(form: MultiDictProxy[Any], name: str, low: float, high: float) -> float | None:
    raw = _one(form, name, limit=40)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise BadRequest(f"{name} must be a number (WGS84 degrees)") from None
    if not low <= value <= high:
        raise BadRequest(f"{name} must be between {low} and {high}")
    return value


async def _partner(request: web.Request, form: MultiDictProxy[Any]) -> Principal:
    api_key = form.get("api_key") if isinstance(form.get("api_key"), str) else None
    api_key = api_key or request.query.get("api_key")
    if not api_key:
        raise Forbidden("api_key is required: ask the centre for a partner key")
    principal = await find_by_token(request.config_dict[DB], api_key[:200])
    if principal is None:
        raise Forbidden("invalid api_key")
    allowed = roles_for("open311.submit")
    if principal.role not in allowed:
        raise Forbidden(f"this api_key (role {principal.role}) may not file requests; allowed: {', '.join(allowed)}")
    settings = request.config_dict[SETTINGS]
    await request.config_dict[LIMITER].hit(rule("open311_key", settings.open311_key_rate_limit), key_id(api_key))
    return principal


def _attributes(form: MultiDictProxy[Any]) -> dict[str, list[str]]:
    given: dict[str, list[str]] = {}
    for key, value in form.items():
        match = _ATTRIBUTE_KEY.match(key)
        if match and isinstance(value, str):
            given.setdefault(match.group(1), []).append(clean_text(value))
        elif key.startswith("attribute"):
            raise BadRequest(f"{key[:80]!r} is not attribute[code]=value")
    return given


def _caller_name(first: str | None, last: str | None) -> str | None:
    if not first and not last:
        return None
    first, last = first or "", last or ""
    if re.search(r"[\u3400-\u9fff]", first + last):
        return f"{last}{first}"  # 姓在前 / family name first
    return f"{first} {last}".strip()


async def post_request(request: web.Request) -> web.Response:
    """POST requests.{format}: file a service request (form-encoded); answers its id and token."""
    fmt = _requested_format(request)
    await _limit(request)
    form = await _form(request)
    principal = await _partner(request, form)

    code = _one(form, "service_code", limit=64)
    if code is None:
        raise BadRequest("service_code is required; see services.json")
    if code not in agencies.CATEGORIES:
        raise NotFound(f"service_code {code!r} not found; see services.json")  # the spec's 404
    lat = _coordinate(form, "lat", -90, 90)
    lon = _coordinate(form, "long", -180, 180)
    if (lat is None) != (lon is None):
        raise BadRequest("lat and long go together: give both or neither")
    address = _one(form, "address_string", limit=500)
    if lat is None and address is None:
        if _one(form, "address_id", limit=100):
            raise BadRequest("address_id is not supported here: send lat and long, or address_string")
        raise BadRequest("a location is required: lat and long, or address_string")
    description = _one(form, "description", limit=MAX_DESCRIPTION)
    email = _one(form, "email", limit=254)
    if email is not None and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
        raise BadRequest("email is not an e-mail address")
    phone_raw = _one(form, "phone", limit=32)
    try:
        phone = normalise_phone(phone_raw) if phone_raw else None
    except ValueError as exc:
        raise BadRequest(f"phone: {exc}") from None
    name = _caller_name(_one(form, "first_name", limit=50), _one(form, "last_name", limit=50))
    media_url = _one(form, "media_url", limit=1000)
    if media_url is not None and urlsplit(media_url).scheme not in ("http", "https"):
        raise BadRequest("media_url must be an http or https URL")
    try:
        answers = services.check_attributes(code, _attributes(form))
    except services.AnswerError as exc:
        raise BadRequest(str(exc)) from None

    category = agencies.CATEGORIES[code]
    text = description or f"{category.name_zh}（Open311）"
    extra = services.describe_answers(code, answers)
    if extra:
        text = f"{text}\n{extra}"[:MAX_DESCRIPTION]
    try:
        location = Location(address=address or "", lat=lat, lon=lon)
    except PydanticValidationError as exc:
        raise BadRequest("the location does not fit: " + "; ".join(e["msg"] for e in exc.errors())) from None
    key = request.headers.get("Idempotency-Key", "").strip() or None
    if key is not None and (len(key) > 200 or not key.isprintable()):
        raise BadRequest("Idempotency-Key must be 1 to 200 printable characters")
    fingerprint = {"form": sorted((k, v) for k, v in form.items() if isinstance(v, str) and k != "api_key")}
    # Filed as POST /api/v1/tickets files: the service code is the category, the router
    # proposes priority and assisting agencies from the text. Facts the ticket has no column
    # for go into a ticket.service_request event; e-mail, device_id and account_id are not
    # kept (events are permanent and we have no e-mail channel).
    new = NewTicket(
        description=text,
        channel="open311",
        address=location.address,
        lat=lat,
        lon=lon,
        caller_phone=phone,
        caller_name=name,
        category=code,
        events=[("ticket.service_request", {"service_code": code, "attributes": answers, "media_url": media_url})],
        idempotency_key=key,
        request_hash=hashlib.sha256(orjson.dumps(fingerprint)).digest(),
    )
    async with request.config_dict[DB].acquire() as conn:
        filed = await file_ticket(
            conn,
            principal,
            new,
            gazetteer=await request.config_dict[GAZETTEER].get(conn),
            desks=await request.config_dict[DESKS].get(conn),
        )
        ticket_id, created = filed.id, filed.created
        row = await conn.fetchrow(
            """
            SELECT t.number, t.tracking_token, t.priority, a.agency, a.resolve_due
            FROM tickets t LEFT JOIN assignments a ON a.ticket_id = t.id AND a.role = 'lead'
            WHERE t.id = $1 ORDER BY a.id DESC LIMIT 1
            """,
            ticket_id,
        )
    log.info("open311.request_filed", ticket_id=ticket_id, service_code=code, partner=principal.name, created=created)
    notice = _notice(row["priority"], row["agency"], row["resolve_due"])
    # The spec answers service_request_id or token, never both: the ticket exists at once, so
    # its number. The citizen's tracking token (status page, feedback) goes as tracking_token.
    item = {
        "service_request_id": row["number"],
        "service_notice": notice,
        "account_id": None,
        "tracking_token": row["tracking_token"],
    }
    return render.respond(
        fmt,
        "service_requests",
        [item],
        status=201 if created else 200,
        headers={"Location": f"{PREFIX}/requests/{row['number']}.{fmt}"},
    )


def _notice(priority: str, agency: str | None, due: datetime | None) -> str:
    names = agency_names(agency)
    text = f"已受理，由{names.zh}办理 / accepted; {names.en} handles it"
    if due is not None:
        text += f"；预计 {local_iso(due)} 前办结 / expected by {local_iso(due)}"
    if priority == "P1":
        text += "。紧急情况请直接拨打110 / in an emergency, call 110"
    return text


# Reading requests ------------------------------------------------------------------------


def _date(request: web.Request, name: str) -> datetime | None:
    raw = request.query.get(name)
    if raw is None or not raw.strip():
        return None
    text = raw.strip()
    if "T" in text:
        text = text.replace(" ", "+")  # an unescaped '+' of the offset arrives as a space
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadRequest(f"{name} must be an ISO 8601 date and time, e.g. 2026-11-24T08:00:00+08:00") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=CHINA)
    if not in_window(moment):
        raise BadRequest(f"{name} must lie between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}")
    return moment


def _list_param(request: web.Request, name: str, *, limit: int) -> list[str] | None:
    """A comma-separated parameter's values; None when absent or empty (``name=`` is absent)."""
    raw = request.query.get(name)
    items = [part.strip() for part in (raw or "").split(",") if part.strip()]
    if not items:
        return None
    if len(items) > limit:
        raise BadRequest(f"{name} lists more than {limit} values")
    return items


async def list_requests(request: web.Request) -> web.Response:
    """GET requests.{format}: requests filed through Open311, newest first, filtered as the spec says."""
    fmt = _requested_format(request)
    await _limit(request)
    ids = _list_param(request, "service_request_id", limit=MAX_RESULTS)
    if ids is not None:
        # The spec: with service_request_id every other filter is ignored.
        query = Open311Query(numbers=[i for i in ids if _NUMBER.match(i)], limit=MAX_RESULTS)
    else:
        statuses = _list_param(request, "status", limit=2) or []
        if any(s not in ("open", "closed") for s in statuses):
            raise BadRequest("status is open, closed or both (comma-separated)")
        closed = None if len(set(statuses)) != 1 else statuses[0] == "closed"
        start, end = _date(request, "start_date"), _date(request, "end_date")
        if start is None and end is None:
            start = datetime.now(UTC) - DEFAULT_WINDOW  # the spec's default window
        elif start is None and end is not None:
            start = end - DEFAULT_WINDOW
        if start is not None and end is not None and start > end:
            raise BadRequest("start_date is after end_date")
        codes = _list_param(request, "service_code", limit=100)
        categories = [c for c in codes if c in agencies.CATEGORIES] if codes is not None else None
        if codes and not categories:
            return render.respond(fmt, "service_requests", [])  # only unknown codes: nothing matches
        query = Open311Query(
            categories=categories,
            start=start,
            end=end,
            closed=closed,
            limit=MAX_RESULTS,
        )
    async with request.config_dict[DB].acquire() as conn:
        rows = await open311_requests(conn, query)
    return render.respond(fmt, "service_requests", request.config_dict[RENDERED].items(rows))


async def get_request(request: web.Request) -> web.Response:
    """GET requests/{id}.{format}: one request (a list of one, as the spec has it)."""
    fmt = _requested_format(request)
    await _limit(request)
    number = request.match_info["id"]
    rows = []
    if _NUMBER.match(number):
        async with request.config_dict[DB].acquire() as conn:
            rows = await open311_requests(conn, Open311Query(numbers=[number], limit=1))
    if not rows:
        raise NotFound(f"service_request_id {number[:40]!r} not found")
    return render.respond(fmt, "service_requests", request.config_dict[RENDERED].items(rows[:1]))


async def get_token(request: web.Request) -> web.Response:
    """GET tokens/{token}.{format}: the service_request_id a token stands for."""
    fmt = _requested_format(request)
    await _limit(request)
    token = request.match_info["token"]
    async with request.config_dict[DB].acquire() as conn:
        number = await open311_number_by_token(conn, token)
    if number is None:
        raise NotFound("token not found")
    return render.respond(fmt, "service_requests", [{"service_request_id": number, "token": token}])


def setup(app: web.Application) -> None:
    app[RENDERED] = RenderedRequests()
    sub = web.Application(middlewares=[open311_errors])
    sub.router.add_get("/discovery.{format}", discovery)
    sub.router.add_get("/services.{format}", list_services)
    sub.router.add_get("/services/{code}.{format:[A-Za-z]+}", service_definition)
    sub.router.add_get("/requests.{format}", list_requests)
    sub.router.add_post("/requests.{format}", post_request)
    sub.router.add_get("/requests/{id}.{format:[A-Za-z]+}", get_request)
    sub.router.add_get("/tokens/{token}.{format:[A-Za-z]+}", get_token)
    app.add_subapp(PREFIX, sub)
