"""The suite leaves the Redis databases it uses (N and N + 1, see ``tests/conftest.py``) empty."""

from __future__ import annotations

from dispatch.runtime import redis_client
from tests.conftest import empty_test_redis, other_redis_db


async def test_the_end_of_a_session_empties_both_redis_databases_it_used(redis_url: str) -> None:
    urls = list(dict.fromkeys((redis_url, other_redis_db(redis_url))))
    for url in urls:
        client = redis_client.connect(url)
        try:
            await client.xadd("hygiene:stream", {"k": "v"})
            await client.set("hygiene:key", "v")
        finally:
            await redis_client.close(client)
    await empty_test_redis(redis_url)
    for url in urls:
        client = redis_client.connect(url)
        try:
            assert await client.exists("hygiene:stream", "hygiene:key") == 0
            assert [key async for key in client.scan_iter(_type="stream")] == []
        finally:
            await redis_client.close(client)
