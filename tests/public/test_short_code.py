"""The six-digit short code: read out over the phone, accepted by the citizens' lookup instead
of the long token, and limited per ticket number so that guessing it is hopeless."""

from __future__ import annotations

import aiohttp

from tests.conftest import UserFactory
from tests.public.conftest import create, street_light_body


async def _get(http: aiohttp.ClientSession, number: str, token: str) -> tuple[int, dict[str, object]]:
    async with http.get(f"/api/v1/public/tickets/{number}", params={"token": token}) as response:
        return response.status, await response.json()


def _wrong(code: str, n: int) -> str:
    return f"{(int(code) + 1 + n) % 1_000_000:06d}"


async def test_the_short_code_opens_the_status_like_the_token(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    code = ticket["short_code"]
    assert len(code) == 6 and code.isdigit()
    status, view = await _get(http, ticket["number"], code)
    assert status == 200 and view["number"] == ticket["number"]
    spaced = f"{code[:3]} {code[3:]}"  # as a caller may type it
    assert (await _get(http, ticket["number"], spaced))[0] == 200


async def test_a_wrong_code_answers_like_an_unknown_number(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    wrong = await _get(http, ticket["number"], _wrong(ticket["short_code"], 0))
    unknown = await _get(http, "MS20000101-000001", ticket["short_code"])
    assert wrong == unknown and wrong[0] == 404


async def test_wrong_codes_are_limited_per_number_and_the_token_still_works(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    other = await create(http, taker, street_light_body(description="另一处路灯坏了"))
    allowed = 5  # DISPATCH_PUBLIC_CODE_FAILURE_LIMIT default: 5/day per ticket number
    for n in range(allowed):
        assert (await _get(http, ticket["number"], _wrong(ticket["short_code"], n)))[0] == 404
    async with http.get(f"/api/v1/public/tickets/{ticket['number']}", params={"token": ticket["short_code"]}) as r:
        assert r.status == 429 and int(r.headers["Retry-After"]) > 3600  # spent for the day, even the right code
    assert (await _get(http, ticket["number"], ticket["tracking_token"]))[0] == 200  # not locked out
    assert (await _get(http, other["number"], other["short_code"]))[0] == 200  # another number is untouched
