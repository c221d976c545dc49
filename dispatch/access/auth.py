"""Who is calling: bearer tokens (header, or ``?token=`` for websockets), or a console
session cookie in a browser (``dispatch/access/sessions.py``), and role checks.

Use ``await authenticate(request, ROLE, ...)`` at the top of a handler; it returns the
:class:`Principal` or raises 401/403.
"""

from __future__ import annotations

from aiohttp import web

from dispatch.access.permissions import roles_for
from dispatch.access.sessions import check_browser_request, has_session_cookie, session_principal
from dispatch.errors import Forbidden, Unauthorized
from dispatch.runtime.app_keys import DB, TOKENS
from dispatch.store.users import Principal, find_by_token

PRINCIPAL_KEY = web.RequestKey("principal", Principal)

# Tokens looked up in the last few seconds, so that a busy desk or call-taker does not cost a
# query per request. A revoked or expired token stops working within TOKEN_CACHE_S.
# The cache is app-owned (app_keys.TOKENS).
TOKEN_CACHE_S = 5.0
TOKEN_CACHE_LIMIT = 10_000


async def principal_for_token(request: web.Request, token: str) -> Principal | None:
    """The live user holding ``token`` (from a short cache, else from the database)."""
    kept = request.app[TOKENS]
    cached = kept.get(token)
    if cached is not None:
        return cached
    principal = await find_by_token(request.app[DB], token)
    if principal is None:
        kept.drop(token)
        return None
    kept.put(token, principal)
    return principal


def bearer_token(request: web.Request, *, allow_query: bool = False) -> str | None:
    """The token from ``Authorization: Bearer``, or from ``?token=`` where allowed."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if allow_query:
        return request.query.get("token") or None
    return None


async def _console_session(request: web.Request) -> Principal:
    """The user of the browser's console session cookie (dispatch/access/sessions.py); without a
    token or a cookie, 401. A cookie-authenticated request must also pass the CSRF rule."""
    if not has_session_cookie(request):
        raise Unauthorized(
            "missing API token: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": 'Bearer realm="dispatch"'},
        )
    principal = await session_principal(request)
    if principal is None:
        raise Unauthorized(
            "the console session has ended (expired, signed out, or the token changed); sign in again",
            code="session_expired",
            headers={"WWW-Authenticate": 'Bearer realm="dispatch", error="invalid_token"'},
        )
    check_browser_request(request)
    return principal


async def authenticate(request: web.Request, operation: str | None = None, *, allow_query: bool = False) -> Principal:
    """The caller, who must hold a live token and a role allowed to perform ``operation``
    (see ``dispatch.access.permissions``); any live token when no operation is named."""
    principal: Principal | None = request.get(PRINCIPAL_KEY)
    if principal is None:
        token = bearer_token(request, allow_query=allow_query)
        if token is None:
            principal = await _console_session(request)
        else:
            principal = await principal_for_token(request, token)
        if principal is None:
            raise Unauthorized(
                "the API token is unknown, expired or revoked",
                code="invalid_token",
                headers={"WWW-Authenticate": 'Bearer realm="dispatch", error="invalid_token"'},
            )
        request[PRINCIPAL_KEY] = principal
    roles = roles_for(operation) if operation else ()
    if roles and principal.role not in roles:
        raise Forbidden(
            f"role {principal.role} may not {operation}; allowed: {', '.join(roles)}",
            details=[{"role": principal.role, "operation": operation, "allowed": list(roles)}],
        )
    return principal
