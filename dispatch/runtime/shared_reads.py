"""Answers a process computes once and shares for a few seconds: the supervisors' reads.

Every supervisor's dashboard asks for the same summary, overdue list, escalations and time
series every few seconds, and again after each live event. ``SharedReads`` computes each
distinct question (its key: what was asked, after the caller's scope is applied) at most once
every ``seconds`` per process, and while it is being computed nobody else starts another
(single flight): they get the previous answer meanwhile, or wait for the first. An answer
that has just expired (younger than ``REFRESH_AHEAD`` times ``seconds``) is still given to the
caller who finds it so, and computed again in the background: on a dashboard asked every few
seconds, nobody waits for a computation but the first of the process. The answers say how old
they are (``as_of``, ``age_seconds``; docs/api.md), so a console can show it.

``seconds`` 0 computes every request afresh (``DISPATCH_STATS_SHARED_SECONDS``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any

import structlog

log = structlog.get_logger("dispatch.shared_reads")

# An answer expired less than this many times ``seconds`` ago is still given while it is
# computed again in the background; an older one (nobody asked for a while) is waited for.
REFRESH_AHEAD = 3.0

Compute = Callable[[], Awaitable[dict[str, Any]]]


@dataclass(frozen=True, slots=True)
class Shared:
    """One computed answer and when it was computed (``time.monotonic()``)."""

    value: dict[str, Any]
    computed_at: float

    def age(self) -> float:
        """Seconds since it was computed."""
        return max(0.0, time.monotonic() - self.computed_at)


class SharedReads:
    """Answers kept ``seconds`` each per key, at most ``limit`` keys (then all are dropped),
    with one computation in flight per key."""

    def __init__(self, seconds: float, limit: int = 512) -> None:
        self.seconds = seconds
        self._limit = limit
        self._kept: dict[Hashable, Shared] = {}
        self._flights: dict[Hashable, asyncio.Future[Shared | None]] = {}
        self._background: set[asyncio.Task[Shared]] = set()

    async def get(self, key: Hashable, compute: Compute) -> Shared:
        """The answer to ``key``: kept if younger than ``seconds``; else, if it expired only
        just now, that answer while it is computed again in the background; else, while
        another caller computes it, the previous answer (or, when there is none, theirs once
        done); else computed now by ``compute``."""
        if self.seconds <= 0:
            return Shared(await compute(), time.monotonic())
        while True:
            kept = self._kept.get(key)
            if kept is not None and kept.age() < self.seconds:
                return kept
            flight = self._flights.get(key)
            if kept is not None and (flight is not None or kept.age() < self.seconds * REFRESH_AHEAD):
                # Being computed again (or now set going): the last answer meanwhile (its age
                # says how old), so that nobody waits while a recent one exists.
                if flight is None:
                    self._refresh_in_background(key, compute)
                return kept
            if flight is None:
                break
            # Someone computes the first answer: take theirs, however long it took. If they
            # failed or were cancelled (None), go round again: this caller computes it.
            shared = await asyncio.shield(flight)
            if shared is not None:
                return shared
        return await self._compute(key, compute, self._take_off(key))

    def _take_off(self, key: Hashable) -> asyncio.Future[Shared | None]:
        """Mark ``key`` as being computed (at once, so that nobody else starts it too)."""
        flight: asyncio.Future[Shared | None] = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
        return flight

    async def _compute(self, key: Hashable, compute: Compute, flight: asyncio.Future[Shared | None]) -> Shared:
        outcome: Shared | None = None
        try:
            started = time.monotonic()
            outcome = Shared(await compute(), started)
            if len(self._kept) >= self._limit:
                self._kept.clear()
            self._kept[key] = outcome
            return outcome
        finally:
            del self._flights[key]
            flight.set_result(outcome)

    def _refresh_in_background(self, key: Hashable, compute: Compute) -> None:
        task = asyncio.get_running_loop().create_task(self._compute(key, compute, self._take_off(key)))
        self._background.add(task)
        task.add_done_callback(self._landed)

    def _landed(self, task: asyncio.Task[Shared]) -> None:
        self._background.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # Nobody waits for it: the answer stays the previous one, the next asker tries again.
            log.warning("shared_reads.refresh_failed", error=repr(error))

    def forget(self) -> None:
        """Compute everything afresh next time (after the tables were changed under it)."""
        self._kept.clear()
