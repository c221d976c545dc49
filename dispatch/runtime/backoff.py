"""Waiting out a service that is down, in a loop that must not end (the hub, the relay, the
delivery workers while Redis restarts): each wait doubles the one before, up to a bound, and
the next success starts again from the first."""

from __future__ import annotations

import asyncio


class Backoff:
    """Waits of ``first``, then twice as long each failure after, never more than ``most``."""

    def __init__(self, first: float = 0.05, most: float = 2.0) -> None:
        if not 0 < first <= most:
            raise ValueError("waits must be above 0, the first no longer than the most")
        self.first = first
        self.most = most
        self.delay = first  # the next wait

    def succeeded(self) -> None:
        """The service answered: the next failure waits ``first`` again."""
        self.delay = self.first

    async def wait(self) -> None:
        """Sleep the next wait, and double the one after."""
        delay = self.delay
        self.delay = min(delay * 2, self.most)
        await asyncio.sleep(delay)
