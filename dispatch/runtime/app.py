"""The application factory: ``create_app(settings)`` builds everything the server needs.

Each resource (database pool, Redis client, background task) lives in its own cleanup
context, created in order and torn down in reverse.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import structlog
from aiohttp import web

from dispatch.access.auth import TOKEN_CACHE_LIMIT, TOKEN_CACHE_S
from dispatch.access.ratelimit import limiter_context
from dispatch.api import setup_routes
from dispatch.api.console import STATIC_DIR
from dispatch.api.errors import error_middleware, install_protocol_errors
from dispatch.api.middleware import request_context_middleware
from dispatch.api.public import feedback_grace_context
from dispatch.classifier import classifier_context
from dispatch.deadlines.watcher import deadline_watcher_context
from dispatch.delivery.service import delivery_context
from dispatch.delivery.sms import sms_context
from dispatch.pipeline.hub import Hub
from dispatch.pipeline.relay import Relay
from dispatch.runtime.app_keys import DB, DESKS, GAZETTEER, HUB, REDIS, RELAY, REPLICA, SETTINGS, STATS, TOKENS
from dispatch.runtime.db import create_pool
from dispatch.runtime.kept import Kept, KeptByKey
from dispatch.runtime.redis_client import close, connect
from dispatch.runtime.settings import Settings
from dispatch.runtime.shared_reads import SharedReads
from dispatch.runtime.tasks import owned_task
from dispatch.store.desks import DIRECTORY_TTL_S, load_directory
from dispatch.store.gazetteer import GAZETTEER_TTL_S, load_gazetteer
from dispatch.store.open_counts_compactor import open_counts_compactor_context

log = structlog.get_logger("dispatch.app")
FAVICON = STATIC_DIR / "favicon.svg"


async def _database(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.database_url, "create_app needs a resolved database URL"
    app[DB] = await create_pool(settings.database_url, min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    yield
    await app[DB].close()


async def _replica(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if not settings.database_replica_url:
        app[REPLICA] = app[DB]
        yield
        return
    app[REPLICA] = await create_pool(settings.database_replica_url, min_size=1, max_size=settings.db_pool_max)
    yield
    await app[REPLICA].close()


async def _redis(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.redis_url, "create_app needs a resolved Redis URL"
    client = connect(settings.redis_url, socket_timeout=5, socket_connect_timeout=5, health_check_interval=15)
    app[REDIS] = client
    yield
    await close(client)


async def _hub(app: web.Application) -> AsyncIterator[None]:
    app[HUB] = Hub(app[REDIS], app[DB])
    async with owned_task(app[HUB].run(), "hub"):
        yield


async def _relay(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    assert settings.database_url
    app[RELAY] = Relay(app[DB], app[REDIS], settings.database_url)
    async with owned_task(app[RELAY].run(), "relay"):
        yield


async def _root(request: web.Request) -> web.StreamResponse:
    """GET /: a person who types the bare address lands on the consoles (sign-in and their list)."""
    raise web.HTTPFound("/console/")


async def _favicon(request: web.Request) -> web.StreamResponse:
    """GET /favicon.ico: the icon browsers ask for on their own (an SVG, which they all read)."""
    return web.FileResponse(
        FAVICON, headers={"Content-Type": "image/svg+xml", "Cache-Control": "public, max-age=86400"}
    )


async def _close_websockets(app: web.Application) -> None:
    # on_shutdown runs before the cleanup contexts: clients hear 1001 and reconnect elsewhere.
    if HUB in app:
        await app[HUB].close_all()


def create_app(settings: Settings) -> web.Application:
    """The aiohttp application for these (resolved) settings."""
    install_protocol_errors()
    app = web.Application(
        middlewares=[request_context_middleware, error_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app[SETTINGS] = settings
    app[TOKENS] = KeptByKey(TOKEN_CACHE_S, TOKEN_CACHE_LIMIT)
    app[DESKS] = Kept(load_directory, DIRECTORY_TTL_S)
    app[GAZETTEER] = Kept(load_gazetteer, GAZETTEER_TTL_S)
    app[STATS] = SharedReads(settings.stats_shared_seconds)
    app.cleanup_ctx.append(_database)
    app.cleanup_ctx.append(_replica)
    app.cleanup_ctx.append(_redis)
    app.cleanup_ctx.append(_hub)
    app.cleanup_ctx.append(_relay)
    app.cleanup_ctx.append(limiter_context)  # rate limits of public and Open311 endpoints
    app.cleanup_ctx.append(feedback_grace_context)  # closes resolved tickets nobody rated
    app.cleanup_ctx.append(deadline_watcher_context)  # escalations; one leader across processes
    app.cleanup_ctx.append(delivery_context)  # webhooks to agencies' own systems (consumer groups)
    app.cleanup_ctx.append(classifier_context)  # the newest retrained classifier, in every process
    app.cleanup_ctx.append(sms_context)  # texts callers their ticket number and code, after commit
    app.cleanup_ctx.append(open_counts_compactor_context)  # folds the kept open-work counts each minute
    app.on_shutdown.append(_close_websockets)
    setup_routes(app)
    app.router.add_get("/", _root)
    app.router.add_get("/favicon.ico", _favicon)
    return app


def forget_kept(app: web.Application) -> None:
    """Drop what ``app`` keeps for a few seconds (tokens, desks, gazetteer, statistics): after
    tables were emptied under it, as tests do between requests."""
    app[TOKENS].forget()
    app[DESKS].forget()
    app[GAZETTEER].forget()
    app[STATS].forget()
