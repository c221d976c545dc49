"""Typed keys for what hangs on the aiohttp application."""

from __future__ import annotations

import asyncpg
from aiohttp import web

import routing
from dispatch.pipeline.hub import Hub
from dispatch.pipeline.relay import Relay
from dispatch.runtime.kept import Kept, KeptByKey
from dispatch.runtime.redis_client import RedisClient
from dispatch.runtime.settings import Settings
from dispatch.runtime.shared_reads import SharedReads
from dispatch.store.users import Principal

SETTINGS = web.AppKey("settings", Settings)
DB = web.AppKey("db", asyncpg.Pool)
# Reads that may lag a little (statistics): the replica when configured, else the primary.
REPLICA = web.AppKey("replica", asyncpg.Pool)
REDIS: web.AppKey[RedisClient] = web.AppKey("redis")
HUB = web.AppKey("hub", Hub)
RELAY = web.AppKey("relay", Relay)
# Kept a few seconds by each process (dispatch.runtime.kept): who holds a token, the desk
# directory routing chooses desks from, the gazetteer it places tickets with.
TOKENS: web.AppKey[KeptByKey[Principal]] = web.AppKey("tokens")
DESKS: web.AppKey[Kept[tuple[routing.DeskInfo, ...]]] = web.AppKey("desks")
GAZETTEER: web.AppKey[Kept[routing.Gazetteer]] = web.AppKey("gazetteer")
# The supervisors' reads, computed once per question every few seconds and shared.
STATS: web.AppKey[SharedReads] = web.AppKey("stats")
