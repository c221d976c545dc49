"""Rate limits for the endpoints anyone can reach: the citizens' status page, Open311, EIDO.

Counters live in Redis (the ``limits`` library's moving window, on its redis-py bridge), so a
limit holds across every server process. When Redis cannot be reached the limits fail open
(the request is served and a warning logged): PostgreSQL stays the only thing a citizen's
answer depends on.

A client is its address (``request.remote``, or the address the trusted proxy put last in
``X-Forwarded-For`` when ``DISPATCH_RATE_LIMIT_TRUST_FORWARDED_FOR`` is set) and, for Open311
writes, its API key.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import redis.exceptions
import structlog
from aiohttp import web
from limits import RateLimitItem, parse
from limits.aio.storage import RedisClusterStorage, RedisSentinelStorage, RedisStorage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.errors import StorageError

from dispatch.errors import RateLimited
from dispatch.runtime.app_keys import SETTINGS
from dispatch.runtime.redis_client import is_multi_node, parse_target

log = structlog.get_logger("dispatch.ratelimit")

KEY_PREFIX = "dispatch:ratelimit"
_STORAGE_ERRORS = (redis.exceptions.RedisError, StorageError, ConnectionError, OSError, TimeoutError)


def limits_uri(redis_url: str) -> str:
    """The ``limits`` storage URI of our Redis URL (``valkey://`` speaks the Redis protocol)."""
    scheme, sep, rest = redis_url.partition("://")
    scheme = {"valkey": "redis", "valkeys": "rediss", "unix": "redis+unix"}.get(scheme, scheme)
    return f"async+{scheme}{sep}{rest}"


def limiter_storage(redis_url: str, *, timeout_s: float = 2) -> RedisStorage:
    """The ``limits`` storage on the Redis of ``redis_url``: one server, a Cluster or Sentinels."""
    options: dict[str, Any] = {"socket_timeout": timeout_s, "socket_connect_timeout": timeout_s}
    if not is_multi_node(redis_url):
        return RedisStorage(limits_uri(redis_url), implementation="redispy", key_prefix=KEY_PREFIX, **options)
    # ``limits`` reads only host:port lists and the service from its own URI; the rest goes as options.
    target = parse_target(redis_url)
    hosts = ",".join(f"[{host}]:{port}" if ":" in host else f"{host}:{port}" for host, port in target.nodes)
    if target.username:
        options["username"] = target.username
    if target.password:
        options["password"] = target.password
    if target.kind == "cluster":
        return RedisClusterStorage(
            f"async+redis+cluster://{hosts}", implementation="redispy", key_prefix=KEY_PREFIX, **options
        )
    # Counters are read from the primary too (a replica's may lag), and the Sentinels get their
    # own password, not the primary's (``limits`` would send them the primary's).
    sentinel_kwargs: dict[str, Any] = {
        "socket_timeout": timeout_s,
        "socket_connect_timeout": timeout_s,
        "username": None,
        "password": target.sentinel_password,
    }
    return RedisSentinelStorage(
        f"async+redis+sentinel://{hosts}/{target.service}",
        implementation="redispy",
        key_prefix=KEY_PREFIX,
        use_replicas=False,
        sentinel_kwargs=sentinel_kwargs,
        db=target.db,
        **options,
    )


@dataclass(frozen=True, slots=True)
class Rule:
    """One named limit, e.g. ``Rule("public", parse("30/minute"))``."""

    name: str
    item: RateLimitItem


class Limiter:
    """Moving-window limits shared by every process through Redis."""

    def __init__(self, storage: RedisStorage) -> None:
        self._storage = storage
        self._strategy = MovingWindowRateLimiter(storage)

    async def close(self) -> None:
        """Close the storage's Redis connections (with Sentinels: the replica client's and theirs too)."""
        bridge = getattr(self._storage, "bridge", None)
        for name in ("storage", "storage_replica", "sentinel"):
            closer = getattr(getattr(bridge, name, None), "aclose", None)
            if closer is not None:
                await closer()

    async def hit(self, rule: Rule, key: str) -> None:
        """Count one request of ``key`` against ``rule``; 429 with Retry-After once it is spent."""
        try:
            allowed = await self._strategy.hit(rule.item, rule.name, key)
            if allowed:
                return
            retry = await self._retry_after(rule, key)
        except _STORAGE_ERRORS as exc:
            log.warning("ratelimit.unavailable", rule=rule.name, error=repr(exc))
            return
        raise _too_many(rule, retry)

    async def check(self, rule: Rule, key: str) -> None:
        """429 if ``key`` has already spent ``rule`` (without counting this request)."""
        try:
            if await self._strategy.test(rule.item, rule.name, key):
                return
            retry = await self._retry_after(rule, key)
        except _STORAGE_ERRORS as exc:
            log.warning("ratelimit.unavailable", rule=rule.name, error=repr(exc))
            return
        raise _too_many(rule, retry)

    async def count(self, rule: Rule, key: str) -> None:
        """Count one event (a failed lookup) against ``rule`` without refusing anything now."""
        try:
            await self._strategy.hit(rule.item, rule.name, key)
        except _STORAGE_ERRORS as exc:
            log.warning("ratelimit.unavailable", rule=rule.name, error=repr(exc))

    async def _retry_after(self, rule: Rule, key: str) -> int:
        stats = await self._strategy.get_window_stats(rule.item, rule.name, key)
        return max(1, math.ceil(stats.reset_time - time.time()))


def _too_many(rule: Rule, retry_after: int) -> RateLimited:
    log.info("ratelimit.refused", rule=rule.name, retry_after=retry_after)
    return RateLimited(
        f"too many requests; retry after {retry_after} s / 请求过于频繁，请 {retry_after} 秒后再试",
        details=[{"limit": str(rule.item), "retry_after": retry_after}],
        headers={"Retry-After": str(retry_after)},
    )


LIMITER = web.AppKey("rate_limiter", Limiter)


async def limiter_context(app: web.Application) -> AsyncIterator[None]:
    """Cleanup context: the shared limiter on ``app[LIMITER]``."""
    settings = app[SETTINGS]
    assert settings.redis_url, "create_app needs a resolved Redis URL"
    limiter = Limiter(limiter_storage(settings.redis_url))
    app[LIMITER] = limiter
    yield
    await limiter.close()


def client_address(request: web.Request) -> str:
    """Who is asking, as far as rate limits go: the peer, or the proxy's last forwarded hop."""
    if request.config_dict[SETTINGS].rate_limit_trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if hops:
            return hops[-1][:64]
    return request.remote or "unknown"


def key_id(api_key: str) -> str:
    """A short stable id of an API key, so that keys never sit in Redis in the clear."""
    return hashlib.sha256(api_key.encode("utf-8", "replace")).hexdigest()[:24]


def rule(name: str, limit: str) -> Rule:
    """A named rule from a limit string such as ``30/minute`` (already validated by settings)."""
    return Rule(name, parse(limit))


async def limit_address(request: web.Request, name: str, limit: str) -> None:
    """Count this request against the client address's ``limit``; 429 once spent."""
    await request.config_dict[LIMITER].hit(rule(name, limit), client_address(request))
