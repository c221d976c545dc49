"""Statistics read from the replica when one is configured (DISPATCH_DATABASE_REPLICA_URL)."""

from collections.abc import Awaitable, Callable

import aiohttp
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.server import prepare_database
from dispatch.runtime.settings import Settings
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


async def test_statistics_come_from_the_replica(
    settings: Settings, make_user: UserFactory, scratch_databases: Callable[[], Awaitable[str]]
) -> None:
    # A "replica" that is visibly not the primary: an empty database of the same schema.
    replica = await scratch_databases()
    await prepare_database(replica)
    server = TestServer(create_app(settings.model_copy(update={"database_replica_url": replica})), port=0)
    await server.start_server()
    try:
        _, taker = await make_user("call_taker")
        _, supervisor = await make_user("supervisor")
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as http:
            status, _ = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
            assert status == 201  # written to the primary
            status, summary = await call(http, "GET", "/api/v1/stats/summary", supervisor)
            assert status == 200
            _, on_primary = await call(http, "GET", "/api/v1/tickets", supervisor)
        assert len(on_primary["items"]) == 1
        assert summary["open"]["total"] == 0  # the replica has none: statistics were read there
    finally:
        await server.close()
