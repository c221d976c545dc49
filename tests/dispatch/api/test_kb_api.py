"""The knowledge base over REST: create, versioned edits, retire, search, suggestions, and
filing a consultation as answered (直接答复) with the entry's version on the timeline."""

from __future__ import annotations

from typing import Any

import aiohttp
import asyncpg

from tests.api_helpers import call
from tests.conftest import UserFactory

RESIDENCE = {
    "title": "居住证办理材料",
    "answer": "办理居住证需携带身份证原件、租房合同或房产证明，到居住地派出所办理。",
    "category": "police.public_order",
    "agency": "police",
    "keywords": ["居住证", "暂住证"],
    "last_reviewed": "2026-11-01",
}


def consultation(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "description": "来电咨询办理居住证需要什么材料",
        "channel": "phone",
        "caller": {"phone": "13800000001"},
    }
    body.update(overrides)
    return body


async def _entry(http: aiohttp.ClientSession, token: str, **overrides: Any) -> dict[str, Any]:
    status, entry = await call(http, "POST", "/api/v1/kb", token, RESIDENCE | overrides)
    assert status == 201, entry
    return entry


async def test_create_then_read_with_its_first_version(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, admin = await make_user("admin")
    entry = await _entry(http, admin)
    assert entry["version"] == 1 and entry["keywords"] == ["居住证", "暂住证"] and not entry["retired"]
    status, read = await call(http, "GET", f"/api/v1/kb/{entry['id']}", admin)
    assert status == 200
    assert [v["version"] for v in read["versions"]] == [1]
    assert read["versions"][0]["created_by"].startswith("admin:")


async def test_required_fields_are_named_in_a_422(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, admin = await make_user("admin")
    status, error = await call(http, "POST", "/api/v1/kb", admin, {"title": "x"})
    assert status == 422
    assert "answer" in {d["field"] for d in error["error"]["details"]}
    status, error = await call(http, "POST", "/api/v1/kb", admin, RESIDENCE | {"category": "no.such"})
    assert status == 422
    status, error = await call(
        http, "POST", "/api/v1/kb", admin, RESIDENCE | {"valid_from": "2026-12-01", "valid_to": "2026-01-01"}
    )
    assert status == 422


async def test_every_edit_is_a_new_version_and_old_ones_are_kept(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, supervisor = await make_user("supervisor")
    entry = await _entry(http, supervisor)
    path = f"/api/v1/kb/{entry['id']}"
    edit = {"version": 1, "answer": "新的答复口径", "note": "政策调整"}
    status, edited = await call(http, "PATCH", path, supervisor, edit)
    assert status == 200 and edited["version"] == 2 and edited["answer"] == "新的答复口径"
    status, read = await call(http, "GET", path, supervisor)
    versions = [(v["version"], v["answer"][:6]) for v in read["versions"]]
    assert versions == [(2, "新的答复口径"), (1, RESIDENCE["answer"][:6])]
    assert read["versions"][0]["note"] == "政策调整"


async def test_an_edit_from_a_stale_version_is_refused(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, admin = await make_user("admin")
    entry = await _entry(http, admin)
    path = f"/api/v1/kb/{entry['id']}"
    assert (await call(http, "PATCH", path, admin, {"version": 1, "title": "居住证"}))[0] == 200
    status, error = await call(http, "PATCH", path, admin, {"version": 1, "title": "居住证申领"})
    assert status == 409 and error["error"]["code"] == "kb_version_conflict"
    _, read = await call(http, "GET", path, admin)
    assert read["title"] == "居住证" and read["version"] == 2


async def test_clearing_an_optional_field_and_refusing_to_clear_a_required_one(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    entry = await _entry(http, admin)
    path = f"/api/v1/kb/{entry['id']}"
    status, edited = await call(http, "PATCH", path, admin, {"category": None})
    assert status == 200 and edited["category"] is None and edited["agency"] == "police"
    assert (await call(http, "PATCH", path, admin, {"title": None}))[0] == 422


async def test_retired_entries_leave_search_but_stay_readable(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    entry = await _entry(http, admin)
    status, retired = await call(http, "POST", f"/api/v1/kb/{entry['id']}/retire", admin, {"note": "已过时"})
    assert status == 200 and retired["retired"] and retired["version"] == 2
    _, page = await call(http, "GET", "/api/v1/kb?q=居住证", taker)
    assert page["items"] == []
    _, page = await call(http, "GET", "/api/v1/kb?state=retired", taker)
    assert [e["id"] for e in page["items"]] == [entry["id"]]
    assert (await call(http, "GET", f"/api/v1/kb/{entry['id']}", taker))[0] == 200
    status, error = await call(http, "PATCH", f"/api/v1/kb/{entry['id']}", admin, {"title": "x"})
    assert status == 409 and error["error"]["code"] == "kb_entry_retired"


async def test_search_ranks_the_matching_entry_first_and_finds_half_typed_words(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    residence = await _entry(http, admin)
    await _entry(
        http,
        admin,
        title="公积金提取",
        answer="提取住房公积金请携带身份证和购房合同到公积金中心。",
        keywords=["公积金"],
        category=None,
        agency=None,
    )
    _, page = await call(http, "GET", "/api/v1/kb?q=居住", taker)
    assert page["items"][0]["id"] == residence["id"]
    _, page = await call(http, "GET", "/api/v1/kb?q=公积金怎么取", taker)
    assert page["items"][0]["title"] == "公积金提取"


async def test_entries_outside_their_validity_are_not_suggested(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    await _entry(http, admin, valid_to="2020-12-31")
    _, page = await call(http, "GET", "/api/v1/kb/suggest?text=居住证怎么办", admin)
    assert page["items"] == []
    _, page = await call(http, "GET", "/api/v1/kb?state=all", admin)
    assert len(page["items"]) == 1


async def test_a_residence_permit_question_suggests_the_entry(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    entry = await _entry(http, admin)
    _, page = await call(http, "GET", "/api/v1/kb/suggest?text=您好，我想问一下办居住证需要带什么材料", taker)
    assert [e["id"] for e in page["items"]] == [entry["id"]]
    _, page = await call(http, "GET", "/api/v1/kb/suggest?text=路灯不亮了", taker)
    assert page["items"] == []


async def test_call_takers_read_but_may_not_write(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    assert (await call(http, "POST", "/api/v1/kb", taker, RESIDENCE))[0] == 403
    assert (await call(http, "GET", "/api/v1/kb", taker))[0] == 200


async def test_list_pages_with_a_cursor(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, admin = await make_user("admin")
    for n in range(3):
        await _entry(http, admin, title=f"条目{n}")
    _, first = await call(http, "GET", "/api/v1/kb?limit=2", admin)
    assert len(first["items"]) == 2 and first["next_cursor"]
    _, second = await call(http, "GET", f"/api/v1/kb?limit=2&cursor={first['next_cursor']}", admin)
    assert [e["title"] for e in second["items"]] == ["条目0"] and second["next_cursor"] is None


# Answered consultations --------------------------------------------------------------------


async def test_an_answered_call_is_filed_without_dispatch_and_records_the_version(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    entry = await _entry(http, admin)
    await call(http, "PATCH", f"/api/v1/kb/{entry['id']}", admin, {"answer": "第二版答复：携带身份证到派出所。"})
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, consultation(answer={"kb_entry": entry["id"]}))
    assert status == 201, ticket
    assert ticket["status"] == "answered" and ticket["assignments"] == []
    assert ticket["answer"] == {"kb_entry": entry["id"], "kb_version": 2}
    assert ticket["category"] == "police.public_order" and ticket["priority"] == "P4"
    assert len(ticket["short_code"]) == 6 and ticket["short_code"].isdigit()
    _, read = await call(http, "GET", f"/api/v1/tickets/{ticket['id']}", taker)
    answered = [e for e in read["timeline"] if e["type"] == "ticket.answered"]
    assert answered[0]["data"]["kb_version"] == 2 and answered[0]["data"]["answer"].startswith("第二版答复")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM assignments WHERE ticket_id = $1", ticket["id"]) == 0
        assert await conn.fetchval("SELECT closed_at IS NOT NULL FROM tickets WHERE id = $1", ticket["id"])


async def test_a_free_text_answer_needs_no_entry_nor_address(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    body = consultation(description="问市民中心几点下班", answer={"text": "市民中心工作日17:30下班"})
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 201 and ticket["status"] == "answered" and ticket["answer"] is None


async def test_a_dispatched_call_still_needs_a_location(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    assert (await call(http, "POST", "/api/v1/tickets", taker, consultation()))[0] == 422
    assert (await call(http, "POST", "/api/v1/tickets", taker, consultation(answer={})))[0] == 422


async def test_answering_from_a_retired_entry_is_refused_and_files_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    entry = await _entry(http, admin)
    await call(http, "POST", f"/api/v1/kb/{entry['id']}/retire", admin, {})
    status, error = await call(http, "POST", "/api/v1/tickets", taker, consultation(answer={"kb_entry": entry["id"]}))
    assert status == 409 and error["error"]["code"] == "kb_entry_retired"
    missing = consultation(answer={"kb_entry": 999999})
    assert (await call(http, "POST", "/api/v1/tickets", taker, missing))[0] == 422
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM tickets") == 0


async def test_an_answered_call_replays_with_its_idempotency_key(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    body = consultation(answer={"text": "已答复"})
    headers = {"Idempotency-Key": "answer-1"}
    first = await call(http, "POST", "/api/v1/tickets", taker, body, headers=headers)
    second = await call(http, "POST", "/api/v1/tickets", taker, body, headers=headers)
    assert (first[0], second[0]) == (201, 200) and first[1]["id"] == second[1]["id"]


async def test_answered_calls_count_as_first_contact_resolutions(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    from tests.api_helpers import ticket_body

    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    await call(http, "POST", "/api/v1/tickets", taker, consultation(answer={"text": "已答复"}))
    await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    _, summary = await call(http, "GET", "/api/v1/stats/summary", supervisor)
    assert summary["answered"] == {"tickets": 1, "rate": 0.5}


async def test_an_answered_call_is_not_a_duplicate_candidate_nor_open_to_reports(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, answered = await call(http, "POST", "/api/v1/tickets", taker, consultation(answer={"text": "已答复"}))
    status, error = await call(
        http, "POST", f"/api/v1/tickets/{answered['id']}/reports", taker, {"description": "再问一次"}
    )
    assert status == 409 and error["error"]["code"] == "ticket_not_open"
