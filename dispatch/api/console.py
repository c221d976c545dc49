"""The web consoles, served by the service itself: pages and assets from the package's
``static/`` folder, sign-in and sign-out, and the reference data the pages draw names from.

- ``/console/`` sign-in and the list of consoles; ``/console/intake`` (call-takers),
  ``/console/desk`` (agency desks), ``/console/supervisor`` (督办), ``/console/kb`` (the
  knowledge base, for supervisors and admins); ``/status`` for citizens.
- ``POST /console/session`` exchanges a user name and password, or an API token, for a session
  cookie (a form or JSON); ``DELETE /console/session`` signs out. Wrong passwords are
  rate-limited per user name and per address. See dispatch/access/sessions.py and docs/consoles.md.

Pages carry a strict Content-Security-Policy: scripts and styles only from this service, no
inline script, connections only back to this service (fetch and websockets).
"""

from __future__ import annotations

from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote

import structlog
from aiohttp import web
from pydantic import BaseModel, Field, model_validator

import agencies
from dispatch.access.passwords import hash_password_async, needs_rehash, verify_password_async
from dispatch.access.ratelimit import LIMITER, client_address, key_id, rule
from dispatch.access.sessions import end_session, same_origin, session_expiry, session_principal, start_session
from dispatch.api.responses import json_response, read_form, read_model
from dispatch.api.schemas import MeOut, Strict
from dispatch.api.spec import describe
from dispatch.errors import Forbidden, NotFound, Unauthorized
from dispatch.runtime.app_keys import DB, SETTINGS
from dispatch.store.users import (
    Principal,
    find_by_token,
    find_for_password,
    set_password_hash_quietly,
    token_hash_and_epoch,
)

log = structlog.get_logger("dispatch.console")

STATIC_DIR: Final = Path(str(resources.files("dispatch").joinpath("static")))
PAGES: Final = {"intake": "intake.html", "desk": "desk.html", "supervisor": "supervisor.html", "kb": "kb.html"}
HOME_BY_ROLE: Final = {
    "call_taker": "/console/intake",
    "desk": "/console/desk",
    "supervisor": "/console/supervisor",
    "admin": "/console/supervisor",
}
CONTENT_TYPES: Final = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain",
}
CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self' ws: wss:",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


class SessionCreate(Strict):
    """Either ``username`` and ``password``, or ``token``."""

    token: str | None = Field(default=None, min_length=1, max_length=200, description="the API token")
    username: str | None = Field(default=None, min_length=1, max_length=100, description="the user's name")
    password: str | None = Field(
        default=None, min_length=1, max_length=200, description="set by `dispatch user add --password`"
    )

    @model_validator(mode="after")
    def _one_way(self) -> SessionCreate:
        if self.token is None and (self.username is None or self.password is None):
            raise ValueError("give username and password, or token")
        if self.token is not None and (self.username is not None or self.password is not None):
            raise ValueError("give username and password, or token, not both")
        return self


class SessionOut(BaseModel):
    user: MeOut
    expires_at: datetime = Field(description="the session lasts a 12-hour shift and its hand-over (13 h)")
    home: str = Field(description="the console for this role")


class SignedOut(BaseModel):
    signed_out: bool


class Names(BaseModel):
    zh: str
    en: str


class AgencyRef(BaseModel):
    code: str
    name: Names


class CategoryRef(BaseModel):
    code: str
    agency: str
    default_priority: str
    name: Names


class DistrictRef(BaseModel):
    code: str
    name: Names


class PriorityRef(BaseModel):
    code: str
    name: Names
    ack_seconds: int
    resolve_seconds: int


class ConsoleSettingsOut(BaseModel):
    alarm_repeat_seconds: float = Field(description="DISPATCH_ALARM_REPEAT_SECONDS: an alarm rings again after this")


class ReferenceOut(BaseModel):
    agencies: list[AgencyRef]
    categories: list[CategoryRef]
    districts: list[DistrictRef]
    priorities: list[PriorityRef]
    console: ConsoleSettingsOut


def _file(name: str, *, page: bool) -> web.FileResponse:
    path = STATIC_DIR / name
    response = web.FileResponse(path, headers=SECURITY_HEADERS if page else {"X-Content-Type-Options": "nosniff"})
    response.content_type = CONTENT_TYPES.get(path.suffix, "application/octet-stream")
    if path.suffix in (".html", ".js", ".css", ".json"):
        response.charset = "utf-8"
    # Revalidate every time (ETag / Last-Modified answer 304): an upgrade reaches every desk
    # at its next load, and a 304 on the local network costs next to nothing.
    response.headers["Cache-Control"] = "no-cache"
    return response


def _safe_next(target: str | None) -> str | None:
    """A local path to go to after signing in; anything else (another site) is ignored."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    if not (target.startswith("/console/") or target == "/status"):
        return None
    return target


async def console_index(request: web.Request) -> web.StreamResponse:
    """GET /console/: sign in, and the list of consoles."""
    return _file("index.html", page=True)


async def console_root(request: web.Request) -> web.StreamResponse:
    """GET /console: the same, with the trailing slash the relative links expect."""
    raise web.HTTPPermanentRedirect("/console/")


async def console_page(request: web.Request) -> web.StreamResponse:
    """GET /console/{intake,desk,supervisor}: the console, or the sign-in page first."""
    name = request.match_info["page"]
    if await session_principal(request) is None:
        raise web.HTTPSeeOther(f"/console/?next={quote('/console/' + name, safe='/')}")
    return _file(PAGES[name], page=True)


async def status_page(request: web.Request) -> web.StreamResponse:
    """GET /status: the citizens' status page (no account)."""
    return _file("status.html", page=True)


async def console_asset(request: web.Request) -> web.StreamResponse:
    """GET /console/assets/{path}: scripts, styles and the vendored chart library."""
    relative = request.match_info["path"]
    base = STATIC_DIR.resolve()
    try:
        path = (base / relative).resolve()
        path.relative_to(base)
        is_file = path.is_file()  # may raise too (a name longer than the file system takes)
    except (ValueError, OSError):
        raise NotFound("no such asset") from None
    if any(part.startswith(".") for part in Path(relative).parts) or not is_file:
        raise NotFound("no such asset")
    return _file(str(path.relative_to(base)), page=path.suffix == ".html")


@describe(
    "Names of agencies, categories, districts and priorities in Chinese and English, for the consoles",
    tag="console",
    responses={200: ReferenceOut},
)
async def reference(request: web.Request) -> web.Response:
    """GET /console/reference.json: what the consoles' menus list (no personal data), and the
    consoles' settings (``console``: how often an alarm rings again)."""
    body = {
        "agencies": [{"code": a.code, "name": {"zh": a.name_zh, "en": a.name_en}} for a in agencies.AGENCIES.values()],
        "categories": [
            {
                "code": c.code,
                "agency": c.agency,
                "default_priority": c.default_priority,
                "name": {"zh": c.name_zh, "en": c.name_en},
            }
            for c in agencies.CATEGORIES.values()
        ],
        "districts": [{"code": d.code, "name": {"zh": d.name_zh, "en": d.name_en}} for d in agencies.DISTRICTS],
        "priorities": [
            {
                "code": p,
                "name": {"zh": agencies.PRIORITY_NAMES[p][0], "en": agencies.PRIORITY_NAMES[p][1]},
                "ack_seconds": agencies.DEFAULT_SERVICE_LEVELS[p].ack_seconds,
                "resolve_seconds": agencies.DEFAULT_SERVICE_LEVELS[p].resolve_seconds,
            }
            for p in agencies.PRIORITIES
        ],
        "console": {"alarm_repeat_seconds": request.app[SETTINGS].alarm_repeat_seconds},
    }
    return json_response(body, headers={"Cache-Control": "max-age=300"})


def _session_body(principal: Principal, expires_at: int) -> dict[str, Any]:
    return {
        "user": {
            "id": principal.id,
            "name": principal.name,
            "role": principal.role,
            "agency": principal.agency,
            "district": principal.district,
            "desk_id": principal.desk_id,
        },
        "expires_at": datetime.fromtimestamp(expires_at, UTC),
        "home": HOME_BY_ROLE.get(principal.role, "/console/"),
    }


def _is_form(request: web.Request) -> bool:
    return request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data")


# The one answer to an unknown user, a user without a password and a wrong password alike.
WRONG_PASSWORD_MESSAGE: Final = "用户名或密码错误 / wrong user name or password"


async def _password_principal(request: web.Request, username: str, password: str) -> tuple[Principal, bytes, int]:
    """The user signing in with this password, with what the session is signed with; 401 with
    one message for every failure, 429 once the user name's or the address's failures are spent."""
    settings = request.app[SETTINGS]
    limiter = request.app[LIMITER]
    by_address = rule("signin_failures", settings.signin_failure_limit)
    by_user = rule("signin_user_failures", settings.signin_failure_limit)
    address = client_address(request)
    user_key = key_id(username.strip().casefold())
    await limiter.check(by_address, address)
    await limiter.check(by_user, user_key)
    found = await find_for_password(request.app[DB], username.strip())
    encoded = found[1] if found else None
    if not await verify_password_async(encoded, password) or found is None:
        await limiter.count(by_address, address)
        await limiter.count(by_user, user_key)
        log.info("console.sign_in_refused", method="password")
        raise Unauthorized(WRONG_PASSWORD_MESSAGE, code="invalid_credentials")
    principal, encoded, token_hash, epoch = found
    assert encoded is not None
    if needs_rehash(encoded):
        await set_password_hash_quietly(request.app[DB], principal.id, await hash_password_async(password))
    return principal, token_hash, epoch


@describe(
    "Sign in to the consoles with a user name and password, or an API token: a session cookie for a shift (13 h)",
    tag="console",
    body=SessionCreate,
    responses={200: SessionOut, 303: None, 401: None, 403: None, 429: None},
)
async def sign_in(request: web.Request) -> web.StreamResponse:
    """POST /console/session: JSON ``{"username", "password"}`` or ``{"token"}`` answers the
    user; a plain HTML form (the same fields, and ``next``) is redirected to the console. The
    cookie is HttpOnly, SameSite=Strict, Path=/, and Secure when the request came over HTTPS."""
    form = _is_form(request)
    next_path: str | None = None
    if form:
        fields = await read_form(request)
        token = str(fields.get("token", "")).strip()
        username = str(fields.get("username", "")).strip()
        password = str(fields.get("password", ""))
        next_path = _safe_next(str(fields.get("next", "")))
    else:
        body = await read_model(request, SessionCreate)
        token = (body.token or "").strip()
        username, password = (body.username or "").strip(), body.password or ""
    if not same_origin(request):
        raise Forbidden("sign in from this service's own pages", code="cross_origin")
    principal: Principal | None = None
    epoch = 0
    if username and not token:
        try:
            principal, token_hash, epoch = await _password_principal(request, username, password)
        except Unauthorized:
            if form:
                raise web.HTTPSeeOther(_back(next_path, "invalid_credentials")) from None
            raise
    else:
        principal = await find_by_token(request.app[DB], token) if token else None
        if principal is None:
            log.info("console.sign_in_refused", method="token")
            if form:
                raise web.HTTPSeeOther(_back(next_path, "invalid_token"))
            raise Unauthorized("the API token is unknown, expired or revoked", code="invalid_token")
        token_hash, epoch = await token_hash_and_epoch(request.app[DB], principal.id)
    if principal.role not in HOME_BY_ROLE:
        raise Forbidden(f"role {principal.role} has no console; use the API", code="no_console")
    expires_at = session_expiry()
    log.info("console.signed_in", user=principal.name, role=principal.role, method="password" if username else "token")
    if form:
        redirect = web.HTTPSeeOther(next_path or HOME_BY_ROLE[principal.role])
        start_session(redirect, request, principal.id, token_hash, expires_at, epoch)
        raise redirect
    response = json_response(_session_body(principal, expires_at))
    start_session(response, request, principal.id, token_hash, expires_at, epoch)
    return response


def _back(next_path: str | None, error: str) -> str:
    return f"/console/?error={error}" + (f"&next={quote(next_path, safe='/')}" if next_path else "")


@describe("Sign out of the consoles: the browser forgets the session cookie", tag="console", responses={200: SignedOut})
async def sign_out(request: web.Request) -> web.Response:
    """DELETE /console/session: clear the session cookie (also when there is none)."""
    response = json_response({"signed_out": True})
    end_session(response, request)
    return response


def setup(app: web.Application) -> None:
    app.router.add_get("/console", console_root)
    app.router.add_get("/console/", console_index)
    app.router.add_get(r"/console/{page:intake|desk|supervisor|kb}", console_page)
    app.router.add_get("/console/assets/{path:.+}", console_asset)
    app.router.add_get("/console/reference.json", reference)
    app.router.add_post("/console/session", sign_in)
    app.router.add_delete("/console/session", sign_out)
    app.router.add_get("/status", status_page)
