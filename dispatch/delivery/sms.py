"""Text messages (SMS) to callers: the ticket number, short code and status link, sent after the
ticket is committed.

A trigger queues a row of ``sms_messages`` in the transaction that creates a ticket whose caller
gave a Chinese mobile number, so a message is never lost and never holds the create up (the
outbox pattern). The notifier in every server process claims due rows with ``FOR UPDATE SKIP
LOCKED`` (so processes share the work without a leader and never send one twice in normal
operation), writes the text, and hands it to the gateway:

- with ``DISPATCH_SMS_URL``, a POST of JSON ``{"id", "to", "text", "ticket"}`` to that URL; any
  2xx is sent, anything else (or no answer within ``DISPATCH_SMS_TIMEOUT_S``) is retried with
  doubling delays up to ``DISPATCH_SMS_MAX_ATTEMPTS``, then ``failed``;
- without it, the message is written to the log (the number masked) and kept in the table as
  ``logged``, visible to admins at ``GET /api/v1/sms``.

A NOTIFY from the trigger wakes the notifier at once; it also polls once a second.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, Final

import aiohttp
import asyncpg
import structlog
from aiohttp import web

from dispatch.privacy.personal_data import mask_phone
from dispatch.runtime.app_keys import DB, SETTINGS
from dispatch.runtime.backoff import Backoff
from dispatch.runtime.db import DATABASE_DOWN
from dispatch.runtime.settings import Settings
from dispatch.runtime.tasks import owned_task

log = structlog.get_logger("dispatch.sms")

CHANNEL: Final = "dispatch_sms"
BATCH: Final = 20
IDLE_POLL_S: Final = 1.0
# A claimed message not settled in this time (the process died while sending) is due again.
LEASE_S: Final = 120

_CLAIM = """
    UPDATE sms_messages m SET next_attempt_at = now() + make_interval(secs => $2), attempts = m.attempts + 1
    FROM tickets t
    WHERE m.id IN (
        SELECT id FROM sms_messages WHERE state = 'pending' AND next_attempt_at <= now()
        ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED
    ) AND t.id = m.ticket_id
    RETURNING m.id, m.phone, m.attempts, t.number, t.short_code, t.status
"""


def status_link(settings: Settings, number: str) -> str:
    """The citizens' status page for a ticket, number filled in."""
    base = settings.public_url or f"http://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/status?number={number}"


def message_text(settings: Settings, number: str, short_code: str, status: str) -> str:
    """The text of a message: Chinese, short enough for two SMS segments."""
    what = "您的咨询已答复办结" if status == "answered" else "您的诉求已受理"
    return f"【民生110】{what}，工单号 {number}，查询码 {short_code}。查询进度：{status_link(settings, number)}"


def retry_delay(settings: Settings, attempts: int) -> float:
    """The wait before attempt ``attempts + 1``: the first delay, doubled per failure, bounded."""
    return float(min(settings.sms_retry_initial_s * 2 ** max(attempts - 1, 0), settings.sms_retry_max_s))


class Notifier:
    """Claims due messages and sends them, until cancelled."""

    def __init__(self, pool: asyncpg.Pool, settings: Settings, dsn: str) -> None:
        self.pool = pool
        self.settings = settings
        self.dsn = dsn
        self.wake = asyncio.Event()
        self.session: aiohttp.ClientSession | None = None

    async def run(self) -> None:
        """Send for ever; wait out the database with back-off when it is away."""
        timeout = aiohttp.ClientTimeout(total=self.settings.sms_timeout_s)
        backoff = Backoff(first=0.1, most=5.0)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            self.session = session
            listener: asyncpg.Connection | None = None
            try:
                while True:
                    try:
                        if listener is None or listener.is_closed():
                            listener = await asyncpg.connect(self.dsn)
                            await listener.add_listener(CHANNEL, lambda *_: self.wake.set())
                        self.wake.clear()
                        sent = await self.send_due()
                        backoff.succeeded()
                    except DATABASE_DOWN as exc:
                        log.warning("sms.database_unavailable", error=repr(exc), retry_in=backoff.delay)
                        listener = None
                        await backoff.wait()
                        continue
                    if not sent:
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(IDLE_POLL_S):
                                await self.wake.wait()
            finally:
                if listener is not None and not listener.is_closed():
                    await listener.close()

    async def send_due(self) -> int:
        """Claim and send one batch of due messages; return how many were claimed."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(_CLAIM, BATCH, LEASE_S)
        await asyncio.gather(*(self._send(dict(row)) for row in rows))
        return len(rows)

    async def _send(self, row: dict[str, Any]) -> None:
        text = message_text(self.settings, row["number"], row["short_code"], row["status"])
        url = self.settings.sms_url
        if url is None:
            log.info("sms.logged", message_id=row["id"], to=mask_phone(row["phone"]), text=text)
            await self._settle(row["id"], "logged", text, None)
            return
        assert self.session is not None
        payload = {"id": row["id"], "to": row["phone"], "text": text, "ticket": row["number"]}
        error: str | None = None
        try:
            async with self.session.post(url, json=payload) as response:
                if 200 <= response.status < 300:
                    log.info("sms.sent", message_id=row["id"], attempts=row["attempts"])
                    await self._settle(row["id"], "sent", text, None)
                    return
                error = f"HTTP {response.status}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = repr(exc)
        if row["attempts"] >= self.settings.sms_max_attempts:
            log.warning("sms.failed", message_id=row["id"], attempts=row["attempts"], error=error)
            await self._settle(row["id"], "failed", text, error)
            return
        delay = retry_delay(self.settings, row["attempts"])
        log.info("sms.retry", message_id=row["id"], attempts=row["attempts"], retry_in=delay, error=error)
        async with self.pool.acquire() as conn:
            await conn.execute(
                """UPDATE sms_messages SET body = $2, last_error = $3,
                       next_attempt_at = now() + make_interval(secs => $4)
                   WHERE id = $1""",
                row["id"],
                text,
                error,
                delay,
            )

    async def _settle(self, message_id: int, state: str, text: str, error: str | None) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(
                """UPDATE sms_messages SET state = $2, body = $3, last_error = $4,
                       sent_at = CASE WHEN $2 IN ('sent', 'logged') THEN now() END
                   WHERE id = $1""",
                message_id,
                state,
                text,
                error,
            )


NOTIFIER = web.AppKey("sms_notifier", Notifier)


async def sms_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: this process's notifier (off with ``DISPATCH_SMS=false``)."""
    settings = app[SETTINGS]
    if not settings.sms:
        yield
        return
    assert settings.database_url
    notifier = Notifier(app[DB], settings, settings.database_url)
    app[NOTIFIER] = notifier
    async with owned_task(notifier.run(), "sms-notifier"):
        yield
