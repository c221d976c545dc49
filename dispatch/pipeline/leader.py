"""Leader election with a PostgreSQL session advisory lock: one process at a time does a
single-leader job (the deadline watcher, the outbox relay); another takes over within
seconds when the leader's process dies.

Two ways to use it:

    lock = LeaderLock(pool, "dispatch.deadline_watcher")
    await lock.run(work)            # campaign for ever; run ``work()`` while leading

    async with LeaderLock(dsn, KEY, name="relay") as lock:
        await lock.acquired()       # wait until this process leads
        while lock.held.is_set():   # cleared as soon as the lock is lost
            ...

The lock lives on one dedicated connection (taken from the pool, or opened from a DSN) kept
for as long as the process campaigns or leads. When the process dies its connection closes
and PostgreSQL releases the lock at once; a follower trying every ``retry_interval`` seconds
then leads. When the connection breaks while the process lives (a network fault,
``pg_terminate_backend``), the leader notices within ``check_interval`` seconds: ``held``
is cleared, ``lost`` is set and :meth:`LeaderLock.run` cancels the work. Old and new leader
may overlap for that long, so the work itself must be safe to do twice (the deadline
watcher's is: row locks and a unique key).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any

import asyncpg
import structlog

from dispatch.runtime.db import DATABASE_DOWN, connect
from dispatch.runtime.tasks import stop_task

log = structlog.get_logger("dispatch.leader")

# TCP keepalives on the lock's connection, so that the server also notices a leader whose
# machine vanished without closing the socket (idle seconds, probe interval, probes).
_KEEPALIVES = (("tcp_keepalives_idle", 5), ("tcp_keepalives_interval", 2), ("tcp_keepalives_count", 3))
_HELD = """
    SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()
                   AND granted AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 1)
"""


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory lock key for a job name."""
    return int.from_bytes(hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


class LeaderLock:
    """A session advisory lock on a dedicated connection, used as a leader election.

    ``source`` is a pool (one of its connections is kept while campaigning or leading) or a
    DSN (a connection of its own is opened); ``key`` is a 64-bit integer or a job name.
    """

    def __init__(
        self,
        source: asyncpg.Pool | str,
        key: int | str,
        *,
        name: str | None = None,
        retry_interval: float = 1.0,
        check_interval: float = 1.0,
        check_timeout: float = 3.0,
    ) -> None:
        self.source = source
        self.key = lock_key(key) if isinstance(key, str) else key
        self.name = name or (key if isinstance(key, str) else f"lock:{key:#x}")
        self.retry_interval = retry_interval
        self.check_interval = check_interval
        self.check_timeout = check_timeout
        self.held = asyncio.Event()  # set while this process leads
        self.lost = asyncio.Event()  # set when leadership this process had was lost
        self._conn: asyncpg.Connection | None = None
        self._monitor: asyncio.Task[None] | None = None

    @property
    def is_leader(self) -> bool:
        """True while this process holds the lock and has not seen it lost."""
        return self.held.is_set()

    async def __aenter__(self) -> LeaderLock:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.release()

    async def acquired(self) -> None:
        """Return once this process holds the lock, campaigning every ``retry_interval``.

        Connection errors propagate (nothing is left held); the caller retries.
        """
        if self.held.is_set():
            return
        if self._conn is None or self._conn.is_closed():
            await self._drop_connection()
            self._conn = await self._connect()
        try:
            # Polling is the only way: PostgreSQL does not tell a waiter when the lock frees
            # (a blocking pg_advisory_lock would hold a query open and hide a dead connection).
            while not await self._conn.fetchval("SELECT pg_try_advisory_lock($1)", self.key):  # noqa: ASYNC110
                await asyncio.sleep(self.retry_interval)
        except BaseException:
            # Interrupted mid-campaign: the lock may have been granted with the answer lost,
            # so the connection is closed rather than given back with it.
            conn, self._conn = self._conn, None
            await self._give_back(conn, broken=True)
            raise
        self.lost.clear()
        self.held.set()
        self._monitor = asyncio.get_running_loop().create_task(self._watch(), name=f"leader-watch:{self.name}")
        log.info("leader.elected", lock=self.name)

    async def release(self) -> None:
        """Give the lock up (if held) and the connection back. Safe to call at any time,
        also while being cancelled: the lock never stays behind on a pooled connection."""
        was_leader = self.held.is_set()
        self.held.clear()
        if self._monitor is not None:
            self._monitor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._monitor
            self._monitor = None
        await self._drop_connection(unlock=True)
        if was_leader:
            log.info("leader.released", lock=self.name)

    async def run(self, work: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Campaign for ever; while leading, run ``work()``.

        When leadership is lost the work is cancelled and the campaign starts again; when the
        work fails it is logged, the lock released and the campaign starts again after
        ``retry_interval``; when the work returns, ``run`` releases the lock and returns.
        Cancelling ``run`` cancels the work and releases the lock.
        """
        while True:
            try:
                async with self:
                    await self.acquired()
                    job = asyncio.get_running_loop().create_task(work(), name=f"leader-work:{self.name}")
                    lost = asyncio.get_running_loop().create_task(self.lost.wait())
                    try:
                        await asyncio.wait({job, lost}, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        lost.cancel()
                        # The work stops before the lock is given back, so that the next
                        # leader never overlaps with it from this process.
                        await stop_task(job)
                    if not job.cancelled() and job.exception() is None:
                        return
                    if not job.cancelled():
                        error = job.exception()
                        log.error("leader.work_failed", lock=self.name, error=repr(error), exc_info=error)
            except DATABASE_DOWN as exc:  # TimeoutError is an OSError
                log.warning("leader.campaign_failed", lock=self.name, error=repr(exc))
            await asyncio.sleep(self.retry_interval)

    async def _connect(self) -> asyncpg.Connection:
        if isinstance(self.source, str):
            conn = await connect(self.source)
        else:
            conn = await self.source.acquire()
        try:
            for setting, value in _KEEPALIVES:
                await conn.execute(f"SET {setting} = {value}")
            # Operators (and tests) find the leader of a job, and its process, in pg_stat_activity.
            await conn.execute(
                "SELECT set_config('application_name', $1, false)", f"dispatch-leader-{self.name}-{os.getpid()}"
            )
        except BaseException:
            await self._give_back(conn, broken=True)
            raise
        return conn

    async def _drop_connection(self, *, unlock: bool = False) -> None:
        conn, self._conn = self._conn, None
        if conn is None:
            return
        broken = conn.is_closed()
        if unlock and not broken:
            try:
                await asyncio.wait_for(conn.execute("SELECT pg_advisory_unlock_all()"), self.check_timeout)
            except asyncio.CancelledError:
                await self._give_back(conn, broken=True)
                raise
            except Exception as exc:
                # Closing the session releases whatever it still held.
                log.warning("leader.unlock_failed", lock=self.name, error=repr(exc))
                broken = True
        await self._give_back(conn, broken=broken)

    async def _give_back(self, conn: asyncpg.Connection, *, broken: bool) -> None:
        if broken:
            conn.terminate()
        if isinstance(self.source, str):
            if not conn.is_closed():
                await conn.close(timeout=self.check_timeout)
        else:
            # The pool gives connections back as they are (dispatch.runtime.db): undo this session's
            # settings and lock here, or close the connection if that fails or is interrupted.
            try:
                if not broken:
                    await conn.reset(timeout=self.check_timeout)
            except DATABASE_DOWN as exc:  # TimeoutError is an OSError
                log.warning("leader.reset_failed", lock=self.name, error=repr(exc))
                conn.terminate()
            except BaseException:
                conn.terminate()
                raise
            finally:
                await self.source.release(conn)

    async def _watch(self) -> None:
        # A session lock lasts as long as its session: checking that the session still
        # answers and still holds the lock is how its loss is seen.
        conn = self._conn
        assert conn is not None
        classid, objid = (self.key >> 32) & 0xFFFFFFFF, self.key & 0xFFFFFFFF
        while True:
            await asyncio.sleep(self.check_interval)
            try:
                async with asyncio.timeout(self.check_timeout):
                    held = await conn.fetchval(_HELD, classid, objid)
            except DATABASE_DOWN as exc:  # TimeoutError is an OSError
                log.warning("leader.check_failed", lock=self.name, error=repr(exc))
                held = False
            if not held:
                self.held.clear()
                self.lost.set()
                log.warning("leader.lost", lock=self.name)
                return
