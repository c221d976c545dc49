"""A citizen's status page: by number and tracking token, without personal data or internal
notes; a wrong token is indistinguishable from an unknown number; guessing is rate-limited."""

from __future__ import annotations

import aiohttp

from tests.api_helpers import call
from tests.conftest import UserFactory
from tests.public.conftest import assert_no_personal_data, create, resolve_all, street_light_body


async def _get(http: aiohttp.ClientSession, number: str, token: str) -> tuple[int, bytes, dict[str, str]]:
    async with http.get(f"/api/v1/public/tickets/{number}", params={"token": token}) as response:
        return response.status, await response.read(), dict(response.headers)


async def test_citizen_sees_status_agency_and_timeline_without_an_account(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    async with http.get(
        f"/api/v1/public/tickets/{ticket['number']}", params={"token": ticket["tracking_token"]}
    ) as response:
        assert response.status == 200
        view = await response.json()
    assert view["number"] == ticket["number"]
    assert view["status"] == "dispatched"
    assert view["status_text"]["zh"] and view["status_text"]["en"]
    assert view["category"] == "urban.street_light"
    assert view["category_name"] == {"zh": "路灯不亮、路灯损坏", "en": view["category_name"]["en"]}
    assert view["priority"] == "P4"
    assert view["agency"]["code"] == "urban" and view["agency"]["name"]["zh"] == "城市管理"
    assert view["feedback_open"] is False
    assert [line["type"] for line in view["timeline"]] == ["ticket.created", "assignment.created"]
    assert view["timeline"][1]["text"]["zh"] == "已派至城市管理办理"
    assert view["created_at"] and view["updated_at"]


async def test_public_view_holds_no_phone_name_description_internal_note_or_user_name(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker", name="接警员王芳")
    _, supervisor = await make_user("supervisor", name="督办张伟")
    ticket = await create(http, taker)
    lead = ticket["assignments"][0]["id"]
    # An internal note: returned with a reason, routed again, then resolved.
    status, _ = await call(
        http, "POST", f"/api/v1/assignments/{lead}/return", supervisor, {"reason": "内部备注：辖区有误，退回重派"}
    )
    assert status == 200
    status, _ = await call(
        http,
        "POST",
        f"/api/v1/tickets/{ticket['id']}/assignments",
        supervisor,
        {"agency": "urban", "role": "lead", "reason": "内部备注：改派城管二中队"},
    )
    assert status == 201
    _, full = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", supervisor)
    await resolve_all(http, supervisor, {"assignments": [a for a in full["assignments"] if a["state"] == "dispatched"]})

    status, raw, _ = await _get(http, ticket["number"], ticket["tracking_token"])
    assert status == 200
    assert_no_personal_data(raw)
    text = raw.decode()
    for secret in (
        "内部备注",
        "辖区有误",
        "二中队",
        "接警员王芳",
        "督办张伟",
        "supervisor",
        "call_taker",
        "路灯不亮了",
    ):
        assert secret not in text, secret
    assert "现场调解" in text  # the resolution is shown, with the name and number removed


async def test_wrong_token_answers_exactly_like_an_unknown_number(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    wrong_token = await _get(http, ticket["number"], "x" * len(ticket["tracking_token"]))
    unknown_number = await _get(http, "MS20000101-999999", ticket["tracking_token"])
    assert wrong_token[0] == unknown_number[0] == 404
    assert wrong_token[1] == unknown_number[1]
    assert wrong_token[2]["Content-Type"] == unknown_number[2]["Content-Type"]
    assert set(wrong_token[2]) == set(unknown_number[2])


async def test_a_token_of_another_ticket_does_not_open_this_one(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    first = await create(http, taker)
    second = await create(http, taker, street_light_body(description="另一处路灯坏了"))
    status, _, _ = await _get(http, first["number"], second["tracking_token"])
    assert status == 404


async def test_guessing_numbers_is_refused_with_429_and_retry_after_then_even_the_right_token(
    http: aiohttp.ClientSession, make_user: UserFactory, settings: object
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    allowed_failures = 20  # DISPATCH_PUBLIC_LOOKUP_FAILURE_LIMIT default: 20/10 minutes
    statuses = []
    for serial in range(allowed_failures):
        status, _, _ = await _get(http, f"MS20261124-{serial:06d}", ticket["tracking_token"][::-1])
        statuses.append(status)
    assert set(statuses) == {404}
    async with http.get(f"/api/v1/public/tickets/MS20261124-{999:06d}", params={"token": "guess"}) as response:
        assert response.status == 429
        assert int(response.headers["Retry-After"]) >= 1
        body = await response.json()
        assert body["error"]["code"] == "rate_limited"
    # Once spent, the address is refused even with the right token: guessing gains nothing.
    status, _, headers = await _get(http, ticket["number"], ticket["tracking_token"])
    assert status == 429 and "Retry-After" in headers


async def test_every_request_counts_against_the_address_limit(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    ticket = await create(http, taker)
    statuses = [(await _get(http, ticket["number"], ticket["tracking_token"]))[0] for _ in range(31)]
    assert statuses[:30] == [200] * 30  # DISPATCH_PUBLIC_RATE_LIMIT default: 30/minute
    assert statuses[30] == 429


async def test_a_missing_token_is_a_clear_error_and_no_lookup(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/v1/public/tickets/MS20261124-000001") as response:
        assert response.status == 422
        body = await response.json()
    assert body["error"]["details"][0]["field"] == "token"


async def test_a_malformed_number_is_not_found_like_any_other(http: aiohttp.ClientSession) -> None:
    for number in ("%00", "MS-" + "9" * 60, "'; DROP TABLE tickets; --"):
        async with http.get(f"/api/v1/public/tickets/{number}", params={"token": "x" * 22}) as response:
            assert response.status == 404, number
