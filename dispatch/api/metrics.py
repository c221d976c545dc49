"""``GET /metrics``: the Prometheus text format, without a token (scrape it from the
internal network only). Gauges that belong to this app are refreshed just before."""

from __future__ import annotations

import asyncio

import structlog
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from dispatch.api.spec import describe
from dispatch.runtime import metrics
from dispatch.runtime.app_keys import DB, HUB

log = structlog.get_logger("dispatch.metrics")
HOOK_TIMEOUT_S = 2.0


async def _database_gauges(app: web.Application) -> None:
    row = await app[DB].fetchrow(
        """
        SELECT (SELECT count(*) FROM outbox WHERE published_at IS NULL) AS backlog,
               (SELECT count(*) FROM assignments WHERE state = 'dispatched' AND ack_due < now()) AS ack,
               (SELECT count(*) FROM assignments
                WHERE state IN ('dispatched', 'acknowledged', 'in_progress') AND resolve_due < now()) AS resolve
        """
    )
    metrics.RELAY_BACKLOG.set(row["backlog"])
    metrics.OVERDUE_OPEN.labels(kind="ack").set(row["ack"])
    metrics.OVERDUE_OPEN.labels(kind="resolve").set(row["resolve"])


async def _hub_gauges(app: web.Application) -> None:
    if HUB in app:
        metrics.WEBSOCKET_CLIENTS.set(len(app[HUB].subscribers))


@describe("Prometheus metrics (text format)", tag="health", responses={200: None})
async def metrics_view(request: web.Request) -> web.Response:
    """GET /metrics: every metric of this process in the Prometheus text format."""
    for hook in request.app.get(metrics.SCRAPE_HOOKS, []):
        try:
            await asyncio.wait_for(hook(request.app), HOOK_TIMEOUT_S)
        except Exception as exc:
            # A scrape reports what it can: a gauge left stale beats no metrics at all.
            log.warning("metrics.hook_failed", hook=getattr(hook, "__name__", repr(hook)), error=repr(exc))
    return web.Response(body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST})


def setup(app: web.Application) -> None:
    metrics.add_scrape_hook(app, _database_gauges)
    metrics.add_scrape_hook(app, _hub_gauges)
    app.router.add_get("/metrics", metrics_view)
