"""Liveness and readiness: is the process up, and can it reach PostgreSQL and Redis."""

from __future__ import annotations

import asyncio

from aiohttp import web

from dispatch import __version__
from dispatch.api.responses import json_response
from dispatch.api.schemas import HealthOut, ReadyOut
from dispatch.api.spec import describe
from dispatch.runtime.app_keys import DB, REDIS
from dispatch.runtime.redis_client import ping

CHECK_TIMEOUT_S = 2.0


@describe("Liveness: the process serves requests", tag="health", responses={200: HealthOut})
async def healthz(request: web.Request) -> web.Response:
    """200 while the process serves requests."""
    return json_response({"status": "ok", "version": __version__})


async def _check(probe: asyncio.Future[object] | object) -> str:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_S)  # type: ignore[arg-type]
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


@describe("Readiness: PostgreSQL and Redis answer", tag="health", responses={200: ReadyOut, 503: None})
async def readyz(request: web.Request) -> web.Response:
    """200 when PostgreSQL and Redis both answer, else 503 naming what failed."""
    database, bus = await asyncio.gather(_check(request.app[DB].fetchval("SELECT 1")), _check(ping(request.app[REDIS])))
    ready = database == "ok" and bus == "ok"
    return json_response(
        {"status": "ready" if ready else "not_ready", "checks": {"database": database, "redis": bus}},
        status=200 if ready else 503,
        headers=None if ready else {"Retry-After": "2"},
    )


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
