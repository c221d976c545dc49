"""The delivery workers of one server process: one per active webhook, kept in step with
the webhooks table, started and stopped as an owned background task of the app."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import structlog
from aiohttp import web

from dispatch.delivery.sender import USER_AGENT
from dispatch.delivery.worker import WebhookWorker
from dispatch.runtime.app_keys import DB, REDIS, SETTINGS
from dispatch.runtime.db import DATABASE_DOWN
from dispatch.runtime.redis_client import RedisClient
from dispatch.runtime.settings import Settings
from dispatch.runtime.tasks import owned_task, stop_task
from dispatch.store.webhooks import Webhook, active_webhooks

log = structlog.get_logger("dispatch.delivery")


def consumer_name() -> str:
    """This process's name in the consumer groups: host, pid and a random tag (pids repeat)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class DeliveryService:
    """Runs a :class:`WebhookWorker` per active webhook; re-reads the webhooks every
    ``delivery_refresh_s`` to start workers for new ones and stop those of removed ones."""

    def __init__(
        self, pool: asyncpg.Pool, client: RedisClient, settings: Settings, *, consumer: str | None = None
    ) -> None:
        self.pool = pool
        self.client = client
        self.settings = settings
        self.consumer = consumer or consumer_name()
        self.workers: dict[int, tuple[Webhook, WebhookWorker, asyncio.Task[None]]] = {}

    async def run(self) -> None:
        """Serve the webhooks until cancelled; then stop every worker."""
        async with aiohttp.ClientSession(headers={"User-Agent": USER_AGENT}) as http:
            try:
                while True:
                    try:
                        hooks = await active_webhooks(self.pool)
                    except DATABASE_DOWN as exc:
                        log.warning("delivery.webhooks_unavailable", error=repr(exc))
                    else:
                        self._reconcile(hooks, http)
                    await asyncio.sleep(self.settings.delivery_refresh_s)
            finally:
                await self.stop_all()

    def _reconcile(self, hooks: list[Webhook], http: aiohttp.ClientSession) -> None:
        wanted = {hook.id: hook for hook in hooks}
        for webhook_id, (hook, _, task) in list(self.workers.items()):
            if wanted.get(webhook_id) != hook or task.done():
                task.cancel()
                del self.workers[webhook_id]
        for webhook_id, hook in wanted.items():
            if webhook_id not in self.workers:
                worker = WebhookWorker(
                    hook, client=self.client, pool=self.pool, http=http, settings=self.settings, consumer=self.consumer
                )
                task = asyncio.get_running_loop().create_task(self._supervise(worker), name=f"delivery-{webhook_id}")
                self.workers[webhook_id] = (hook, worker, task)
                log.info("delivery.worker_started", webhook_id=webhook_id, agency=hook.agency, consumer=self.consumer)

    async def _supervise(self, worker: WebhookWorker) -> None:
        # A bug in one webhook's worker must not stop the others, nor this one for good.
        while True:
            try:
                await worker.run()
            except Exception:
                log.exception("delivery.worker_failed", webhook_id=worker.webhook.id)
                await asyncio.sleep(1.0)

    async def stop_all(self) -> None:
        """Cancel every worker and wait for them; events in hand stay pending for others."""
        tasks = [task for _, _, task in self.workers.values()]
        self.workers.clear()
        await asyncio.gather(*(stop_task(task) for task in tasks))


async def delivery_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: this process's delivery workers, unless DISPATCH_DELIVERY is off."""
    settings = app[SETTINGS]
    if not settings.delivery:
        yield
        return
    service = DeliveryService(app[DB], app[REDIS], settings)
    async with owned_task(service.run(), "delivery"):
        yield
