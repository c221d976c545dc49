"""``dispatch serve``: migrate, then run the app until SIGTERM or Ctrl-C, then shut down in order."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import gc
import os
import signal
import socket
import subprocess
import sys
import time

import asyncpg
import structlog
from aiohttp import web

from dispatch.classifier import current_model
from dispatch.errors import ConfigError
from dispatch.runtime.app import create_app
from dispatch.runtime.db import connect
from dispatch.runtime.migrator import migrate
from dispatch.runtime.services import resolved_services
from dispatch.runtime.settings import Settings
from dispatch.store.reference import sync_reference_data

log = structlog.get_logger("dispatch.server")


async def prepare_database(dsn: str) -> list[str]:
    """Apply pending migrations and synchronise reference data; return what was applied.

    A database that cannot be reached is a :class:`ConfigError` naming it, not a traceback.
    """
    try:
        conn = await connect(dsn)
    except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
        where = dsn.rsplit("@", 1)[-1]  # never the password
        raise ConfigError(f"cannot connect to PostgreSQL at {where}: {exc or type(exc).__name__}") from None
    try:
        applied = await migrate(conn)
        await sync_reference_data(conn)
    finally:
        await conn.close()
    return applied


def claim_port(host: str, port: int) -> None:
    """Refuse, as a :class:`ConfigError` naming the port, an address another server listens on.

    The workers share their port with SO_REUSEPORT, and so would a second ``dispatch serve``
    (on another database): the kernel would then split requests between the two at random.
    A bind without SO_REUSEPORT fails while anyone listens there, whatever their options.
    """
    if port == 0:
        return
    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as exc:
        raise ConfigError(f"cannot listen on {host!r}: {exc.strerror}") from None
    for family, kind, proto, _, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as aiohttp binds
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    raise ConfigError(
                        f"port {port} on {host} is already in use by another server:"
                        " stop it, or give this one another --port (DISPATCH_PORT)"
                    ) from None
                raise ConfigError(f"cannot listen on {host} port {port}: {exc.strerror}") from None


def serve(settings: Settings, *, demo: bool = False, workers: int = 1, reuse_port: bool = False) -> int:
    """Run the service until a signal stops it: in this process, or in ``workers`` processes
    sharing the port (SO_REUSEPORT) under this one as their supervisor. Return the exit code."""
    if workers > 1 and settings.port == 0:
        raise ConfigError("several workers share one port: give a port other than 0")
    if not reuse_port:  # a worker of a supervisor shares the port its siblings hold
        claim_port(settings.host, settings.port)
    with resolved_services(settings) as resolved:
        assert resolved.database_url
        asyncio.run(prepare_database(resolved.database_url))
        if demo:
            from dispatch.runtime.demo import print_demo_setup, setup_demo

            accounts = asyncio.run(setup_demo(resolved.database_url))
            print_demo_setup(accounts, resolved)
        if not reuse_port:  # again: migrations and the demo took a while
            claim_port(resolved.host, resolved.port)
        code = supervise_workers(resolved, workers) if workers > 1 else run_worker(resolved, reuse_port=reuse_port)
        log.info("server.stopped", code=code)
        return code


async def _settle_memory(app: web.Application) -> None:
    """Load the classifier, then move everything alive after start-up out of the garbage
    collector's sight (``gc.freeze``): the model, reference data and modules never become
    garbage, and a full collection walking them paused every request for a tenth of a second
    and more every few seconds under load."""
    current_model()
    gc.collect()
    gc.freeze()


def run_worker(settings: Settings, *, reuse_port: bool = False) -> int:
    """One server process: the app on the port until SIGTERM or Ctrl-C."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = create_app(settings)
    app.on_startup.append(_settle_memory)  # after the cleanup contexts have started
    log.info("server.starting", host=settings.host, port=settings.port, pid=os.getpid())
    # run_app handles SIGINT and SIGTERM: stop accepting, let in-flight requests finish
    # for shutdown_timeout, run the cleanup contexts in reverse, then return.
    try:
        web.run_app(
            app,
            host=settings.host,
            port=settings.port,
            shutdown_timeout=settings.shutdown_timeout,
            print=None,
            access_log=None,
            handle_signals=True,
            reuse_port=reuse_port or None,
        )
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:  # taken since claim_port looked
            raise ConfigError(f"port {settings.port} on {settings.host} is already in use by another server") from None
        raise
    return 0


def supervise_workers(settings: Settings, count: int) -> int:
    """Run ``count`` worker processes on one port; restart one that dies; on SIGTERM or
    Ctrl-C, pass the signal on and wait for all of them. A worker that refuses to start
    (exit 2: it printed why) stops them all: starting it again would not help."""
    assert settings.database_url and settings.redis_url
    env = {
        **os.environ,
        "DISPATCH_DATABASE_URL": settings.database_url,
        "DISPATCH_REDIS_URL": settings.redis_url,
        "DISPATCH_HOST": settings.host,
        "DISPATCH_PORT": str(settings.port),
    }
    command = [sys.executable, "-m", "dispatch", "serve", "--workers", "1", "--reuse-port"]
    stopping = False
    code = 0

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)

    children = [subprocess.Popen(command, env=env) for _ in range(count)]
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    log.info("server.workers", count=count, pids=[c.pid for c in children])
    try:
        while not stopping:
            for index, child in enumerate(children):
                if child.poll() is not None and not stopping and child.returncode == 2:
                    code = 2
                    stop(signal.SIGTERM, None)
                elif child.poll() is not None and not stopping:
                    log.error("server.worker_died", pid=child.pid, code=child.returncode)
                    time.sleep(1)
                    children[index] = subprocess.Popen(command, env=env)
            time.sleep(0.2)
        for child in children:
            try:
                child.wait(timeout=settings.shutdown_timeout + 10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return code
