"""Answers a process computes once and shares for a few seconds: the supervisors' reads.

Every supervisor's dashboard asks for the same summary, overdue list, escalations and time
series every few seconds, and again after each live event. ``SharedReads`` computes each
distinct question (its key: what was asked, after the caller's scope is applied) at most once
every ``seconds`` per process, and while it is being computed nobody else starts another
(single flight): they get the previous answer meanwhile, or wait for the first. The answers
say how old they are (``as_of``, ``age_seconds``; docs/api.md), so a console can show it.

``seconds`` 0 computes every request afresh (``DISPATCH_STATS_SHARED_SECONDS``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from typing import Any


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

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[dict[str, Any]]]) -> Shared:
        """The answer to ``key``: kept if younger than ``seconds``; else, while another caller
        computes it, the previous answer (or, when there is none, theirs once done); else
        computed now by ``compute``."""
        if self.seconds <= 0:
            return Shared(await compute(), time.monotonic())
        while True:
            kept = self._kept.get(key)
            if kept is not None and kept.age() < self.seconds:
                return kept
            flight = self._flights.get(key)
            if flight is None:
                break
            if kept is not None:
                # Being computed again: the last answer meanwhile (its age says how old), so
                # that only the caller who started the computation waits for it.
                return kept
            # Someone computes the first answer: take theirs, however long it took. If they
            # failed or were cancelled (None), go round again: this caller computes it.
            shared = await asyncio.shield(flight)
            if shared is not None:
                return shared
        flight = asyncio.get_running_loop().create_future()
        self._flights[key] = flight
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

    def forget(self) -> None:
        """Compute everything afresh next time (after the tables were changed under it)."""
        self._kept.clear()
