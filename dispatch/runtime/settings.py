"""Configuration from the environment (and an optional ``.env`` file), validated at start-up.

Every variable is ``DISPATCH_<NAME>``; see docs/configuration.md for the full list.
A bad value stops start-up with one line naming the variable and what is wrong with it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from limits import parse as parse_limit
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from dispatch.errors import ConfigError
from dispatch.runtime.redis_client import CLUSTER_SCHEME, SENTINEL_SCHEME, SERVER_SCHEMES, is_multi_node, parse_target


def _check_url(value: str | None, schemes: tuple[str, ...], what: str) -> str | None:
    if value is None or value.strip() == "":
        return None
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a port that does not parse
    except ValueError as exc:
        raise ValueError(f"not a valid {what} URL: {exc}") from None
    if parts.scheme not in schemes:
        raise ValueError(f"a {what} URL starts with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname and "host=" not in parts.query and parts.scheme not in ("unix",):
        raise ValueError(f"the {what} URL names no host")
    return value


class Settings(BaseSettings):
    """The service's configuration; field ``x`` is read from ``DISPATCH_X``."""

    model_config = SettingsConfigDict(
        env_prefix="DISPATCH_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    database_url: str | None = Field(default=None, description="PostgreSQL DSN; unset: embedded")
    database_replica_url: str | None = Field(default=None, description="read replica for statistics")
    redis_url: str | None = Field(
        default=None,
        description="Redis or Valkey URL: one server, redis+cluster:// or redis+sentinel://; unset: embedded",
    )
    data_dir: Path = Field(default=Path("./var"), description="where embedded servers keep data")
    host: str = Field(default="127.0.0.1", min_length=1)
    port: int = Field(default=8110, ge=0, le=65535)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["auto", "json", "console"] = "auto"
    db_pool_min: int = Field(default=2, ge=1, le=100)
    db_pool_max: int = Field(default=20, ge=1, le=500)
    shutdown_timeout: float = Field(default=5.0, gt=0, le=120)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    session_secret: SecretStr | None = Field(
        default=None,
        description="a secret of every server that console session cookies are also signed with; unset: none",
    )
    # Supervisors' reads (summary, overdue, escalations, time series) shared per process
    stats_shared_seconds: float = Field(
        default=5.0, ge=0, le=300, description="a statistics question is computed at most this often; 0: always"
    )
    # Consoles (docs/consoles.md): how often an unacknowledged alarm rings again
    alarm_repeat_seconds: float = Field(
        default=30.0, ge=1, le=3600, description="a console alarm rings again after this many seconds until handled"
    )
    # Deadlines and escalation (dispatch/deadlines, docs/operations.md)
    deadline_watcher: bool = Field(default=True, description="run the deadline watcher (one leader at a time)")
    escalation_intervals: Annotated[tuple[float, ...], NoDecode] = Field(
        default=(300.0, 900.0),
        description="seconds an overdue deadline waits before each further level, e.g. '300,900'",
    )
    reminder_fraction: float | None = Field(
        default=0.8, gt=0, lt=1, description="remind (催办) when this fraction of the allowed time is used; off: none"
    )
    deadline_poll_max: float = Field(default=0.25, gt=0, le=10, description="longest sleep of the watcher (s)")
    deadline_batch: int = Field(default=1000, ge=1, le=100_000, description="assignments per watcher transaction")
    leader_retry_interval: float = Field(default=1.0, gt=0, le=60, description="how often a follower tries to lead")
    ws_heartbeat_s: float = Field(default=10.0, gt=0, le=300, description="ping interval; no pong in half of it closes")
    ws_max_per_user: int = Field(default=20, ge=1, le=1_000_000, description="open websockets per user")
    ws_commands_per_s: float = Field(default=20.0, gt=0, le=10_000, description="commands per websocket per second")
    ws_queue_limit: int = Field(default=2000, ge=10, le=1_000_000, description="events queued per client before 4008")

    # Citizens, Open311 and other systems (docs/open311.md, docs/interop.md).
    public_rate_limit: str = Field(default="30/minute", description="public status page requests per client address")
    public_lookup_failure_limit: str = Field(
        default="20/10 minutes", description="failed ticket lookups (unknown number or wrong token) per address"
    )
    public_code_failure_limit: str = Field(
        default="5/day", description="wrong six-digit short codes per ticket number, from any address"
    )
    signin_failure_limit: str = Field(
        default="10/15 minutes", description="wrong console passwords per user name, and per address"
    )
    open311_rate_limit: str = Field(default="120/minute", description="Open311 requests per client address")
    open311_key_rate_limit: str = Field(default="60/minute", description="Open311 submissions per API key")
    rate_limit_trust_forwarded_for: bool = Field(
        default=False, description="behind one trusted proxy: the client is the last X-Forwarded-For hop"
    )
    feedback_grace_days: float = Field(default=7, gt=0, le=365, description="resolved tickets close after this")
    feedback_grace_check_seconds: float = Field(
        default=3600, ge=0, le=86400, description="how often the server closes them; 0: only `dispatch close-resolved`"
    )
    interop_domain: str = Field(
        default="minsheng110.local",
        pattern=r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$",
        description="this centre's domain in EIDO identifiers and the CAP sender",
    )
    open311_contact: str = Field(
        default="驻马店市民生110 / Zhumadian Minsheng 110; 紧急情况请拨打110 / in an emergency call 110",
        min_length=1,
        max_length=500,
        description="the contact line of the Open311 discovery document",
    )

    # Text messages to callers (dispatch/delivery/sms.py): number, short code and status link.
    sms: bool = Field(default=True, description="run this process's SMS notifier")
    sms_url: str | None = Field(
        default=None, description="the SMS gateway: POST JSON {id, to, text, ticket}; unset: log and table only"
    )
    sms_timeout_s: float = Field(default=10.0, gt=0, le=120, description="one request to the SMS gateway, seconds")
    sms_max_attempts: int = Field(default=8, ge=1, le=100, description="attempts before a message is failed")
    sms_retry_initial_s: float = Field(default=5.0, gt=0, le=3600, description="first SMS retry delay (doubles)")
    sms_retry_max_s: float = Field(default=600.0, gt=0, le=86400, description="longest SMS retry delay")
    public_url: str | None = Field(
        default=None, description="the service's address as citizens reach it, for status links; unset: host:port"
    )

    # Delivery to agencies' own systems by webhook (dispatch/delivery, docs/agencies.md).
    delivery: bool = Field(default=True, description="run this process's webhook delivery workers")
    delivery_timeout_s: float = Field(default=10.0, gt=0, le=120, description="one webhook request, seconds")
    delivery_max_attempts: int = Field(
        default=10, ge=1, le=100, description="attempts before an event goes to the dead-letter stream"
    )
    delivery_retry_initial_s: float = Field(default=1.0, gt=0, le=3600, description="first retry delay (doubles)")
    delivery_retry_max_s: float = Field(default=300.0, gt=0, le=86400, description="longest retry delay")
    delivery_claim_idle_s: float = Field(
        default=30.0, gt=0, le=3600, description="an event a worker holds this long without a sign of life is claimed"
    )
    delivery_refresh_s: float = Field(default=5.0, gt=0, le=3600, description="how often webhooks are re-read")
    delivery_concurrency: int = Field(default=32, ge=1, le=10_000, description="events in hand per webhook and process")

    @field_validator("session_secret", mode="before")
    @classmethod
    def _session_secret(cls, value: object) -> object:
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if value is None or (isinstance(value, str) and value.strip() == ""):
            return None
        if isinstance(value, str) and len(value) < 32:
            raise ValueError("a session secret is at least 32 characters (for example: openssl rand -hex 32)")
        return value

    @field_validator(
        "public_rate_limit",
        "public_lookup_failure_limit",
        "public_code_failure_limit",
        "signin_failure_limit",
        "open311_rate_limit",
        "open311_key_rate_limit",
    )
    @classmethod
    def _rate_limit(cls, value: str) -> str:
        try:
            parse_limit(value)
        except ValueError:
            raise ValueError("a rate limit reads like 30/minute, 20/10 minutes or 1000/day") from None
        return value

    @field_validator("sms_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("http", "https"), "HTTP")

    @field_validator("database_url", "database_replica_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        return _check_url(value, ("postgres", "postgresql"), "PostgreSQL")

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if value is not None and is_multi_node(value):
            parse_target(value.strip())  # a Cluster's or Sentinels' URL lists several hosts: its own checks
            return value.strip()
        return _check_url(value, (*SERVER_SCHEMES, CLUSTER_SCHEME, SENTINEL_SCHEME), "Redis")

    @field_validator("escalation_intervals", mode="before")
    @classmethod
    def _intervals(cls, value: object) -> object:
        if isinstance(value, str):
            value = [part for part in value.replace(" ", "").split(",") if part]
        if isinstance(value, (list, tuple)):
            if len(value) > 9:
                raise ValueError("at most 9 intervals (10 escalation levels)")
            numbers = [float(v) for v in value]
            if any(not 0 < n <= 30 * 86400 for n in numbers):
                raise ValueError("each interval is more than 0 and at most 30 days, in seconds")
            return tuple(numbers)
        return value

    @field_validator("reminder_fraction", mode="before")
    @classmethod
    def _reminder_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in ("", "off", "none", "0"):
            return None
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings; raise :class:`ConfigError` with a one-line message."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "DISPATCH_" + "_".join(str(p) for p in error["loc"]).upper()
            message = error["msg"].removeprefix("Value error, ")
            given = error.get("input")
            shown = f" (got {given!r})" if given is not None and not isinstance(given, dict) else ""
            if "secret" in name.lower():
                shown = ""  # never echo a secret into a terminal or a log
            problems.append(f"{name}: {message}{shown}")
        raise ConfigError("invalid configuration: " + "; ".join(problems)) from None
