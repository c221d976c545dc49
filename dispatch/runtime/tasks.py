"""Background tasks owned by their cleanup context, and stopping them for sure.

``owned_task`` is the one way a cleanup context runs background work: the task starts on the
way in and is stopped (``stop_task``) on the way out, whatever happens in between.

A library waiting on a socket can swallow one cancellation (seen with redis-py's reader on
Python 3.11): the task stays "cancelling" and shutdown would wait for ever. ``stop_task``
cancels again until the task ends, and gives up, loudly, after a bound.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import structlog

log = structlog.get_logger("dispatch.tasks")


async def stop_task(task: asyncio.Task[object], *, interval: float = 0.5, limit: float = 10.0) -> None:
    """Cancel ``task`` and wait until it has ended, cancelling again every ``interval``
    seconds; after ``limit`` seconds log and return (never hang a shutdown)."""
    waited = 0.0
    while not task.done():
        task.cancel()
        done, _ = await asyncio.wait({task}, timeout=interval)
        waited += interval
        if not done and waited >= limit:
            log.error("task.would_not_stop", task=task.get_name())
            return
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()


@contextlib.asynccontextmanager
async def owned_task(coro: Coroutine[Any, Any, None], name: str) -> AsyncIterator[asyncio.Task[None]]:
    """Run ``coro`` as a task named ``name`` for the duration of the ``async with``, then stop it."""
    task = asyncio.get_running_loop().create_task(coro, name=name)
    try:
        yield task
    finally:
        await stop_task(task)
