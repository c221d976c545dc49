"""The deadline watcher: every server process runs one, the leader of an advisory lock works.

The leader loops: send everything due (in batches, one transaction each), then sleep until
the next escalation is due by an indexed query, at most ``deadline_poll_max`` seconds (a
new assignment with a short deadline may appear at any time). Reminders are not
time-critical and their candidates are not indexable by due time, so they are looked for
at most once a second (or one batch per pass while a backlog lasts). See
``dispatch/deadlines/store.py`` for why nothing is sent twice.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import asyncpg
import structlog
from aiohttp import web

from dispatch.deadlines.policy import EscalationPolicy
from dispatch.deadlines.store import DeadlineStore, Sent
from dispatch.pipeline.leader import LeaderLock
from dispatch.runtime import metrics
from dispatch.runtime.app_keys import DB, SETTINGS
from dispatch.runtime.db import DATABASE_DOWN
from dispatch.runtime.settings import Settings
from dispatch.runtime.tasks import owned_task

log = structlog.get_logger("dispatch.deadlines")

LOCK_NAME = "dispatch.deadline_watcher"
REMINDER_EVERY_S = 1.0
MIN_SLEEP_S = 0.005  # never spin: skipped (locked) rows stay due until their holder commits
ERROR_BACKOFF_S = 1.0


def policy_from(settings: Settings) -> EscalationPolicy:
    """The escalation policy the settings describe."""
    return EscalationPolicy(intervals=settings.escalation_intervals, reminder_fraction=settings.reminder_fraction)


class DeadlineWatcher:
    """Finds passed deadlines and sends escalations and reminders, while this process leads."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        policy: EscalationPolicy,
        *,
        poll_max: float = 0.25,
        batch: int = 1000,
        retry_interval: float = 1.0,
    ) -> None:
        self.pool = pool
        self.policy = policy
        self.store = DeadlineStore(policy)
        self.poll_max = poll_max
        self.batch = batch
        self.lock = LeaderLock(pool, LOCK_NAME, retry_interval=retry_interval, check_interval=min(1.0, retry_interval))
        self.sent = 0  # escalations and reminders this process sent (for tests and logs)
        self._next_reminder_pass = 0.0

    @classmethod
    def from_settings(cls, pool: asyncpg.Pool, settings: Settings) -> DeadlineWatcher:
        return cls(
            pool,
            policy_from(settings),
            poll_max=settings.deadline_poll_max,
            batch=settings.deadline_batch,
            retry_interval=settings.leader_retry_interval,
        )

    @property
    def is_leader(self) -> bool:
        return self.lock.is_leader

    async def run(self) -> None:
        """Campaign for leadership for ever and watch deadlines while leading."""
        await self.lock.run(self._lead)

    async def _lead(self) -> None:
        log.info("deadline_watcher.leading", levels=self.policy.levels, intervals=self.policy.intervals)
        metrics.DEADLINE_LEADER.set(1)
        try:
            while True:
                try:
                    pause = await self.tick()
                except DATABASE_DOWN as exc:  # TimeoutError is an OSError
                    log.warning("deadline_watcher.tick_failed", error=repr(exc))
                    pause = ERROR_BACKOFF_S
                await asyncio.sleep(pause)
        finally:
            metrics.DEADLINE_LEADER.set(0)

    async def tick(self) -> float:
        """Send everything due now; return how long to sleep before the next pass."""
        async with self.pool.acquire() as conn:
            while await self._pass(conn, reminders=False):
                pass
            if self.store.reminder_steps and time.monotonic() >= self._next_reminder_pass:
                # One batch per pass at most: escalations, which are due to the second, come
                # first; a reminder a pass later does no harm.
                more = await self._pass(conn, reminders=True)
                self._next_reminder_pass = time.monotonic() + (0.0 if more else REMINDER_EVERY_S)
            wait = await self.store.seconds_to_next(conn)
        if wait is None:
            return self.poll_max
        return min(self.poll_max, max(MIN_SLEEP_S, wait))

    async def _pass(self, conn: asyncpg.Connection, *, reminders: bool) -> bool:
        """One batch of every step due; True when a step filled its batch and sent some of
        it (more may wait). Rows locked by a concurrent move wait for the next pass."""
        due = await self.store.due(conn, reminders=reminders, limit=self.batch)
        more = False
        for step, candidates in due.items():
            sent = await self.store.send(conn, step, candidates)
            self._record(sent)
            more = more or (len(candidates) >= self.batch and bool(sent.assignment_ids))
        return more

    def _record(self, sent: Sent) -> None:
        if not sent.assignment_ids:
            return
        self.sent += len(sent.assignment_ids)
        metrics.escalations_sent(sent.step.escalation_kind, sent.step.level, sent.lags)
        worst = max(sent.lags, default=0.0)
        log.info(
            "deadline.reminded" if sent.step.level == 0 else "deadline.escalated",
            deadline=sent.step.kind,
            level=sent.step.level,
            count=len(sent.assignment_ids),
            worst_lag_s=round(worst, 3),
            assignment_ids=sent.assignment_ids[:20],
        )


DEADLINE_WATCHER = web.AppKey("deadline_watcher", DeadlineWatcher)


async def deadline_watcher_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: this process's watcher as an owned task, cancelled and awaited on
    the way out (which releases the leadership at once for another process)."""
    settings = app[SETTINGS]
    if not settings.deadline_watcher:
        yield
        return
    watcher = DeadlineWatcher.from_settings(app[DB], settings)
    app[DEADLINE_WATCHER] = watcher
    async with owned_task(watcher.run(), "deadline-watcher"):
        yield
