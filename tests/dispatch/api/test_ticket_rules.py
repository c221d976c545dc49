"""Bad input gets a clear error and changes nothing."""

import asyncio

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory, auth


async def _counts(pool: asyncpg.Pool) -> tuple[int, ...]:
    row = await pool.fetchrow(
        """SELECT (SELECT count(*) FROM tickets), (SELECT count(*) FROM assignments), (SELECT count(*) FROM events),
                  (SELECT count(*) FROM outbox), (SELECT coalesce(sum(version), 0) FROM assignments)"""
    )
    return tuple(row)


@pytest.mark.parametrize(
    ("action", "body", "setup"),
    [
        ("start", {}, []),  # never acknowledged
        ("resolve", {"resolution": "x"}, []),  # resolving what was never acknowledged
        ("acknowledge", {}, ["acknowledge"]),  # acknowledging twice
        ("start", {}, ["acknowledge", "start"]),
        ("return", {"reason": "x"}, ["acknowledge", "resolve"]),  # already resolved
    ],
)
async def test_illegal_transition_is_409_and_changes_nothing(
    http: aiohttp.ClientSession,
    make_user: UserFactory,
    pool: asyncpg.Pool,
    action: str,
    body: dict[str, str],
    setup: list[str],
) -> None:
    _, taker = await make_user("call_taker")
    _, police = await make_user("desk", agency="police")
    _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(agencies=["police"]))
    lead = ticket["assignments"][0]["id"]
    for step in setup:
        payload = {"resolution": "done"} if step == "resolve" else {}
        assert (await call(http, "POST", f"/api/v1/assignments/{lead}/{step}", police, payload))[0] == 200
    before = await _counts(pool)
    status, error = await call(http, "POST", f"/api/v1/assignments/{lead}/{action}", police, body)
    assert status == 409
    assert error["error"]["code"] == "illegal_transition"
    assert error["error"]["details"][0]["action"] == action
    assert await _counts(pool) == before


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "\x00\x01 "}, "description"),
        ({"description": "长" * 4001}, "description"),
        ({"channel": "fax"}, "channel"),
        ({"caller": {"phone": "12"}}, "caller.phone"),
        ({"caller": {"phone": "110"}}, "caller.phone"),
        ({"caller": {}}, "caller"),  # neither a number nor why there is none
        ({"location": {"address": "x", "lat": 91, "lon": 10}}, "location.lat"),
        ({"location": {"address": "x", "lat": 33.0}}, "location"),
        ({"location": {"address": ""}}, "location"),
        ({"location": {"address": "x", "district": "北京"}}, "location.district"),
        ({"category": "police.nonsense"}, "category"),
        ({"priority": "P0"}, "priority"),
        ({"agencies": ["police", "police"]}, "agencies"),
        ({"agencies": ["fire"]}, "agencies.0"),
        ({"agencies": []}, "agencies"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_invalid_create_is_422_with_the_field_path_and_creates_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, change: dict, field: str
) -> None:
    _, taker = await make_user("call_taker")
    status, error = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(**change))
    assert status == 422, error
    assert error["error"]["code"] == "validation_failed"
    assert field in [d["field"] for d in error["error"]["details"]]
    assert await _counts(pool) == (0, 0, 0, 0, 0)


async def test_malformed_json_is_400(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    for raw in (b"{not json", b"", b"[1, 2", "描述".encode()):
        async with http.post("/api/v1/tickets", data=raw, headers=auth(taker)) as response:
            assert response.status == 400
            assert (await response.json())["error"]["code"] == "malformed_json"


async def test_body_that_is_not_an_object_is_422(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    status, _ = await call(http, "POST", "/api/v1/tickets", taker, [1, 2])
    assert status == 422


async def test_body_over_64_kib_is_413(http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool) -> None:
    _, taker = await make_user("call_taker")
    big = ticket_body(description="x" * (70 * 1024))
    status, error = await call(http, "POST", "/api/v1/tickets", taker, big)
    assert status == 413 and error["error"]["code"] == "payload_too_large"
    assert await pool.fetchval("SELECT count(*) FROM tickets") == 0


async def test_unknown_ids_are_404(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, admin = await make_user("admin")
    for method, path in [
        ("GET", "/api/v1/tickets/999999"),
        ("GET", "/api/v1/tickets/abc"),
        ("GET", "/api/v1/tickets/99999999999999999999999"),
        ("POST", "/api/v1/assignments/999999/acknowledge"),
    ]:
        status, error = await call(http, method, path, admin, {} if method == "POST" else None)
        assert status == 404, path
        assert error["error"]["code"].endswith("not_found")


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("138 0000 0000", "+8613800000000"),
        ("+86 13800000000", "+8613800000000"),
        ("0086-138-0000-0000", "+8613800000000"),
        ("0396-1234567", "+863961234567"),
        ("(0396)2345678", "+863962345678"),
        ("１３８００００００００", "+8613800000000"),
    ],
)
async def test_phone_numbers_are_normalised(
    http: aiohttp.ClientSession, make_user: UserFactory, written: str, stored: str
) -> None:
    _, taker = await make_user("call_taker")
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(caller={"phone": written}))
    assert status == 201 and ticket["caller"]["phone"] == stored


async def test_control_characters_are_stripped_and_unicode_kept(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    text = "俺家门口\x00有人\x1b打架 🚓 ئۇيغۇرچە"
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=text))
    assert status == 201
    assert ticket["description"] == "俺家门口有人打架 🚓 ئۇيغۇرچە"


async def test_listing_filters_and_paginates_stably_under_concurrent_inserts(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    created = []
    for i in range(7):
        _, ticket = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(description=f"第{i}起打架"))
        created.append(ticket["id"])
    light = ticket_body(description="路灯坏了", category="urban.street_light", priority="P4", agencies=["urban"])
    _, lamp = await call(http, "POST", "/api/v1/tickets", taker, light)

    seen: list[int] = []
    cursor = None
    while True:
        path = "/api/v1/tickets?agency=police&limit=3" + (f"&cursor={cursor}" if cursor else "")
        (status, page), *_ = await asyncio.gather(
            call(http, "GET", path, taker),
            call(http, "POST", "/api/v1/tickets", taker, ticket_body(description="新来的")),
        )
        assert status == 200
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))  # no duplicates across pages
    assert set(created) <= set(seen)  # nothing that existed was skipped
    assert lamp["id"] not in seen

    _, p4 = await call(http, "GET", "/api/v1/tickets?priority=P4&district=驿城区", taker)
    assert [t["id"] for t in p4["items"]] == [lamp["id"]]
    _, text = await call(http, "GET", "/api/v1/tickets?q=路灯", taker)
    assert [t["id"] for t in text["items"]] == [lamp["id"]]
    # a number, in any case, goes straight to its index: the one ticket
    for spelled in (lamp["number"], lamp["number"].lower()):
        _, by_number = await call(http, "GET", f"/api/v1/tickets?q={spelled}", taker)
        assert [t["id"] for t in by_number["items"]] == [lamp["id"]], spelled
    _, phone = await call(http, "GET", "/api/v1/tickets?phone=138-0000-0000&limit=200", taker)
    assert len(phone["items"]) >= 8
    status, error = await call(http, "GET", "/api/v1/tickets?limit=0", taker)
    assert status == 422 and error["error"]["details"][0]["field"] == "limit"
    status, error = await call(http, "GET", "/api/v1/tickets?cursor=garbage", taker)
    assert status == 400 and error["error"]["code"] == "bad_cursor"
