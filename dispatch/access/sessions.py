"""Console sessions: a signed cookie that stands in for the API token in a browser.

The cookie reads ``v1.<user id>.<expiry, unix seconds>.<signature>``; the signature is an
HMAC-SHA256 of the first three parts keyed with the user's stored token hash, and, when the
servers share ``DISPATCH_SESSION_SECRET``, with that secret too (so that reading the ``users``
table is not enough to forge a session). Nothing is stored per session, every server process
can check any cookie, and rotating or revoking the user's token ends all of that user's
sessions at once (docs/decisions/0003-console-sessions.md). The user's password epoch is signed
too (once a password was set), so that changing or resetting a password ends them as well.

A request authenticated by the cookie is a browser's: unsafe methods must carry
``X-Requested-With: dispatch`` (a header another site cannot make a browser send without a
CORS preflight, which this service never grants), and a request whose ``Origin`` names
another host is refused. Bearer-token requests are not affected.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from aiohttp import web

from dispatch.errors import Forbidden
from dispatch.runtime.app_keys import DB, SETTINGS
from dispatch.store.sessions import find_session_user
from dispatch.store.users import Principal

COOKIE_NAME: Final = "dispatch_session"
SESSION_SECONDS: Final = 13 * 3600  # a 12-hour shift and its hand-over
CSRF_HEADER: Final = "X-Requested-With"
CSRF_VALUE: Final = "dispatch"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
_VERSION: Final = "v1"
_CONTEXT: Final = b"dispatch-console-session"
_MAX_COOKIE_CHARS: Final = 200


@dataclass(frozen=True, slots=True)
class SessionClaim:
    """What a cookie says before it is checked: whose session and until when."""

    user_id: int
    expires_at: int
    signature: bytes


def _mac(user_id: int, expires_at: int, token_hash: bytes, secret: bytes | None, epoch: int = 0) -> bytes:
    parts = [_CONTEXT, _VERSION.encode(), str(user_id).encode(), str(expires_at).encode()]
    if epoch:  # users who never set a password keep the signatures they always had
        parts.append(b"password-epoch:%d" % epoch)
    message = b"|".join(parts)
    key = token_hash if secret is None else hmac.new(secret, _CONTEXT + b"|key|" + token_hash, hashlib.sha256).digest()
    return hmac.new(key, message, hashlib.sha256).digest()


def _secret(request: web.Request) -> bytes | None:
    configured = request.app[SETTINGS].session_secret
    return configured.get_secret_value().encode() if configured is not None else None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def sign_session(user_id: int, token_hash: bytes, expires_at: int, secret: bytes | None = None, epoch: int = 0) -> str:
    """The cookie value of a session for this user until ``expires_at`` (unix seconds)."""
    return f"{_VERSION}.{user_id}.{expires_at}.{_b64(_mac(user_id, expires_at, token_hash, secret, epoch))}"


def parse_session(value: str) -> SessionClaim | None:
    """The claim in a cookie value, or None when it is not one (nothing is verified here)."""
    if not value or len(value) > _MAX_COOKIE_CHARS:
        return None
    parts = value.split(".")
    if len(parts) != 4 or parts[0] != _VERSION:
        return None
    user_id, expires_at, signature = parts[1:]
    if not (user_id.isascii() and user_id.isdigit() and expires_at.isascii() and expires_at.isdigit()):
        return None
    if len(user_id) > 18 or len(expires_at) > 12:
        return None
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    except ValueError:
        return None
    if len(raw) != hashlib.sha256().digest_size:
        return None
    return SessionClaim(int(user_id), int(expires_at), raw)


def verify_session(
    claim: SessionClaim, token_hash: bytes, now: float | None = None, secret: bytes | None = None, epoch: int = 0
) -> bool:
    """True when the signature is right for this user's token (and the servers' secret) and
    the session has not ended."""
    current = time.time() if now is None else now
    if claim.expires_at <= current:
        return False
    expected = _mac(claim.user_id, claim.expires_at, token_hash, secret, epoch)
    return hmac.compare_digest(claim.signature, expected)


async def session_principal(request: web.Request) -> Principal | None:
    """The user of a valid session cookie on this request; None without one or when it is
    forged, expired, or its user's token was rotated or revoked."""
    claim = parse_session(request.cookies.get(COOKIE_NAME, ""))
    if claim is None or claim.expires_at <= time.time():
        return None
    found = await find_session_user(request.app[DB], claim.user_id)
    if found is None:
        return None
    principal, token_hash, epoch = found
    return principal if verify_session(claim, token_hash, secret=_secret(request), epoch=epoch) else None


def has_session_cookie(request: web.Request) -> bool:
    """Whether the request carries a session cookie at all (valid or not)."""
    return COOKIE_NAME in request.cookies


def same_origin(request: web.Request) -> bool:
    """False when the request names an ``Origin`` on another host (or the opaque ``null``);
    True when it names this host or none (same-origin GETs often send none)."""
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    try:
        host = urlsplit(origin).netloc
    except ValueError:
        return False
    # The host only, not the scheme: behind a TLS-terminating proxy the server sees http.
    return bool(host) and host.lower() == request.host.lower()


def check_browser_request(request: web.Request) -> None:
    """Refuse (403) a cookie-authenticated request that another site could have made."""
    if not same_origin(request):
        raise Forbidden(
            "a console session is used only by pages of this service (Origin names another site)",
            code="cross_origin",
        )
    if request.method not in SAFE_METHODS and request.headers.get(CSRF_HEADER) != CSRF_VALUE:
        raise Forbidden(
            f"a console session needs the header '{CSRF_HEADER}: {CSRF_VALUE}' on {request.method}",
            code="csrf_header_missing",
        )


def _is_https(request: web.Request) -> bool:
    # A client claiming https over plain http only makes its own cookie unusable to itself.
    return request.secure or request.headers.get("X-Forwarded-Proto", "").lower() == "https"


def session_expiry() -> int:
    """When a session started now ends (unix seconds)."""
    return int(time.time()) + SESSION_SECONDS


def start_session(
    response: web.StreamResponse,
    request: web.Request,
    user_id: int,
    token_hash: bytes,
    expires_at: int,
    epoch: int = 0,
) -> None:
    """Set the cookie of a session ending at ``expires_at`` on ``response``."""
    response.set_cookie(
        COOKIE_NAME,
        sign_session(user_id, token_hash, expires_at, _secret(request), epoch),
        max_age=SESSION_SECONDS,
        path="/",
        httponly=True,
        secure=_is_https(request),
        samesite="Strict",
    )


def end_session(response: web.StreamResponse, request: web.Request) -> None:
    """Tell the browser to forget the session cookie."""
    response.del_cookie(COOKIE_NAME, path="/", secure=_is_https(request), httponly=True, samesite="Strict")
