"""Webhooks: the agency (or desk) systems that receive assignments, and their last outcome.

The signing secret is created here and shown once to whoever registers the webhook; it is
stored as given because signing needs it (docs/agencies.md explains rotation: add a new
webhook, switch the receiver, remove the old one).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from dispatch.errors import NotFound, ValidationFailed

SECRET_PREFIX = "whsec_"
_COLUMNS = """w.id, w.agency, w.desk_id, d.code AS desk, w.url, w.active, w.start_seq, w.created_at,
    w.deactivated_at, w.last_delivered_at, w.last_failed_at, w.last_error, w.delivered_count, w.dead_count"""


@dataclass(frozen=True, slots=True)
class Webhook:
    """What a delivery worker needs to know about one webhook."""

    id: int
    agency: str
    desk_id: int | None
    url: str
    secret: str
    start_seq: int
    active: bool = True


def new_secret() -> str:
    """A fresh signing secret: 256 random bits, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def check_url(url: str) -> str:
    """An http(s) URL with a host; ValidationFailed otherwise."""
    url = url.strip()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that does not parse
    except ValueError as exc:
        raise ValidationFailed(f"not a valid URL: {exc}", details=[{"field": "url"}]) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed(
            "a webhook URL starts with http:// or https:// and names a host", details=[{"field": "url"}]
        )
    return url


async def add_webhook(
    conn: asyncpg.Connection, agency: str, url: str, *, desk_code: str | None = None
) -> tuple[dict[str, Any], str]:
    """Register a webhook for an agency (or one of its desks); return it and its secret.

    It receives the events published from now on; nothing is created on error.
    """
    url = check_url(url)
    if not await conn.fetchval("SELECT 1 FROM agencies WHERE code = $1", agency):
        known = [r["code"] for r in await conn.fetch("SELECT code FROM agencies ORDER BY code")]
        raise ValidationFailed(
            f"unknown agency {agency!r}; known agencies: {', '.join(known)}", details=[{"field": "agency"}]
        )
    desk_id = None
    if desk_code is not None:
        desk = await conn.fetchrow("SELECT id, agency FROM desks WHERE code = $1", desk_code)
        if desk is None or desk["agency"] != agency:
            raise ValidationFailed(f"no {agency} desk {desk_code!r}", details=[{"field": "desk"}])
        desk_id = desk["id"]
    secret = new_secret()
    webhook_id = await conn.fetchval(
        """
        INSERT INTO webhooks (agency, desk_id, url, secret, start_seq)
        VALUES ($1, $2, $3, $4, (SELECT coalesce(max(seq), 0) FROM outbox))
        RETURNING id
        """,
        agency,
        desk_id,
        url,
        secret,
    )
    return await get_webhook_info(conn, webhook_id), secret


async def get_webhook_info(conn: asyncpg.Connection | asyncpg.Pool, webhook_id: int) -> dict[str, Any]:
    """A webhook as operators see it (no secret); 404 if there is none."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM webhooks w LEFT JOIN desks d ON d.id = w.desk_id WHERE w.id = $1", webhook_id
    )
    if row is None:
        raise NotFound(f"no webhook {webhook_id}", code="webhook_not_found")
    return dict(row)


async def list_webhooks(conn: asyncpg.Connection | asyncpg.Pool, *, agency: str | None = None) -> list[dict[str, Any]]:
    """Every webhook (active first, then by id), optionally of one agency; no secrets."""
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM webhooks w LEFT JOIN desks d ON d.id = w.desk_id
            WHERE $1::text IS NULL OR w.agency = $1 ORDER BY w.active DESC, w.id""",
        agency,
    )
    return [dict(r) for r in rows]


async def active_webhooks(conn: asyncpg.Connection | asyncpg.Pool) -> list[Webhook]:
    """The webhooks delivery workers serve."""
    rows = await conn.fetch("SELECT id, agency, desk_id, url, secret, start_seq FROM webhooks WHERE active ORDER BY id")
    return [Webhook(**dict(r)) for r in rows]


async def load_webhook(conn: asyncpg.Connection | asyncpg.Pool, webhook_id: int) -> Webhook | None:
    """One webhook with its secret, active or not (replaying a dead letter needs it)."""
    row = await conn.fetchrow(
        "SELECT id, agency, desk_id, url, secret, start_seq, active FROM webhooks WHERE id = $1", webhook_id
    )
    return Webhook(**dict(row)) if row else None


async def deactivate_webhook(conn: asyncpg.Connection, webhook_id: int) -> bool:
    """Stop delivering to a webhook; False if there is no active one with this id."""
    result = await conn.execute(
        "UPDATE webhooks SET active = false, deactivated_at = now() WHERE id = $1 AND active", webhook_id
    )
    return bool(result.endswith(" 1"))


async def record_delivered(conn: asyncpg.Connection | asyncpg.Pool, webhook_id: int) -> None:
    """Count a delivery the receiver accepted."""
    await conn.execute(
        """UPDATE webhooks SET delivered_count = delivered_count + 1, last_delivered_at = now()
           WHERE id = $1""",
        webhook_id,
    )


async def record_failure(
    conn: asyncpg.Connection | asyncpg.Pool, webhook_id: int, error: str, *, dead: bool = False
) -> None:
    """Note a failed attempt (``dead``: the event went to the dead-letter stream)."""
    await conn.execute(
        """UPDATE webhooks SET last_failed_at = now(), last_error = left($2, 500),
                  dead_count = dead_count + CASE WHEN $3 THEN 1 ELSE 0 END
           WHERE id = $1""",
        webhook_id,
        error,
        dead,
    )
