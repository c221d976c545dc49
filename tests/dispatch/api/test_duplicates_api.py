"""Repeat calls about one incident: the 201 of a create lists the open tickets it probably
duplicates (read in the statement that creates it), and so do a replay and ``/classify``."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import asyncpg
import pytest

from dispatch.store.duplicates import CandidateSearch
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory

# 驿城区, near the 永辉 supermarket on 交通路, and about 110 m north of it.
HERE = {"address": "驿城区交通路永辉超市门口", "district": "驿城区", "lat": 32.9800, "lon": 114.0250}
NEARBY = HERE | {"address": "交通路与解放路口", "lat": 32.9810}


def _body(**location: Any) -> dict[str, Any]:
    return ticket_body(location=HERE | location, agencies=["police"])


async def test_a_repeat_call_lists_the_open_ticket_it_repeats(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    status, first = await call(http, "POST", "/api/v1/tickets", taker, _body())
    assert status == 201 and first["duplicates"] == []  # not a duplicate of itself
    status, second = await call(http, "POST", "/api/v1/tickets", taker, _body(**NEARBY))
    assert status == 201
    [match] = second["duplicates"]
    assert (match["id"], match["number"]) == (first["id"], first["number"])
    assert 0.45 <= match["score"] <= 1
    assert match["reason"].startswith("同类工单，相距约 1") and "米" in match["reason"]


async def test_tickets_elsewhere_closed_or_unrelated_are_not_listed(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    elsewhere = ticket_body(location={"address": "西平县柏城街道", "district": "西平县"}, agencies=["police"])
    assert (await call(http, "POST", "/api/v1/tickets", taker, elsewhere))[0] == 201
    unrelated = _body() | {"description": "路灯坏了一整排", "category": "urban.street_light", "agencies": ["urban"]}
    assert (await call(http, "POST", "/api/v1/tickets", taker, unrelated))[0] == 201
    _, closed = await call(http, "POST", "/api/v1/tickets", taker, _body())
    await pool.execute("UPDATE tickets SET status = 'closed', closed_at = now() WHERE id = $1", closed["id"])
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, _body())
    assert status == 201 and ticket["duplicates"] == []


async def test_a_replay_and_classify_list_the_same_duplicates_as_the_create(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, first = await call(http, "POST", "/api/v1/tickets", taker, _body())
    key = {"Idempotency-Key": "repeat-call-1"}
    status, created = await call(http, "POST", "/api/v1/tickets", taker, _body(**NEARBY), headers=key)
    assert status == 201 and [d["id"] for d in created["duplicates"]] == [first["id"]]
    status, replayed = await call(http, "POST", "/api/v1/tickets", taker, _body(**NEARBY), headers=key)
    assert status == 200 and replayed["id"] == created["id"]
    assert [d["id"] for d in replayed["duplicates"]] == [first["id"]]  # and not itself
    query = {"text": created["description"], "address": NEARBY["address"], "lat": NEARBY["lat"], "lon": NEARBY["lon"]}
    status, proposal = await call(http, "POST", "/api/v1/classify", taker, query)
    assert status == 200, proposal
    assert {d["id"] for d in proposal["duplicates"]} == {first["id"], created["id"]}


@pytest.mark.parametrize("district", [None, "yicheng"])
@pytest.mark.parametrize("point", [None, (32.98, 114.025)])
@pytest.mark.parametrize(("first", "exclude"), [(1, True), (1, False), (26, False)])
def test_the_candidate_query_numbers_its_parameters_from_first_without_gaps(
    district: str | None, point: tuple[float, float] | None, first: int, exclude: bool
) -> None:
    search = CandidateSearch.around("police.violence", district, *(point or (None, None)))
    expected = len(search.args()) + (1 if exclude else 0)
    used = {int(n) for n in re.findall(r"\$(\d+)", search.sql(first, exclude=exclude))}
    assert used == set(range(first, first + expected))
