"""Retention: ``dispatch purge`` strikes personal numbers out of the free text of tickets past
retention (descriptions, reports, resolutions, notes, feedback, and their events), and
nothing else; the events' guard still refuses every other rewrite; events older than the
period leave the Redis streams."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp
import asyncpg
import pytest

from dispatch.delivery.streams import dead_stream
from dispatch.pipeline.bus import ALL_STREAM, agency_stream
from dispatch.privacy.personal_data import REDACTED, scrub_event_data, scrub_text
from dispatch.privacy.retention import purge_closed, trim_bus
from dispatch.runtime.redis_client import RedisClient
from tests.api_helpers import call, ticket_body
from tests.cli_helpers import clean_env, run_dispatch
from tests.conftest import UserFactory

MOBILE, ID_CARD, BANK_CARD, LANDLINE = "13912345678", "41010219900307123X", "6222021234567890123", "0396-2345678"
PERSONAL = (MOBILE, ID_CARD, BANK_CARD, "2345678", "zhang.san@example.com")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"我的电话{MOBILE}，请回电", f"我的电话{REDACTED}，请回电"),
        ("电话 +86 139 1234 5678 或 139-1234-5678", f"电话 {REDACTED} 或 {REDACTED}"),
        (f"身份证号{ID_CARD}。", f"身份证号{REDACTED}。"),
        (f"被骗转账到 {BANK_CARD} 了", f"被骗转账到 {REDACTED} 了"),
        ("卡号 6222 0212 3456 7890", f"卡号 {REDACTED}"),
        (f"座机{LANDLINE}", f"座机{REDACTED}"),
        ("邮箱 zhang.san@example.com 联系", f"邮箱 {REDACTED} 联系"),
    ],
)
def test_scrub_strikes_out_numbers_that_identify_a_person(text: str, expected: str) -> None:
    assert scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "工单 MS20261125-000123 于 2026-11-25 14:30 创建",
        "损失约 12000 元，3 人受伤，车牌豫Q12345",
        "解放路 128 号 3 单元 502 室",
        "报警电话 110、120、12345",
    ],
)
def test_scrub_leaves_numbers_that_do_not(text: str) -> None:
    assert scrub_text(text) == text


def test_event_data_is_scrubbed_in_its_free_text_only() -> None:
    data = {
        "text": f"家属电话{MOBILE}",
        "kind": "note",
        "agency": "health",
        "data": {"unit": "120-3"},
        "n": 13912345678,
    }
    assert scrub_event_data(data) == data | {"text": f"家属电话{REDACTED}"}


async def _closed_long_ago(pool: asyncpg.Pool, ticket_id: int) -> None:
    await pool.execute(
        "UPDATE tickets SET status = 'closed', closed_at = now() - interval '200 days' WHERE id = $1", ticket_id
    )


async def _rows_about(pool: asyncpg.Pool, ticket_id: int) -> str:
    """Every row about the ticket, as text."""
    parts = []
    for table, column in (("tickets", "id"), ("reports", "ticket_id"), ("assignments", "ticket_id")):
        parts += [
            r[0] for r in await pool.fetch(f"SELECT row_to_json(x)::text FROM {table} x WHERE {column} = $1", ticket_id)
        ]
    for table in ("feedback", "events"):
        parts += [
            r[0]
            for r in await pool.fetch(f"SELECT row_to_json(x)::text FROM {table} x WHERE ticket_id = $1", ticket_id)
        ]
    return "\n".join(parts)


async def test_purge_strikes_personal_numbers_from_every_free_text_of_the_ticket(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    body = ticket_body(description=f"两人打架，报警人电话{MOBILE}，身份证{ID_CARD}", agencies=["police"])
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 201, ticket
    status, kept = await call(http, "POST", "/api/v1/tickets", taker, body)  # closed recently: untouched
    assert status == 201, kept
    report = {"description": f"再报：邮箱 zhang.san@example.com，座机 {LANDLINE}", "caller": {"phone": "13900000000"}}
    assert (await call(http, "POST", f"/api/v1/tickets/{ticket['id']}/reports", taker, report))[0] == 201
    [assignment] = ticket["assignments"]
    base = f"/api/v1/assignments/{assignment['id']}"
    assert (await call(http, "POST", f"{base}/acknowledge", supervisor, {}))[0] == 200
    note = {"kind": "note", "text": f"当事人银行卡 {BANK_CARD} 被冻结"}
    assert (await call(http, "POST", f"{base}/notes", supervisor, note))[0] == 201
    resolution = {"resolution": f"已调解，双方留电话 {MOBILE} 备查"}
    assert (await call(http, "POST", f"{base}/resolve", supervisor, resolution))[0] == 200
    async with http.post(
        f"/api/v1/public/tickets/{ticket['number']}/feedback",
        params={"token": ticket["tracking_token"]},
        json={"satisfied": True, "rating": 5, "comment": f"满意，有事打 {MOBILE}"},
    ) as response:
        assert response.status == 200, await response.text()
    await _closed_long_ago(pool, ticket["id"])
    await pool.execute("UPDATE tickets SET status = 'closed', closed_at = now() WHERE id = $1", kept["id"])
    before: dict[str, Any] = dict(await pool.fetchrow("SELECT count(*) AS n, max(at) AS last FROM events"))

    async with pool.acquire() as conn:
        assert await purge_closed(conn, older_than_days=180) == 1

    purged = await _rows_about(pool, ticket["id"])
    for number in PERSONAL:
        assert number not in purged, number
    assert purged.count(REDACTED) >= 7
    assert "两人打架" in purged and "已调解" in purged and "满意" in purged  # the rest of the text stays
    assert MOBILE in await _rows_about(pool, kept["id"])
    # The audit trail keeps every event, its type, actor and time; nothing was added or removed.
    assert dict(await pool.fetchrow("SELECT count(*) AS n, max(at) AS last FROM events")) == before
    assert await pool.fetchval("SELECT category FROM tickets WHERE id = $1", ticket["id"]) == "police.violence"


async def test_events_refuse_any_other_rewrite_even_while_redacting(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    assert (await call(http, "POST", "/api/v1/tickets", taker, ticket_body()))[0] == 201
    async with pool.acquire() as conn:
        for statement in ("UPDATE events SET data = '{}'", "DELETE FROM events"):
            with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                await conn.execute(statement)
        async with conn.transaction():
            await conn.execute("SET LOCAL dispatch.redacting = 'on'")
            for statement in ("UPDATE events SET actor = 'someone else'", "UPDATE events SET at = now()"):
                with pytest.raises(asyncpg.InsufficientPrivilegeError, match="append-only"):
                    async with conn.transaction():
                        await conn.execute(statement)


async def _published_seqs(pool: asyncpg.Pool, ticket_id: int) -> list[int]:
    """The cursors of the ticket's events, once the relay has published all of them."""
    for _ in range(200):
        rows = await pool.fetch(
            "SELECT o.seq, o.published_at FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.ticket_id = $1",
            ticket_id,
        )
        if rows and all(r["published_at"] for r in rows):
            return sorted(r["seq"] for r in rows)
        await asyncio.sleep(0.05)
    raise AssertionError("the relay did not publish the ticket's events")


async def _ids(redis: RedisClient, stream: str) -> list[str]:
    return [entry_id for entry_id, _ in await redis.xrange(stream)]


async def test_purge_trims_events_older_than_retention_from_the_streams(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, redis: RedisClient
) -> None:
    _, taker = await make_user("call_taker")
    _, old = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    _, new = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    old_seqs, new_seqs = await _published_seqs(pool, old["id"]), await _published_seqs(pool, new["id"])
    await pool.execute(
        """UPDATE outbox SET created_at = now() - interval '200 days'
           WHERE event_id IN (SELECT id FROM events WHERE ticket_id = $1)""",
        old["id"],
    )
    long_ago_ms = int((time.time() - 200 * 86400) * 1000)
    await redis.xadd(dead_stream("police"), {"p": "{}"}, id=f"{long_ago_ms}-0")
    recent_dead = await redis.xadd(dead_stream("police"), {"p": "{}"})

    async with pool.acquire() as conn:
        removed = await trim_bus(conn, redis, older_than_days=180)

    remaining = {int(i.split("-")[0]) for i in await _ids(redis, ALL_STREAM)}
    assert not remaining & set(old_seqs) and set(new_seqs) <= remaining
    for agency in ("police", "health"):
        kept = {int(i.split("-")[0]) for i in await _ids(redis, agency_stream(agency))}
        assert not kept & set(old_seqs) and kept
    assert await _ids(redis, dead_stream("police")) == [recent_dead]
    assert removed >= len(old_seqs) + 1
    async with pool.acquire() as conn:
        assert await trim_bus(conn, redis, older_than_days=180) == 0  # nothing older is left


async def test_purge_command_reports_what_it_did(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, database_url: str, redis_url: str
) -> None:
    _, taker = await make_user("call_taker")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=f"电话{MOBILE}"))
    await _published_seqs(pool, ticket["id"])
    await _closed_long_ago(pool, ticket["id"])
    env = clean_env(DISPATCH_DATABASE_URL=database_url, DISPATCH_REDIS_URL=redis_url)
    done = await asyncio.to_thread(run_dispatch, "purge", "--older-than", "180", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines() == [
        "anonymised the callers of 1 ticket(s) closed more than 180 days ago"
        " and struck personal numbers out of their text",
        "removed 0 event(s) older than 180 days from the Redis streams",  # its events are recent
    ]
    assert MOBILE not in await _rows_about(pool, ticket["id"])


async def test_purge_works_through_a_backlog_in_batches(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    ids = []
    for _ in range(5):
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=f"电话{MOBILE}"))
        await _closed_long_ago(pool, ticket["id"])
        ids.append(ticket["id"])
    async with pool.acquire() as conn:
        assert await purge_closed(conn, older_than_days=180, batch=2) == 5
        assert await purge_closed(conn, older_than_days=180, batch=2) == 0
    for ticket_id in ids:
        assert MOBILE not in await _rows_about(pool, ticket_id)
