"""The Redis client of the service, built from ``DISPATCH_REDIS_URL``: one server, a Redis
Cluster, or the primary that a set of Sentinels watches.

The URL says which (docs/configuration.md):

- ``redis://``, ``rediss://``, ``unix://``, ``valkey://``: one server, in redis-py's own syntax;
- ``redis+cluster://[user:password@]host:port[,host:port...][/0]``: a Redis Cluster; the nodes
  listed are where discovery starts, the client finds the others and follows slot moves;
- ``redis+sentinel://[user:password@]host:port[,host:port...]/service[/db][?sentinel_password=...]``:
  the primary the Sentinels name for ``service``, followed through fail-overs. The credentials
  before ``@`` are the primary's; ``sentinel_password`` is the Sentinels' own, when they ask.

The service's keys are laid out for a Cluster (dispatch/pipeline/bus.py, dispatch/delivery/streams.py):
a command or MULTI that names several keys only ever names keys of one hash tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias
from urllib.parse import parse_qs, unquote, urlsplit

import redis.exceptions
from redis.asyncio import Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

# Whatever the code annotates as "the Redis client": a Sentinel-watched primary is a plain Redis.
RedisClient: TypeAlias = Redis | RedisCluster

SERVER_SCHEMES: tuple[str, ...] = ("redis", "rediss", "unix", "valkey")
CLUSTER_SCHEME = "redis+cluster"
SENTINEL_SCHEME = "redis+sentinel"
DEFAULT_PORTS = {CLUSTER_SCHEME: 6379, SENTINEL_SCHEME: 26379}
CLUSTER_MAX_CONNECTIONS = 1000
_OPTIONS = {CLUSTER_SCHEME: frozenset[str](), SENTINEL_SCHEME: frozenset({"sentinel_password"})}

# "Redis cannot be reached for now": the loops that wait it out (hub, relay, delivery) catch
# these, pause and retry. A Cluster adds CLUSTERDOWN (a slot's primary is down and no replica has
# taken over yet), which redis-py raises as a ResponseError: left out, it would end those loops.
UNAVAILABLE: tuple[type[BaseException], ...] = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ClusterDownError,
    OSError,
)


@dataclass(frozen=True, slots=True)
class RedisTarget:
    """Where a ``redis+cluster://`` or ``redis+sentinel://`` URL points."""

    kind: Literal["cluster", "sentinel"]
    nodes: tuple[tuple[str, int], ...]
    service: str | None = None
    db: int = 0
    username: str | None = None
    password: str | None = None
    sentinel_password: str | None = None


def is_multi_node(url: str) -> bool:
    """Whether ``url`` names a Cluster or Sentinels rather than one server."""
    return url.strip().partition("://")[0].lower() in (CLUSTER_SCHEME, SENTINEL_SCHEME)


def parse_target(url: str) -> RedisTarget:
    """Parse a ``redis+cluster://`` or ``redis+sentinel://`` URL; ValueError with one line if it is wrong."""
    scheme, sep, _ = url.partition("://")
    scheme = scheme.lower()
    if not sep or scheme not in (CLUSTER_SCHEME, SENTINEL_SCHEME):
        raise ValueError(f"not a {CLUSTER_SCHEME}:// or {SENTINEL_SCHEME}:// URL")
    parts = urlsplit(url)
    userinfo, at, hostlist = parts.netloc.rpartition("@")
    username = password = None
    if at:
        user, colon, secret = userinfo.partition(":")
        username = unquote(user) or None
        password = unquote(secret) if colon else None
    if not hostlist.strip():
        raise ValueError(f"the {scheme}:// URL names no host")
    nodes = tuple(_node(item, DEFAULT_PORTS[scheme]) for item in hostlist.split(","))
    options = {key: values[-1] for key, values in parse_qs(parts.query, keep_blank_values=True).items()}
    unknown = sorted(set(options) - _OPTIONS[scheme])
    if unknown:
        allowed = ", ".join(sorted(_OPTIONS[scheme])) or "none"
        raise ValueError(f"unknown option {unknown[0]!r} in the {scheme}:// URL (allowed: {allowed})")
    path = [unquote(p) for p in parts.path.split("/") if p]
    if scheme == CLUSTER_SCHEME:
        if path not in ([], ["0"]):
            raise ValueError("a Redis Cluster has only database 0: redis+cluster://host:port[,host:port...][/0]")
        return RedisTarget("cluster", nodes, username=username, password=password)
    if not path or len(path) > 2:
        raise ValueError("name the Sentinel service: redis+sentinel://host:26379[,host:port...]/SERVICE[/DB]")
    db = path[1] if len(path) == 2 else "0"
    if not db.isdigit():
        raise ValueError(f"the database in a redis+sentinel:// URL is a number (got {db!r})")
    return RedisTarget(
        "sentinel",
        nodes,
        service=path[0],
        db=int(db),
        username=username,
        password=password,
        sentinel_password=options.get("sentinel_password") or None,
    )


def _node(item: str, default_port: int) -> tuple[str, int]:
    item = item.strip()
    try:
        parts = urlsplit("//" + item)
        port = parts.port
    except ValueError:
        raise ValueError(f"{item!r} is not host:port") from None
    if not item or not parts.hostname or parts.path or parts.query:
        raise ValueError(f"{item!r} is not host:port")
    return parts.hostname, port or default_port


def connect(
    url: str,
    *,
    socket_timeout: float | None = 5,
    socket_connect_timeout: float | None = 5,
    health_check_interval: float = 0,
) -> RedisClient:
    """A client for ``url`` (see the module's docstring) that decodes replies to ``str``.

    It connects on first use. Close it with :func:`close`, which also closes what a Sentinel
    client holds open to the Sentinels.
    """
    options: dict[str, Any] = {
        "decode_responses": True,
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": socket_connect_timeout,
        "health_check_interval": health_check_interval,
    }
    if not is_multi_node(url):
        return Redis.from_url(url, **options)
    target = parse_target(url)
    if target.kind == "cluster":
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in target.nodes],
            username=target.username,
            password=target.password,
            # Per node. When a node's connections are all busy, the Cluster client refuses the
            # command at once (MaxConnectionsError) where a plain client's unbounded pool opens
            # another: blocking stream reads hold one each, so leave room above its 100.
            max_connections=CLUSTER_MAX_CONNECTIONS,
            **options,
        )
    # Sentinel is untyped before redis 8.2 and typed from it: the ignore serves either.
    sentinels = Sentinel(  # type: ignore[no-untyped-call, unused-ignore]
        list(target.nodes),
        sentinel_kwargs={
            "password": target.sentinel_password,
            "socket_timeout": socket_timeout,
            "socket_connect_timeout": socket_connect_timeout,
        },
        username=target.username,
        password=target.password,
        db=target.db,
        **options,
    )
    assert target.service is not None
    client: Redis = sentinels.master_for(target.service)
    return client


async def close(client: RedisClient) -> None:
    """Close the client's connections, and a Sentinel client's connections to the Sentinels."""
    pool = getattr(client, "connection_pool", None)
    await client.aclose()
    if isinstance(pool, SentinelConnectionPool):
        await pool.sentinel_manager.aclose()


async def ping(client: RedisClient) -> bool:
    """Whether Redis answers. On a Cluster every primary must: with one down, its slots' streams stop."""
    if isinstance(client, RedisCluster):
        return bool(await client.ping(target_nodes=RedisCluster.PRIMARIES))
    return bool(await client.ping())


async def flush(client: RedisClient) -> None:
    """Empty the database; on a Cluster, that of every primary (FLUSHDB alone acts on one node)."""
    if isinstance(client, RedisCluster):
        await client.flushdb(target_nodes=RedisCluster.PRIMARIES)
    else:
        await client.flushdb()
