"""Resolve where PostgreSQL and Redis are: configured URLs, or embedded servers started here."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from dispatch.runtime.embedded import EmbeddedServers
from dispatch.runtime.settings import Settings


@contextlib.contextmanager
def resolved_services(
    settings: Settings, *, database: bool = True, redis: bool = True, attach_redis: bool = False
) -> Iterator[Settings]:
    """Settings whose URLs point at real servers, starting embedded ones where a URL is unset.

    Embedded servers started here stop when the block ends (PostgreSQL only once no other
    process on the same data dir still uses it). ``attach_redis`` is for command-line tools:
    they use the embedded Valkey of a server running on the same data dir.
    """
    need_db = database and not settings.database_url
    need_redis = redis and not settings.redis_url
    if not (need_db or need_redis):
        yield settings
        return
    embedded = EmbeddedServers(settings.data_dir)
    dsn, url = embedded.start(database=need_db, redis=need_redis, attach_redis=attach_redis)
    try:
        update: dict[str, str] = {}
        if dsn:
            update["database_url"] = dsn
        if url:
            update["redis_url"] = url
        yield settings.model_copy(update=update)
    finally:
        embedded.stop()
