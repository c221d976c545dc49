"""The kept open-work counts folded on a timer, so that their delta rows stay few even while
nobody reads the supervisor summary (which folds them before it reads, too).

Every server process runs one; ``open_counts_compact()`` takes a try-lock, so a fold already
under way elsewhere makes the others' a no-op.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import asyncpg
import structlog
from aiohttp import web

from dispatch.runtime.app_keys import DB
from dispatch.runtime.db import DATABASE_DOWN
from dispatch.runtime.tasks import owned_task
from dispatch.store import open_counts

log = structlog.get_logger("dispatch.open_counts")

COMPACT_EVERY_S = 60.0


async def compact_for_ever(pool: asyncpg.Pool, every: float = COMPACT_EVERY_S) -> None:
    """Fold the counts every ``every`` seconds; a database that is down is tried again later."""
    while True:
        await asyncio.sleep(every)
        try:
            async with pool.acquire() as conn:
                folded = await open_counts.compact(conn)
            if folded:
                log.debug("open_counts.compacted", rows=folded)
        except DATABASE_DOWN as exc:
            log.warning("open_counts.compact_failed", error=repr(exc))


async def open_counts_compactor_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: this process's compactor as an owned task."""
    async with owned_task(compact_for_ever(app[DB]), "open-counts-compactor"):
        yield
