"""The distinct addresses ticket search matches (migration 0017) hold every address a ticket
has (but the empty one), whichever path wrote it (the API, hand-written SQL, a rewrite of the address, a restore);
``ticket_addresses_prune()`` removes those no ticket has, and never one a ticket being
written beside it is about to have; ``dispatch purge`` and ``dispatch archive delete`` prune
when they finish. A search finds a ticket by any part of its address."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import aiohttp
import asyncpg

from dispatch.privacy.retention import purge_closed
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory

KEPT_RIGHT = """
    SELECT (SELECT array_agg(address ORDER BY address) FROM ticket_addresses)
        IS NOT DISTINCT FROM
        (SELECT array_agg(DISTINCT address ORDER BY address) FROM tickets WHERE address <> '')
"""
INSERT_TICKET = """
    INSERT INTO tickets (number, tracking_token, channel, address, district, description, category, priority,
                         status, classification, short_code)
    SELECT 'MS20261204-' || lpad(n::text, 8, '0'), md5(random()::text), 'phone', $1, 'yicheng', '测试',
           'urban.sanitation', 'P4', 'new', '{}', lpad(n::text, 6, '0')
    FROM (SELECT nextval('ticket_number_seq') AS n) s
    RETURNING id
"""


async def _addresses(pool: asyncpg.Pool) -> list[str]:
    return [r["address"] for r in await pool.fetch("SELECT address FROM ticket_addresses ORDER BY address")]


async def test_every_path_that_writes_an_address_keeps_the_distinct_addresses(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    for address in ("驿城区解放大道与雪松路交叉口", "驿城区解放大道与雪松路交叉口", "西平县人民路12号"):
        status, _ = await call(
            http, "POST", "/api/v1/tickets", taker, ticket_body(location={"address": address, "district": "驿城区"})
        )
        assert status == 201
    no_address = ticket_body(location={"lat": 32.98, "lon": 114.02, "district": "驿城区"})
    status, _ = await call(http, "POST", "/api/v1/tickets", taker, no_address)
    assert status == 201
    assert await _addresses(pool) == ["西平县人民路12号", "驿城区解放大道与雪松路交叉口"]

    # Several tickets in one statement, and a rewrite of an address.
    await pool.execute(
        "INSERT INTO tickets (number, tracking_token, channel, address, district, description, category, priority,"
        " status, classification, short_code)"
        " SELECT 'MS20261204-' || lpad(g::text, 8, '0'), md5(g::text), 'phone', '上蔡县中华路' || (g % 3) || '号',"
        " 'shangcai', '测试', 'urban.sanitation', 'P4', 'new', '{}', lpad(g::text, 6, '0')"
        " FROM generate_series(900001, 900006) g"
    )
    await pool.execute("UPDATE tickets SET address = '西平县人民路14号' WHERE address = '西平县人民路12号'")
    assert await pool.fetchval(KEPT_RIGHT) is False  # 12号 is kept until a prune
    assert "西平县人民路12号" in await _addresses(pool)
    assert await pool.fetchval("SELECT ticket_addresses_prune()") == 1
    assert await pool.fetchval(KEPT_RIGHT) is True
    assert await pool.fetchval("SELECT ticket_addresses_prune()") == 0


async def test_a_search_finds_a_ticket_by_any_part_of_its_address(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    ids = []
    for address, description in (
        ("驿城区解放大道与雪松路交叉口", "两车相撞"),
        ("遂平县健康路8号3单元", "楼道灯坏了"),
        ("驿城区开源大道100号", "解放大道雪松路口有积水"),  # the words are in the description
    ):
        body = ticket_body(description=description, location={"address": address, "district": "驿城区"})
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
        assert status == 201
        ids.append(ticket["id"])
    for text, expected in (
        ("雪松路", [ids[2], ids[0]]),
        ("解放大道与雪松路", [ids[0]]),
        ("健康路8号3单元", [ids[1]]),
        ("3单元", [ids[1]]),
        ("开源大道", [ids[2]]),
        ("100%", []),
        ("健康路9号", []),
    ):
        status, page = await call(http, "GET", f"/api/v1/tickets?q={quote(text)}", supervisor)
        assert status == 200, page
        assert [t["id"] for t in page["items"]] == expected, text


async def test_a_prune_keeps_the_address_of_a_ticket_being_written_beside_it(
    database_url: str, pool: asyncpg.Pool, clean: None
) -> None:
    await pool.execute(INSERT_TICKET, "泌阳县文化路125号")
    await pool.execute("DELETE FROM tickets")  # the address is now an orphan
    writer = await asyncpg.connect(database_url)
    pruner = await asyncpg.connect(database_url)
    try:
        # A ticket with that address, not committed yet, while a prune runs.
        writing = writer.transaction()
        await writing.start()
        await writer.execute(INSERT_TICKET, "泌阳县文化路125号")
        prune = asyncio.create_task(pruner.fetchval("SELECT ticket_addresses_prune()"))
        await asyncio.sleep(0.5)
        assert not prune.done()  # it waits for the writer's lock
        await writing.commit()
        assert await asyncio.wait_for(prune, 10) == 0
        assert await _addresses(pool) == ["泌阳县文化路125号"]

        # The other order: the prune holds its lock first; the ticket waits, then adds the address.
        await pool.execute("DELETE FROM tickets")
        pruning = pruner.transaction()
        await pruning.start()
        assert await pruner.fetchval("SELECT ticket_addresses_prune()") == 1
        insert = asyncio.create_task(writer.fetchval(INSERT_TICKET, "泌阳县文化路125号"))
        await asyncio.sleep(0.5)
        assert not insert.done()
        await pruning.commit()
        await asyncio.wait_for(insert, 10)
        assert await pool.fetchval(KEPT_RIGHT) is True
    finally:
        await writer.close()
        await pruner.close()


async def test_purge_strikes_a_number_out_of_an_address_and_out_of_the_addresses_searched(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    body = ticket_body(location={"address": "驿城区雪松路8号 联系13912345678", "district": "驿城区"})
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 201
    long_ago = datetime.now(UTC) - timedelta(days=400)
    await pool.execute(
        "UPDATE tickets SET status = 'closed', closed_at = $2, updated_at = $2 WHERE id = $1", ticket["id"], long_ago
    )
    async with pool.acquire() as conn:
        assert await purge_closed(conn, older_than_days=365) == 1
    addresses = await _addresses(pool)
    assert len(addresses) == 1 and "13912345678" not in addresses[0] and addresses[0].startswith("驿城区雪松路8号")
    assert await pool.fetchval(KEPT_RIGHT) is True
