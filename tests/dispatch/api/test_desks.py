"""Desks: every agency starts with a city desk and one per district; tickets go to the desk
of their district; an admin changes desks at run time."""

import aiohttp
import asyncpg

from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


async def _desk_code(pool: asyncpg.Pool, desk_id: int | None) -> str | None:
    return await pool.fetchval("SELECT code FROM desks WHERE id = $1", desk_id)


async def test_default_desks_cover_every_district_of_every_agency(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    status, page = await call(http, "GET", "/api/v1/desks?agency=urban", admin)
    assert status == 200
    desks = page["items"]
    assert sum(d["city_level"] for d in desks) == 1
    covered = {district for d in desks for district in d["districts"]}
    assert len(covered) == 12 and len(desks) == 13


async def test_ticket_goes_to_its_districts_desk_or_the_city_desk(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, xiping = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(location={"address": "柏城街道", "district": "西平县"})
    )
    assert await _desk_code(pool, xiping["assignments"][0]["desk_id"]) == "police.xiping"
    assert await _desk_code(pool, xiping["assignments"][1]["desk_id"]) == "health.xiping"
    # No district in the field: the router reads it from the address text.
    _, by_address = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(location={"address": "汝南县汝宁街道人民路"})
    )
    assert await _desk_code(pool, by_address["assignments"][0]["desk_id"]) == "police.runan"
    _, unknown = await call(http, "POST", "/api/v1/tickets", taker, ticket_body(location={"address": "不知道在哪"}))
    assert await _desk_code(pool, unknown["assignments"][0]["desk_id"]) == "police.city"


async def test_admin_moves_a_district_to_another_desk_at_run_time(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    for code in ("police.xiping", "police.suiping"):  # free the two districts first
        status, result = await call(http, "PUT", f"/api/v1/desks/{code}", admin, {"agency": "police", "name": code})
        assert status == 200 and result["districts"] == []
    status, desk = await call(
        http,
        "PUT",
        "/api/v1/desks/police.west",
        admin,
        {"agency": "police", "name": "公安 西部联合席", "districts": ["西平县", "suiping"]},
    )
    assert status == 200 and desk["districts"] == ["suiping", "xiping"]
    assert desk["id"]
    status, error = await call(
        http, "PUT", "/api/v1/desks/police.suiping", admin, {"agency": "police", "name": "x", "districts": ["suiping"]}
    )
    assert status == 409 and error["error"]["code"] == "district_taken"
    _, ticket = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(location={"address": "x", "district": "xiping"})
    )
    assert await _desk_code(pool, ticket["assignments"][0]["desk_id"]) == "police.west"
    status, error = await call(
        http, "PUT", "/api/v1/desks/police.city2", admin, {"agency": "police", "name": "x", "city_level": True}
    )
    assert status == 409 and error["error"]["code"] == "city_desk_exists"
