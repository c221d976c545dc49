"""Typed keys for what hangs on the aiohttp application."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from dispatch.pipeline.hub import Hub
from dispatch.pipeline.relay import Relay
from dispatch.runtime.redis_client import RedisClient
from dispatch.runtime.settings import Settings

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", asyncpg.Pool)
# Reads that may lag a little (statistics): the replica when configured, else the primary.
REPLICA = web.AppKey("replica", asyncpg.Pool)
REDIS: web.AppKey[RedisClient] = web.AppKey("redis")
HUB = web.AppKey("hub", Hub)
RELAY = web.AppKey("relay", Relay)
