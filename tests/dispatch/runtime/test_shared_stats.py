"""The supervisors' reads are computed once per question every few seconds and shared by
everyone asking it (dispatch.runtime.shared_reads), and say how old they are."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from dispatch.runtime.app import create_app
from dispatch.runtime.settings import Settings
from dispatch.runtime.shared_reads import REFRESH_AHEAD, SharedReads
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory

READS = [
    "/api/v1/stats/summary",
    "/api/v1/stats/overdue",
    "/api/v1/stats/escalations",
    "/api/v1/stats/timeseries?bucket=hour",
]


@pytest.fixture
async def sharing(settings: Settings, clean: None) -> AsyncIterator[aiohttp.ClientSession]:
    """A server of its own that shares each answer for a minute."""
    server = TestServer(create_app(settings.model_copy(update={"stats_shared_seconds": 60})), port=0)
    await server.start_server()
    try:
        async with aiohttp.ClientSession(base_url=str(server.make_url("/"))) as session:
            yield session
    finally:
        await server.close()


async def test_one_answer_is_shared_until_it_is_older_than_the_setting_and_says_how_old(
    sharing: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    _, desk = await make_user("desk", agency="police")
    for path in READS:
        status, first = await call(sharing, "GET", path, supervisor)
        assert status == 200, first
        assert 0 <= first["age_seconds"] < 5 and first["max_age_seconds"] == 60
        datetime.fromisoformat(first["as_of"])
    _, before = await call(sharing, "GET", "/api/v1/stats/summary", supervisor)
    await call(sharing, "POST", "/api/v1/tickets", taker, ticket_body())
    await asyncio.sleep(0.05)
    _, again = await call(sharing, "GET", "/api/v1/stats/summary", supervisor)
    # The same answer, older: the new ticket shows once it has expired.
    assert again["as_of"] == before["as_of"] and again["age_seconds"] > before["age_seconds"]
    assert again["open"] == before["open"]
    # Another question is another answer: an agency's, which a desk of that agency shares.
    _, police = await call(sharing, "GET", "/api/v1/stats/summary?agency=police", supervisor)
    _, own = await call(sharing, "GET", "/api/v1/stats/summary", desk)
    assert police["open"]["total"] == 1 and own["as_of"] == police["as_of"]
    _, other = await call(sharing, "GET", "/api/v1/stats/summary?agency=urban", supervisor)
    assert other["filters"]["agency"] == "urban" and other["open"]["total"] == 0


async def test_a_desk_never_gets_another_agencys_shared_answer(
    sharing: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, supervisor = await make_user("supervisor")
    _, desk = await make_user("desk", agency="urban")
    await call(sharing, "GET", "/api/v1/stats/summary?agency=police", supervisor)
    status, body = await call(sharing, "GET", "/api/v1/stats/summary?agency=police", desk)
    assert status == 403 and body["error"]["code"] == "not_your_agency"
    _, own = await call(sharing, "GET", "/api/v1/stats/summary", desk)
    assert own["filters"]["agency"] == "urban"


async def test_concurrent_askers_of_one_question_share_one_computation() -> None:
    shared = SharedReads(60)
    computed = 0

    async def compute() -> dict[str, int]:
        nonlocal computed
        computed += 1
        await asyncio.sleep(0.05)
        return {"n": computed}

    answers = await asyncio.gather(*(shared.get(("summary", None), compute) for _ in range(20)))
    assert computed == 1 and {a.value["n"] for a in answers} == {1}
    await shared.get(("summary", "police"), compute)
    assert computed == 2
    shared.forget()
    await shared.get(("summary", None), compute)
    assert computed == 3


async def test_a_failed_computation_is_kept_for_nobody_and_the_next_asker_computes_it() -> None:
    shared = SharedReads(60)
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        if calls == 1:
            raise RuntimeError("the database went away")
        return {"n": calls}

    first, second = await asyncio.gather(shared.get("q", compute), shared.get("q", compute), return_exceptions=True)
    assert isinstance(first, RuntimeError)
    assert not isinstance(second, BaseException) and second.value == {"n": 2}
    assert (await shared.get("q", compute)).value == {"n": 2}


async def test_zero_seconds_computes_every_request_afresh() -> None:
    shared = SharedReads(0)
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        return {"n": calls}

    assert [(await shared.get("q", compute)).value["n"] for _ in range(3)] == [1, 2, 3]


async def test_a_just_expired_answer_is_given_at_once_and_computed_again_in_the_background() -> None:
    shared = SharedReads(0.05)
    calls = 0
    release = asyncio.Event()

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            await release.wait()
        return {"n": calls}

    first = await shared.get("q", compute)
    await asyncio.sleep(0.06)  # expired, but only just
    again = await shared.get("q", compute)  # nobody waits: the last answer, a refresh set going
    assert again is first and again.age() >= 0.05
    await asyncio.sleep(0.01)
    meanwhile = await shared.get("q", compute)
    assert meanwhile is first and calls == 2  # one computation in flight, not one per asker
    release.set()
    for _ in range(100):
        if (await shared.get("q", compute)).value == {"n": 2}:
            break
        await asyncio.sleep(0.005)
    assert (await shared.get("q", compute)).value == {"n": 2} and calls == 2


async def test_an_answer_long_expired_is_waited_for_while_the_others_get_it_meanwhile() -> None:
    shared = SharedReads(0.02)
    calls = 0
    release = asyncio.Event()

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            await release.wait()
        return {"n": calls}

    first = await shared.get("q", compute)
    await asyncio.sleep(0.02 * REFRESH_AHEAD + 0.02)  # nobody asked for a while: too old to give
    again = asyncio.ensure_future(shared.get("q", compute))  # computes, and waits for it
    await asyncio.sleep(0.01)
    meanwhile = await shared.get("q", compute)
    assert meanwhile is first and calls == 2
    release.set()
    assert (await again).value == {"n": 2}


async def test_a_failed_background_refresh_keeps_the_last_answer_and_is_tried_again() -> None:
    shared = SharedReads(0.05)
    calls = 0

    async def compute() -> dict[str, int]:
        nonlocal calls
        calls += 1
        if calls == 2:
            raise RuntimeError("database gone for a moment")
        return {"n": calls}

    first = await shared.get("q", compute)
    await asyncio.sleep(0.06)
    assert await shared.get("q", compute) is first  # refresh set going; it fails
    await asyncio.sleep(0.01)
    assert await shared.get("q", compute) is first and calls >= 2  # tried again
    for _ in range(100):
        if (await shared.get("q", compute)).value.get("n", 0) >= 3:
            break
        await asyncio.sleep(0.005)
    assert (await shared.get("q", compute)).value["n"] >= 3
