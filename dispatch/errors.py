"""The service's one exception tree.

Every error the service means to report carries a stable ``code``, a human ``message``
and optional ``details``; ``dispatch/api/errors.py`` maps them to HTTP in one place.

    DispatchError
    ├── ConfigError            bad configuration (start-up)
    ├── MigrationError         a migration cannot be applied or was edited after it ran
    ├── EmbeddedServerError    an embedded PostgreSQL or Valkey cannot start
    ├── ArchiveError           ``dispatch archive`` refuses a month, a directory or its files
    └── ApiError               anything a client can be told about (has an HTTP status)
        ├── BadRequest         400 malformed request (not JSON, bad query parameter)
        ├── Unauthorized       401 missing, unknown, expired or revoked token
        ├── Forbidden          403 role not allowed
        ├── NotFound           404 no such thing (or not visible to this user)
        ├── MethodNotAllowed   405
        ├── Conflict           409 illegal state change, duplicate
        ├── PayloadTooLarge    413
        ├── ValidationFailed   422 well-formed but invalid fields
        ├── RateLimited        429
        └── Unavailable        503 a dependency is down; retry later
"""

from __future__ import annotations

from typing import Any, ClassVar


class DispatchError(Exception):
    """Base of every error the service raises on purpose."""

    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, code: str | None = None, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code  # type: ignore[misc]
        self.details: list[Any] = details or []


class ConfigError(DispatchError):
    code = "config_invalid"


class MigrationError(DispatchError):
    code = "migration_failed"


class EmbeddedServerError(DispatchError):
    code = "embedded_server_failed"


class ArchiveError(DispatchError):
    code = "archive_refused"


class ApiError(DispatchError):
    status: ClassVar[int] = 400
    headers: dict[str, str]

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: list[Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.headers = headers or {}


class BadRequest(ApiError):
    status = 400
    code = "bad_request"


class Unauthorized(ApiError):
    status = 401
    code = "unauthorized"


class Forbidden(ApiError):
    status = 403
    code = "forbidden"


class NotFound(ApiError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ApiError):
    status = 405
    code = "method_not_allowed"


class Conflict(ApiError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ApiError):
    status = 413
    code = "payload_too_large"


class ValidationFailed(ApiError):
    status = 422
    code = "validation_failed"


class RateLimited(ApiError):
    status = 429
    code = "rate_limited"


class Unavailable(ApiError):
    status = 503
    code = "unavailable"
