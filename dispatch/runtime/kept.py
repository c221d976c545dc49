"""What a server process keeps for a few seconds instead of asking PostgreSQL on every request.

Kept values are app-owned state (``app_keys.TOKENS``, ``DESKS``, ``GAZETTEER``), made by the app
factory: every app, and every test's app, starts with its own, and nothing is shared through
module globals."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeAlias, TypeVar

import asyncpg

T = TypeVar("T")
Source: TypeAlias = asyncpg.Connection | asyncpg.Pool


class Kept(Generic[T]):
    """One value read with ``load`` and kept ``ttl`` seconds."""

    def __init__(self, load: Callable[[Source], Awaitable[T]], ttl: float) -> None:
        self._load = load
        self._ttl = ttl
        self._value: tuple[float, T] | None = None

    async def get(self, source: Source) -> T:
        """The kept value, read again when older than ``ttl``."""
        now = time.monotonic()
        if self._value is not None and self._value[0] > now:
            return self._value[1]
        value = await self._load(source)
        self._value = (now + self._ttl, value)
        return value

    def forget(self) -> None:
        """Read it again next time (after this process changed it)."""
        self._value = None


class KeptByKey(Generic[T]):
    """Values kept ``ttl`` seconds each, at most ``limit`` of them (then all are dropped)."""

    def __init__(self, ttl: float, limit: int) -> None:
        self._ttl = ttl
        self._limit = limit
        self._values: dict[str, tuple[float, T]] = {}

    def get(self, key: str) -> T | None:
        kept = self._values.get(key)
        return kept[1] if kept is not None and kept[0] > time.monotonic() else None

    def put(self, key: str, value: T) -> None:
        if len(self._values) >= self._limit:
            self._values.clear()
        self._values[key] = (time.monotonic() + self._ttl, value)

    def drop(self, key: str) -> None:
        self._values.pop(key, None)

    def forget(self) -> None:
        self._values.clear()
