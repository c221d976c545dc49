"""``dispatch report``: the period's KPIs per agency and district, as a 12345/110 office
reports them upward, in CSV (UTF-8 with BOM, for Excel), XLSX or JSON.

Rows: each agency and district, each agency's subtotal (小计), and the total (合计). The
answered consultations (直接办结) of a row are those answered from that agency's knowledge-base
entries; the total counts every answered call, also those answered in free text. The
numbers come from ``dispatch.store.stats.kpi_rows``; every definition is in
docs/operations.md ("KPIs"). Deadlines not yet passed when the report is made count
neither way, so a report states the moment it was made (``as_of``).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal
from zoneinfo import ZoneInfo

import asyncpg
import orjson

import agencies
from dispatch.errors import ValidationFailed
from dispatch.store.stats import answered_counts, kpi_rows, rate

LOCAL_ZONE: Final = ZoneInfo("Asia/Shanghai")
Format = Literal["csv", "xlsx", "json"]

# (key, header): Chinese first, English second.
COLUMNS: Final[tuple[tuple[str, str], ...]] = (
    ("agency", "单位 Agency"),
    ("district", "区县 District"),
    ("tickets", "受理量 Tickets received"),
    ("assignments", "派单数 Assignments dispatched"),
    ("acknowledged", "签收数 Acknowledged"),
    ("ack_on_time", "按时签收数 Acknowledged on time"),
    ("ack_missed", "超时未签收数 Unacknowledged past deadline"),
    ("ack_on_time_rate", "签收及时率 On-time acknowledgement rate"),
    ("ack_p50_seconds", "签收用时中位数(秒) Median acknowledgement time (s)"),
    ("resolved", "办结数 Resolved"),
    ("resolve_on_time", "按时办结数 Resolved on time"),
    ("resolve_missed", "超期未办结数 Unresolved past deadline"),
    ("resolve_on_time_rate", "按时办结率 On-time resolution rate"),
    ("resolve_p50_seconds", "办结用时中位数(秒) Median resolution time (s)"),
    ("feedback", "回访数 Tickets with feedback"),
    ("satisfied", "满意数 Satisfied"),
    ("satisfaction_rate", "满意率 Satisfaction rate"),
    ("returned", "退回数 Returned"),
    ("return_rate", "退回率 Return rate"),
    ("escalations", "督办次数 Escalations"),
    ("answered", "直接办结数 Answered at first contact"),
)
RATE_COLUMNS: Final = frozenset(key for key, _ in COLUMNS if key.endswith("_rate"))


@dataclass(frozen=True, slots=True)
class Report:
    """One period's KPI table."""

    start: datetime
    end: datetime
    as_of: datetime
    rows: list[dict[str, Any]]


def parse_bound(text: str, *, end: bool) -> datetime:
    """A period bound: a date (a whole local day, Asia/Shanghai; an end date is included) or
    an ISO 8601 date-time with zone (exact; an end is excluded)."""
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        pass
    else:
        return datetime.combine(day + timedelta(days=1 if end else 0), time(), LOCAL_ZONE)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationFailed(f"not a date (YYYY-MM-DD) or an ISO 8601 date-time: {text!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_ZONE)
    return moment


def _agency_label(code: str | None) -> str:
    if code is None:
        return "合计 Total"
    profile = agencies.AGENCIES.get(code)
    return f"{profile.name_zh} {code}" if profile else code


def _district_label(code: str | None, level: str) -> str:
    if level == "total":
        return ""
    if level == "agency":
        return "小计 Subtotal"
    if code is None:
        return "未知 Unknown"
    district = agencies.DISTRICTS_BY_CODE.get(code)
    return f"{district.name_zh} {code}" if district else code


def _row(kpi: dict[str, Any], answered: dict[tuple[str | None, str | None], int]) -> dict[str, Any]:
    ack_p = kpi["ack_percentiles"] or [None]
    resolve_p = kpi["resolve_percentiles"] or [None]
    return {
        "agency": _agency_label(kpi["agency"] if kpi["level"] != "total" else None),
        "district": _district_label(kpi["district"], kpi["level"]),
        "tickets": kpi["tickets"],
        "assignments": kpi["assignments"],
        "acknowledged": kpi["acknowledged"],
        "ack_on_time": kpi["ack_on_time"],
        "ack_missed": kpi["ack_missed"],
        "ack_on_time_rate": rate(kpi["ack_on_time"], kpi["acknowledged"] + kpi["ack_missed"]),
        "ack_p50_seconds": round(ack_p[0], 1) if ack_p[0] is not None else None,
        "resolved": kpi["resolved"],
        "resolve_on_time": kpi["resolve_on_time"],
        "resolve_missed": kpi["resolve_missed"],
        "resolve_on_time_rate": rate(kpi["resolve_on_time"], kpi["resolved"] + kpi["resolve_missed"]),
        "resolve_p50_seconds": round(resolve_p[0], 1) if resolve_p[0] is not None else None,
        "feedback": kpi["feedback"],
        "satisfied": kpi["satisfied"],
        "satisfaction_rate": rate(kpi["satisfied"], kpi["feedback"]),
        "returned": kpi["returned"],
        "return_rate": rate(kpi["returned"], kpi["assignments"]),
        "escalations": kpi["escalations"],
        "answered": answered.get(
            (None, None)
            if kpi["level"] == "total"
            else (kpi["agency"], None if kpi["level"] == "agency" else kpi["district"]),
            0,
        ),
    }


async def build_report(conn: asyncpg.Connection, start: datetime, end: datetime) -> Report:
    """The KPI table of assignments dispatched in ``[start, end)``, as of now."""
    if start >= end:
        raise ValidationFailed("the period is empty: --from must come before --to")
    as_of = await conn.fetchval("SELECT now()")
    answered = await answered_counts(conn, start, end)
    rows = [_row(kpi, answered) for kpi in await kpi_rows(conn, start, end)]
    return Report(start, end, as_of, rows)


def _title(report: Report) -> str:
    start = report.start.astimezone(LOCAL_ZONE).isoformat(timespec="seconds")
    end = report.end.astimezone(LOCAL_ZONE).isoformat(timespec="seconds")
    made = report.as_of.astimezone(LOCAL_ZONE).isoformat(timespec="seconds")
    return f"民生110 绩效报表 KPI report {start} – {end} (截至 as of {made})"


def render_csv(report: Report) -> bytes:
    """CSV, UTF-8 with a byte-order mark (Excel opens it right), one header row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for _, header in COLUMNS])
    for row in report.rows:
        writer.writerow(["" if row[key] is None else row[key] for key, _ in COLUMNS])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def render_json(report: Report) -> bytes:
    """JSON: the period, the moment it was made, the columns and the rows (English keys)."""
    document = {
        "title": _title(report),
        "period": {"from": report.start, "to": report.end},
        "as_of": report.as_of,
        "columns": [{"key": key, "header": header} for key, header in COLUMNS],
        "rows": report.rows,
    }
    return orjson.dumps(document, option=orjson.OPT_INDENT_2) + b"\n"


def render_xlsx(report: Report) -> bytes:
    """An Excel workbook: a title line, a bold frozen header row, rates as percentages."""
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.styles import Font  # type: ignore[import-untyped]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "KPI"
    sheet.append([_title(report)])
    sheet.append([header for _, header in COLUMNS])
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in report.rows:
        sheet.append([row[key] for key, _ in COLUMNS])
        if row["agency"].startswith("合计") or row["district"].startswith("小计"):
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    for index, (key, _) in enumerate(COLUMNS, start=1):
        if key in RATE_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=3, min_col=index, max_col=index):
                cell.number_format = "0.00%"
        letter = sheet.cell(row=2, column=index).column_letter
        sheet.column_dimensions[letter].width = 16 if index > 2 else 22
    sheet.freeze_panes = "C3"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


RENDERERS: Final = {"csv": render_csv, "json": render_json, "xlsx": render_xlsx}


def render(report: Report, fmt: Format) -> bytes:
    """The report in ``fmt``."""
    return RENDERERS[fmt](report)
