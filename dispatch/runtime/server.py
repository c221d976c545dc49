"""``dispatch serve``: migrate, then run the app until SIGTERM or Ctrl-C, then shut down in order."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import signal
import subprocess
import sys
import time

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
    """Apply pending migrations and synchronise reference data; return what was applied."""
    conn = await connect(dsn)
    try:
        applied = await migrate(conn)
        await sync_reference_data(conn)
    finally:
        await conn.close()
    return applied


def serve(settings: Settings, *, demo: bool = False, workers: int = 1, reuse_port: bool = False) -> None:
    """Run the service until a signal stops it: in this process, or in ``workers`` processes
    sharing the port (SO_REUSEPORT) under this one as their supervisor."""
    with resolved_services(settings) as resolved:
        assert resolved.database_url
        asyncio.run(prepare_database(resolved.database_url))
        if demo:
            from dispatch.runtime.demo import print_demo_setup, setup_demo

            accounts = asyncio.run(setup_demo(resolved.database_url))
            print_demo_setup(accounts, resolved)
        if workers > 1:
            if resolved.port == 0:
                raise ConfigError("several workers share one port: give a port other than 0")
            supervise_workers(resolved, workers)
        else:
            run_worker(resolved, reuse_port=reuse_port)
        log.info("server.stopped")


async def _settle_memory(app: web.Application) -> None:
    """Load the classifier, then move everything alive after start-up out of the garbage
    collector's sight (``gc.freeze``): the model, reference data and modules never become
    garbage, and a full collection walking them paused every request for a tenth of a second
    and more every few seconds under load."""
    current_model()
    gc.collect()
    gc.freeze()


def run_worker(settings: Settings, *, reuse_port: bool = False) -> None:
    """One server process: the app on the port until SIGTERM or Ctrl-C."""
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    app = create_app(settings)
    app.on_startup.append(_settle_memory)  # after the cleanup contexts have started
    log.info("server.starting", host=settings.host, port=settings.port, pid=os.getpid())
    # run_app handles SIGINT and SIGTERM: stop accepting, let in-flight requests finish
    # for shutdown_timeout, run the cleanup contexts in reverse, then return.
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


def supervise_workers(settings: Settings, count: int) -> None:
    """Run ``count`` worker processes on one port; restart one that dies; on SIGTERM or
    Ctrl-C, pass the signal on and wait for all of them."""
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
                if child.poll() is not None and not stopping:
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
