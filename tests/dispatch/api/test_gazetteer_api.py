"""The gazetteer through REST and the CLI, placing tickets and matching repeat calls by place."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from tests.api_helpers import call, ticket_body
from tests.cli_helpers import clean_env, run_dispatch
from tests.conftest import UserFactory

CSV = """name,kind,district,lat,lon,aliases
解放大道与雪松路交叉口,intersection,驿城区,33.008,114.024,
驻马店市中心医院,place,驿城区,33.010,114.018,市中心医院|中心医院
"""
CRASH = "两辆车撞了，有个人腿上流血，车横在路中间"


async def test_an_admin_imports_a_gazetteer_and_staff_read_it(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    status, result = await call(http, "POST", "/api/v1/gazetteer/import", admin, {"csv": CSV, "replace": True})
    assert status == 200, result
    assert result["imported"] == 2 and result["total"] == 2
    status, page = await call(http, "GET", "/api/v1/gazetteer", taker)
    assert status == 200
    assert [p["name"] for p in page["items"]] == ["解放大道与雪松路交叉口", "驻马店市中心医院"]
    assert page["items"][1]["aliases"] == ["市中心医院", "中心医院"]
    async with http.get("/api/v1/gazetteer/export", headers={"Authorization": f"Bearer {taker}"}) as response:
        assert response.status == 200 and response.content_type == "text/csv"
        rows = list(csv.DictReader(io.StringIO(await response.text())))
    assert {r["name"] for r in rows} == {"解放大道与雪松路交叉口", "驻马店市中心医院"}


async def test_only_an_admin_imports_and_a_bad_file_changes_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    before = await pool.fetchval("SELECT count(*) FROM gazetteer")
    status, error = await call(http, "POST", "/api/v1/gazetteer/import", taker, {"csv": CSV})
    assert status == 403, error
    bad = CSV + "某地,place,火星区,33,114,\n"
    status, error = await call(http, "POST", "/api/v1/gazetteer/import", admin, {"csv": bad, "replace": True})
    assert status == 422 and error["error"]["details"][0]["row"] == 4
    assert await pool.fetchval("SELECT count(*) FROM gazetteer") == before


async def test_classify_refuses_text_that_names_nothing(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    status, error = await call(http, "POST", "/api/v1/classify", taker, {"text": "？？？ 123 !!"})
    assert status == 422 and error["error"]["details"][0]["field"] == "text"


async def test_classify_and_create_place_a_request_from_the_gazetteer(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    assert (await call(http, "POST", "/api/v1/gazetteer/import", admin, {"csv": CSV, "replace": True}))[0] == 200
    status, proposal = await call(
        http, "POST", "/api/v1/classify", taker, {"text": CRASH, "address": "解放大道雪松路路口"}
    )
    assert status == 200, proposal
    assert proposal["place"] == {"name": "解放大道与雪松路交叉口", "district": "yicheng", "lat": 33.008, "lon": 114.024}
    assert proposal["agency"] == "police" and isinstance(proposal["uncertain"], bool)
    body = ticket_body(description=CRASH, location={"address": "雪松路跟解放大道十字"})
    for key in ("category", "priority", "agencies"):
        body.pop(key)
    status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 201, ticket
    assert ticket["location"]["lat"] == 33.008 and ticket["location"]["lon"] == 114.024
    assert ticket["location"]["district"] == "yicheng"
    proposed = ticket["classification"]["proposed"]
    assert proposed["place"]["name"] == "解放大道与雪松路交叉口" and "uncertain" in proposed
    # Coordinates the caller gave are kept.
    given = ticket_body(location={"address": "解放大道雪松路路口", "lat": 33.0, "lon": 114.0})
    _, kept = await call(http, "POST", "/api/v1/tickets", taker, given)
    assert (kept["location"]["lat"], kept["location"]["lon"]) == (33.0, 114.0)


async def test_the_same_crash_in_two_address_styles_is_a_duplicate(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    first_body = ticket_body(
        description="解放大道这边两辆车撞了，一个人腿上流血", location={"address": "解放大道与雪松路交叉口"}
    )
    status, first = await call(http, "POST", "/api/v1/tickets", taker, first_body | {"category": "transport.accident"})
    assert status == 201, first
    second_body = ticket_body(description="路口出车祸了，两个车撞一块了", location={"address": "解放大道雪松路路口"})
    status, second = await call(
        http, "POST", "/api/v1/tickets", taker, second_body | {"category": "transport.accident"}
    )
    assert status == 201, second
    assert [d["id"] for d in second["duplicates"]] == [first["id"]]


async def test_with_the_gazetteer_the_same_crash_matches_by_distance(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, admin = await make_user("admin")
    _, taker = await make_user("call_taker")
    assert (await call(http, "POST", "/api/v1/gazetteer/import", admin, {"csv": CSV, "replace": True}))[0] == 200
    accident = {"category": "transport.accident", "agencies": ["police", "health"]}
    _, first = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(location={"address": "解放大道与雪松路交叉口"}) | accident
    )
    _, second = await call(
        http, "POST", "/api/v1/tickets", taker, ticket_body(location={"address": "雪松路和解放大道十字路口"}) | accident
    )
    assert first["location"]["lat"] == second["location"]["lat"] == 33.008
    assert first["location"]["district"] == second["location"]["district"] == "yicheng"
    [match] = second["duplicates"]
    assert match["id"] == first["id"] and "相距约 0 米" in match["reason"], match


@pytest.mark.timeout(400)
def test_the_cli_imports_lists_and_exports_the_gazetteer(tmp_path: Path, database_url: str) -> None:
    source = tmp_path / "places.csv"
    source.write_text(CSV, encoding="utf-8")
    env = clean_env(DISPATCH_DATABASE_URL=database_url)
    done = run_dispatch("gazetteer", "import", str(source), "--replace", env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "imported 2 places" in done.stdout
    listed = run_dispatch("gazetteer", "list", env=env, timeout=120)
    assert listed.returncode == 0 and "解放大道与雪松路交叉口" in listed.stdout and "yicheng" in listed.stdout
    out = tmp_path / "out.csv"
    assert run_dispatch("gazetteer", "export", str(out), env=env, timeout=120).returncode == 0
    assert {r["name"] for r in csv.DictReader(io.StringIO(out.read_text(encoding="utf-8")))} == {
        "解放大道与雪松路交叉口",
        "驻马店市中心医院",
    }


def test_the_cli_refuses_a_bad_gazetteer_with_its_row_numbers(tmp_path: Path, database_url: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV + "某地,place,火星区,33,114,\n", encoding="utf-8")
    refused = run_dispatch("gazetteer", "import", str(bad), env=clean_env(DISPATCH_DATABASE_URL=database_url))
    assert refused.returncode == 2 and "row 4" in refused.stderr


def test_cli_classify_gives_doubt_and_place_and_refuses_meaningless_text(tmp_path: Path) -> None:
    lines = tmp_path / "calls.jsonl"
    lines.write_text(
        "\n".join(
            json.dumps(x, ensure_ascii=False)
            for x in (
                {"id": "a", "text": CRASH, "address": "解放大道雪松路路口"},
                {"id": "b", "text": "   "},
                {"id": "c", "text": "？？？!!! 123"},
            )
        )
        + "\n",
        encoding="utf-8",
    )
    done = run_dispatch("classify", str(lines), env=clean_env(), timeout=120)
    assert done.returncode == 1
    first, empty, meaningless = (json.loads(line) for line in done.stdout.splitlines())
    assert first["agency"] == "police" and isinstance(first["uncertain"], bool)
    assert first["place"]["name"] == "解放大道与雪松路交叉口"  # the shipped gazetteer
    assert empty["line"] == 2 and "empty" in empty["error"]
    assert meaningless["line"] == 3 and "nothing to classify" in meaningless["error"]
