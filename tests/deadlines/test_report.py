"""``dispatch report``: the period's KPIs per agency and district in CSV, XLSX and JSON."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import asyncpg
from openpyxl import load_workbook  # type: ignore[import-untyped]

from dispatch.reports import COLUMNS, build_report, render_csv, render_json
from dispatch.runtime.settings import Settings
from dispatch.store.users import Principal
from tests.api_helpers import call as api_call
from tests.api_helpers import ticket_body
from tests.cli_helpers import clean_env, run_dispatch
from tests.conftest import UserFactory
from tests.deadlines.conftest import AppFactory
from tests.deadlines.test_stats import _history

UserMaker = Callable[..., Awaitable[tuple[Principal, str]]]


async def test_report_gives_the_kpis_per_agency_and_district_with_chinese_headers(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, taker = await dl_user("call_taker")
    async with app_client(deadline_watcher=False) as http:
        await _history(http, dl_pool, taker)
    now = datetime.now(UTC)
    async with dl_pool.acquire() as conn:
        report = await build_report(conn, now - timedelta(hours=2), now + timedelta(minutes=1))

    rows = list(csv.reader(io.StringIO(render_csv(report).decode("utf-8-sig"))))
    assert rows[0][:3] == ["单位 Agency", "区县 District", "受理量 Tickets received"]
    by_place = {(r[0], r[1]): dict(zip([k for k, _ in COLUMNS], r, strict=True)) for r in rows[1:]}
    assert set(by_place) == {("公安 police", "驿城区 yicheng"), ("公安 police", "小计 Subtotal"), ("合计 Total", "")}
    total = by_place[("合计 Total", "")]
    assert total["tickets"] == "5" and total["ack_on_time_rate"] == "0.5" and total["resolve_on_time_rate"] == "0.5"
    assert total["satisfaction_rate"] == "0.5" and total["return_rate"] == "0.0" and total["escalations"] == "1"
    document = json.loads(render_json(report))
    assert document["rows"][-1]["ack_on_time_rate"] == 0.5 and document["columns"][2]["key"] == "tickets"


async def test_report_command_writes_an_xlsx_workbook(
    dl_settings: Callable[..., Settings], dl_clean: None, tmp_path: Path
) -> None:
    settings = dl_settings()
    env = clean_env(DISPATCH_DATABASE_URL=settings.database_url, DISPATCH_DATA_DIR=str(settings.data_dir))
    out = tmp_path / "kpi.xlsx"
    result = run_dispatch("report", "--from", "2026-11-01", "--to", "2026-11-30", "--output", str(out), env=env)
    assert result.returncode == 0, result.stderr
    sheet = load_workbook(out).active
    assert sheet["A1"].value.startswith("民生110 绩效报表 KPI report 2026-11-01T00:00:00+08:00")
    assert [c.value for c in sheet[2]][:3] == ["单位 Agency", "区县 District", "受理量 Tickets received"]
    assert sheet["A3"].value == "合计 Total" and sheet["C3"].value == 0
    bad = run_dispatch("report", "--from", "2026-11-30", "--to", "2026-11-01", env=env)
    assert bad.returncode == 2 and bad.stderr.startswith("dispatch:")


async def test_the_report_counts_answered_consultations_per_agency_and_in_total(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> None:
    _, taker = await make_user("call_taker")
    _, admin = await make_user("admin")
    _, entry = await api_call(
        http, "POST", "/api/v1/kb", admin, {"title": "护照", "answer": "到出入境大厅", "agency": "police"}
    )
    consultation = {"description": "问护照怎么办", "caller": {"phone": "13800000009"}}
    await api_call(http, "POST", "/api/v1/tickets", taker, consultation | {"answer": {"kb_entry": entry["id"]}})
    await api_call(http, "POST", "/api/v1/tickets", taker, consultation | {"answer": {"text": "已答复"}})
    await api_call(http, "POST", "/api/v1/tickets", taker, ticket_body())  # a police dispatch, so police has rows
    now = datetime.now(UTC)
    async with pool.acquire() as conn:
        report = await build_report(conn, now - timedelta(hours=1), now + timedelta(hours=1))
    total = next(r for r in report.rows if r["agency"] == "合计 Total")
    police = next(r for r in report.rows if r["agency"] == "公安 police" and r["district"] == "小计 Subtotal")
    assert (total["answered"], police["answered"]) == (2, 1)
