"""``dispatch bench --history N``: years of tickets, then every console read path timed.

It loads a realistic history into the configured database with bulk SQL (history.sql beside
this file: ``INSERT … SELECT`` over ``generate_series``, never the API), with its assignments,
escalations, feedback and events, skewed as a province's 12345 is (districts, categories,
channels, hours of the day, growth over the years, weekends, surge days), the last tickets
still open. Then it starts a server on that database and times each read path with real HTTP
clients at a realistic concurrency, a month's ``dispatch report`` as a command, and ticket
creation (with the duplicate search) against the same creation on an empty database. It prints
p50/p95/p99 per path beside its target, and the storage a ticket costs with its events and
indexes. It refuses a database that already holds tickets (``--history-measure-only`` measures
the history already loaded instead), so that it never mixes with real work.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final
from urllib.parse import quote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg

import agencies

SQL = Path(__file__).with_name("history.sql")
LOCAL = ZoneInfo("Asia/Shanghai")
HISTORY_TABLES = ("tickets", "assignments", "escalations", "feedback", "events")
STORAGE_TABLES = ("tickets", "assignments", "escalations", "feedback", "events", "reports", "outbox")

# Targets (docs/benchmarks.md): p99 in milliseconds per read path; the report in seconds.
CONSOLE_P99_MS = 100.0
SUMMARY_P99_MS = 300.0
REPORT_S = 30.0

# Shares of the draws (each list is spread over 1000 rows of a lookup table).
DISTRICT_WEIGHTS = {
    "yicheng": 22, "kaifaqu": 9, "gaoxinqu": 6, "runan": 8, "xiping": 7, "shangcai": 8,
    "pingyu": 8, "zhengyang": 6, "queshan": 6, "biyang": 7, "suiping": 6, "xincai": 7,
}  # fmt: skip
CATEGORY_WEIGHTS = {
    "urban.street_light": 9, "urban.sanitation": 10, "urban.vending": 5, "urban.illegal_building": 4,
    "urban.facility": 6, "urban.construction_noise": 8, "urban.utilities": 9, "transport.signal": 3,
    "transport.road_damage": 4, "transport.obstruction": 4, "transport.transit": 4, "transport.accident": 4,
    "police.dispute": 6, "police.public_order": 5, "police.theft": 3, "police.fraud": 2, "police.violence": 1,
    "police.missing_person": 1, "health.service": 4, "health.food_safety": 2, "health.epidemic": 1,
    "health.emergency": 1, "emergency.fire": 1, "emergency.gas_leak": 1, "emergency.hazard": 2,
    "emergency.hazmat": 0.2, "emergency.natural_disaster": 0.3, "emergency.collapse": 0.2,
}  # fmt: skip
CHANNEL_WEIGHTS = {"phone": 72, "app": 10, "web": 8, "open311": 6, "sms": 4}
# Calls per hour of the day (local time): quiet at night, a morning peak, a long afternoon.
HOUR_WEIGHTS = (1.0, 0.6, 0.4, 0.3, 0.3, 0.5, 1.2, 2.5, 5, 8, 9, 8, 6, 6, 7, 8, 8, 7, 6, 6, 5, 4, 3, 2)

# What callers say, per category (the loader adds a street and a remark).
PHRASES = {
    "police.violence": "超市门口有人打架，有人受伤",
    "police.theft": "电动车在楼下被偷了",
    "police.fraud": "接到电话让我转账到安全账户",
    "police.missing_person": "家里老人早上出门到现在没回来",
    "police.dispute": "邻居装修天天吵，吵起来了",
    "police.public_order": "烧烤摊半夜还在喝酒划拳",
    "transport.accident": "两辆车追尾了，有人受伤",
    "transport.signal": "十字路口的红绿灯坏了一直闪黄灯",
    "transport.road_damage": "路中间有个大坑，电动车摔倒了",
    "transport.obstruction": "有辆货车违停把路堵死了",
    "transport.transit": "出租车司机绕路还不打表",
    "health.emergency": "家里老人突然晕倒了叫不醒",
    "health.food_safety": "吃了食堂的饭好多同事上吐下泻",
    "health.epidemic": "小区里好几个人发烧咳嗽",
    "health.service": "医院排队三个小时医生态度很差",
    "urban.street_light": "我们这条街路灯一个星期都不亮",
    "urban.sanitation": "垃圾好几天没人清运，臭死了",
    "urban.vending": "学校门口有流动摊贩占道",
    "urban.illegal_building": "楼顶有人私搭乱建彩钢房",
    "urban.facility": "人行道上的井盖不见了",
    "urban.construction_noise": "工地晚上十二点还在打桩",
    "urban.utilities": "小区停水一整天了",
    "emergency.fire": "三楼厨房着火了冒黑烟",
    "emergency.gas_leak": "楼道里一股很浓的煤气味",
    "emergency.hazmat": "一辆危化品罐车侧翻漏液",
    "emergency.natural_disaster": "下暴雨地下车库进水了",
    "emergency.collapse": "老房子墙塌了，下面可能有人",
    "emergency.hazard": "工厂里灭火器过期，安全通道被堵",
}
STREETS = ("解放路", "人民路", "中华路", "健康路", "文化路", "交通路", "雪松路", "开源大道")


@dataclass(frozen=True, slots=True)
class HistoryPlan:
    """How much history to load: ``tickets`` over ``years``, the last ``open`` still open."""

    tickets: int
    open: int
    years: float
    seed: float = 0.42

    @property
    def days(self) -> int:
        return max(1, round(self.years * 365))


# One request: method, path, JSON body (or None) and the bearer token it is sent with.
Request = tuple[str, str, Any, str]


@dataclass(frozen=True, slots=True)
class PathSpec:
    """One read path: a name, who reads, its target, and how to make the i-th request."""

    name: str
    target_ms: float
    make: Callable[[int], Request]
    # Of the offered rate: consoles' lists and lookups 1, supervisors' refreshes a quarter (a
    # centre has far fewer supervisors than desks and call-takers).
    share: float = 1.0


def spread(weights: Mapping[str, float], rows: int = 1000) -> list[str]:
    """``rows`` keys, each repeated in proportion to its weight (a uniform draw picks one)."""
    total = sum(weights.values())
    keys = list(weights)
    bounds, upto = [], 0.0
    for key in keys:
        upto += weights[key] / total
        bounds.append(upto)
    out = []
    for k in range(rows):
        position = (k + 0.5) / rows
        out.append(next((key for key, bound in zip(keys, bounds, strict=True) if position < bound), keys[-1]))
    return out


def time_of_day_quantiles(rows: int = 1000) -> list[tuple[int, float, float]]:
    """The inverse of the hour-of-day curve: row k holds the second of the day at quantile
    k/rows and at (k+1)/rows, so that a ticket's place within its day maps to its time."""
    total = sum(HOUR_WEIGHTS)
    cumulative = [0.0]
    for weight in HOUR_WEIGHTS:
        cumulative.append(cumulative[-1] + weight / total)

    def second_at(q: float) -> float:
        for hour in range(24):
            if q <= cumulative[hour + 1]:
                share = (q - cumulative[hour]) / (cumulative[hour + 1] - cumulative[hour])
                return (hour + share) * 3600
        return 86399.0

    return [(k, second_at(k / rows), second_at((k + 1) / rows)) for k in range(rows)]


async def _lookup_tables(conn: asyncpg.Connection) -> None:
    """The temporary tables history.sql draws from."""
    districts = {d.code: d for d in agencies.DISTRICTS}
    await conn.execute(
        "CREATE TEMP TABLE h_district (k int PRIMARY KEY, code text, name_zh text, lat float8, lon float8)"
    )
    await conn.copy_records_to_table(
        "h_district",
        records=[
            (k, code, districts[code].name_zh, districts[code].lat, districts[code].lon)
            for k, code in enumerate(spread({c: w for c, w in DISTRICT_WEIGHTS.items() if c in districts}))
        ],
    )
    await conn.execute(
        "CREATE TEMP TABLE h_category"
        " (k int PRIMARY KEY, code text, priority text, lead text, assist text, phrase text)"
    )
    categories = agencies.CATEGORIES
    await conn.copy_records_to_table(
        "h_category",
        records=[
            (
                k,
                code,
                categories[code].default_priority,
                categories[code].agency,
                (categories[code].typical_assisting or (None,))[0],
                PHRASES.get(code, categories[code].name_zh),
            )
            for k, code in enumerate(spread({c: w for c, w in CATEGORY_WEIGHTS.items() if c in categories}))
        ],
    )
    await conn.execute("CREATE TEMP TABLE h_channel (k int PRIMARY KEY, channel text)")
    await conn.copy_records_to_table("h_channel", records=list(enumerate(spread(CHANNEL_WEIGHTS))))
    await conn.execute("CREATE TEMP TABLE h_tod (k int PRIMARY KEY, lo float8, hi float8)")
    await conn.copy_records_to_table("h_tod", records=time_of_day_quantiles())
    await conn.execute(
        """
        CREATE TEMP TABLE h_desk AS
        SELECT a.code AS agency, d.code AS district,
               coalesce((SELECT dd.desk_id FROM desk_districts dd JOIN desks k ON k.id = dd.desk_id
                         WHERE k.agency = a.code AND dd.district = d.code ORDER BY dd.desk_id LIMIT 1),
                        (SELECT k.id FROM desks k WHERE k.agency = a.code AND k.city_level)) AS desk_id
        FROM agencies a CROSS JOIN districts d;
        CREATE TEMP TABLE h_service_level AS
        SELECT priority, ack_seconds, resolve_seconds FROM service_levels WHERE category IS NULL AND agency IS NULL;
        """
    )


# Loading ------------------------------------------------------------------------------------------


def share_of_day_by(moment: datetime) -> float:
    """The share of a day's calls made by ``moment``'s local time of day (the hour curve's CDF)."""
    local = moment.astimezone(LOCAL)
    hours = local.hour + local.minute / 60 + local.second / 3600
    total = sum(HOUR_WEIGHTS)
    whole = int(hours)
    return (sum(HOUR_WEIGHTS[:whole]) + (hours - whole) * HOUR_WEIGHTS[whole]) / total


def _statements(plan: HistoryPlan, base: int) -> list[str]:
    now = datetime.now(UTC)
    until = now - timedelta(minutes=5)
    same_day = until.astimezone(LOCAL).date() == now.astimezone(LOCAL).date()
    today_share = round(share_of_day_by(until), 6) if same_day else 0.0
    text = SQL.read_text(encoding="utf-8").format(
        tickets=plan.tickets, open=plan.open, days=plan.days, base=base, today_share=today_share
    )
    body = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [statement.strip() for statement in body.split(";") if statement.strip()]


async def load_history(dsn: str, plan: HistoryPlan, progress: Callable[[str], None]) -> dict[str, Any]:
    """Load ``plan`` into the (migrated) database at ``dsn``; return what was loaded and how fast.

    The secondary indexes of the history tables are dropped for the load and built again after
    it (as a restore does), the identity sequences moved past the loaded rows, and the tables
    vacuumed and analysed, so that the server reads a history as a live database holds it."""
    conn = await asyncpg.connect(dsn)
    try:
        if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM tickets)"):
            raise HistoryRefused(NOT_EMPTY)
        started = time.monotonic()
        await conn.execute("SET maintenance_work_mem = '1GB'; SET work_mem = '256MB'")
        await conn.execute("SELECT setseed($1)", plan.seed)
        # Foreign keys are checked by the loader's own joins; skipping their per-row triggers
        # is what pg_restore does too. Needs a superuser; without one the load is slower.
        if await conn.fetchval("SELECT rolsuper FROM pg_roles WHERE rolname = current_user"):
            await conn.execute("SET session_replication_role = replica")
        # One transaction: a load that fails leaves the database as it was, indexes and all.
        transaction = conn.transaction()
        await transaction.start()
        indexes = await conn.fetch(
            """
            SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
            FROM pg_index i
            WHERE i.indrelid = ANY($1::regclass[])
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
            """,
            list(HISTORY_TABLES),
        )
        for row in indexes:
            await conn.execute(f"DROP INDEX {row['name']}")
        await _lookup_tables(conn)
        timings: dict[str, float] = {}
        for statement in _statements(plan, base=0):
            label = statement.split("(")[0].split()[-1] if statement.startswith("INSERT") else statement.split()[3]
            progress(f"loading {label} …")
            at = time.monotonic()
            await conn.execute(statement)
            timings[label] = round(time.monotonic() - at, 1)
        load_s = time.monotonic() - started
        progress(f"building {len(indexes)} indexes …")
        at = time.monotonic()
        for row in indexes:
            await conn.execute(row["definition"])
        index_s = time.monotonic() - at
        await conn.execute("SET LOCAL session_replication_role = origin")
        for table in HISTORY_TABLES:
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'),"
                f" (SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
        await conn.execute("SELECT setval('ticket_number_seq', $1)", plan.tickets + 1)
        await transaction.commit()
        progress("vacuum analyze …")
        at = time.monotonic()
        for table in HISTORY_TABLES:
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        vacuum_s = time.monotonic() - at
        counts = await history_counts(conn)
    finally:
        await conn.close()
    total = load_s + index_s + vacuum_s
    return {
        **counts,
        "load_s": round(load_s, 1),
        "index_s": round(index_s, 1),
        "vacuum_s": round(vacuum_s, 1),
        "total_s": round(total, 1),
        "tickets_per_s": round(plan.tickets / total),
        "steps_s": timings,
    }


class HistoryRefused(Exception):
    """The database is not one to load a history into."""


NOT_EMPTY = "the database already holds tickets: give an empty one (or --history-measure-only)"


async def _refuse_unless_empty(conn: asyncpg.Connection) -> None:
    if await conn.fetchval("SELECT to_regclass('tickets') IS NOT NULL") and await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM tickets)"
    ):
        raise HistoryRefused(NOT_EMPTY)


async def history_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """Rows of each history table, and the open tickets."""
    counts = {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in HISTORY_TABLES}
    counts["open_tickets"] = await conn.fetchval(
        "SELECT count(*) FROM tickets WHERE status IN ('new', 'dispatched', 'acknowledged', 'in_progress')"
    )
    return counts


async def storage(conn: asyncpg.Connection) -> dict[str, Any]:
    """Bytes on disk per table (heap, TOAST and indexes: ``pg_total_relation_size``) and per ticket."""
    tickets = await conn.fetchval("SELECT count(*) FROM tickets")
    tables = {}
    for table in STORAGE_TABLES:
        row = await conn.fetchrow(
            "SELECT pg_total_relation_size($1::regclass) AS total, pg_indexes_size($1::regclass) AS indexes",
            table,
        )
        tables[table] = {"bytes": row["total"], "index_bytes": row["indexes"]}
    total = sum(t["bytes"] for t in tables.values())
    return {
        "tickets": tickets,
        "tables": tables,
        "total_bytes": total,
        "bytes_per_ticket": round(total / tickets) if tickets else None,
        "index_share": round(sum(t["index_bytes"] for t in tables.values()) / total, 3) if total else None,
        "database_bytes": await conn.fetchval("SELECT pg_database_size(current_database())"),
    }


# Measuring ------------------------------------------------------------------------------------------


def percentiles(seconds: list[float]) -> dict[str, float | None]:
    """p50, p95, p99 and max in milliseconds (nearest rank; None without data)."""
    if not seconds:
        return {"p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, max(0, int(q * len(ordered) + 0.999999) - 1))] * 1000, 1)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "max": round(ordered[-1] * 1000, 1)}


async def time_path(
    http: aiohttp.ClientSession, base: str, spec: PathSpec, requests: int, concurrency: int, rate: float | None
) -> dict[str, Any]:
    """``requests`` requests of ``spec``: offered at ``rate`` a second (open loop, as consoles
    refresh on their own clocks; None: back to back), at most ``concurrency`` in flight.
    Latency runs from when a request was due, so a queue in front of the server counts."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    items: list[int] = []
    slots = asyncio.Semaphore(concurrency)
    started = time.perf_counter()

    if rate:
        # A path offered a share of the rate gets that share of the requests too, so that
        # every path is timed over about the same wall time.
        rate *= spec.share
        requests = max(20, round(requests * spec.share))

    async def one(i: int) -> None:
        method, path, body, token = spec.make(i)
        headers = {"Authorization": f"Bearer {token}"}
        if method == "POST":
            headers["Idempotency-Key"] = f"history-{time.time_ns()}-{i}"
        due = started + i / rate if rate else time.perf_counter()
        await asyncio.sleep(max(0.0, due - time.perf_counter()))
        due = max(due, time.perf_counter()) if not rate else due
        async with slots:
            try:
                async with http.request(method, base + path, json=body, headers=headers) as response:
                    payload = await response.read()
                    elapsed = time.perf_counter() - due
                    if response.status >= 400:
                        errors[str(response.status)] = errors.get(str(response.status), 0) + 1
                        return
            except aiohttp.ClientError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                return
        latencies.append(elapsed)
        items.append(_item_count(payload))

    if rate:
        await asyncio.gather(*(one(i) for i in range(requests)))
    else:
        counter = iter(range(requests))

        async def client() -> None:
            for i in counter:
                await one(i)

        await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    figures = percentiles(latencies)
    return {
        "path": spec.name,
        "requests": requests,
        "offered_per_s": round(rate, 2) if rate else None,
        "ok": len(latencies),
        "errors": errors,
        "per_s": round(len(latencies) / wall, 1) if wall else None,
        "mean_items": round(sum(items) / len(items), 1) if items else 0,
        **figures,
        "target_p99_ms": spec.target_ms,
        "met": figures["p99"] is not None and figures["p99"] <= spec.target_ms and not errors,
    }


# How long a path waits for the queries of the one before it to finish.
SETTLE_SECONDS: Final = 120.0


async def settle(dsn: str, *, within: float = SETTLE_SECONDS) -> None:
    """Wait until no other session is running a query on the database (a path whose requests
    timed out leaves its queries running in PostgreSQL, and the next path would be timed
    beside them), at most ``within`` seconds."""
    began = time.perf_counter()
    conn = await asyncpg.connect(dsn)
    try:
        while time.perf_counter() - began < within:
            busy = await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            )
            if not busy:
                break
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def _item_count(payload: bytes) -> int:
    """How many things a response held: its items (list or ``items``), else 1."""
    with contextlib.suppress(ValueError):
        data = json.loads(payload)
        if isinstance(data, list):
            return len(data)
        if isinstance(data, dict) and isinstance(data.get("items"), list):
            return len(data["items"])
    return 1


async def _accounts(conn: asyncpg.Connection) -> dict[str, str]:
    """Tokens of the bench's users: a call-taker, a supervisor and a desk user per agency."""
    from dispatch.store.users import add_user, rotate_token

    tokens = {}
    wanted: list[tuple[str, str, str | None]] = [
        ("history-call-taker", "call_taker", None),
        ("history-supervisor", "supervisor", None),
    ]
    wanted += [(f"history-desk-{a}", "desk", a) for a in agencies.AGENCIES]
    for name, role, agency in wanted:
        token = await rotate_token(conn, name)
        if token is None:
            _, token = await add_user(conn, name, role, agency=agency)
        tokens[name.removeprefix("history-")] = token
    return tokens


@dataclass(frozen=True, slots=True)
class Samples:
    """Real values of the loaded history the requests ask about."""

    ticket_ids: dict[str, list[int]]  # per lead agency: tickets its desk opens
    phones: list[str]
    public: list[tuple[str, str]]  # (number, tracking token)
    numbers: list[str]
    addresses: list[str]


async def sample(conn: asyncpg.Connection, size: int) -> Samples:
    """A spread of tickets, callers and numbers from the whole history (TABLESAMPLE), plus open ones."""
    rows = await conn.fetch(
        """
        (SELECT t.id, t.number, t.tracking_token, t.caller_phone, t.address, a.agency
         FROM tickets t TABLESAMPLE SYSTEM (5) JOIN assignments a ON a.ticket_id = t.id AND a.role = 'lead'
         ORDER BY random() LIMIT $1)
        UNION ALL
        (SELECT t.id, t.number, t.tracking_token, t.caller_phone, t.address, a.agency
         FROM tickets t JOIN assignments a ON a.ticket_id = t.id AND a.role = 'lead'
         WHERE a.state IN ('dispatched', 'acknowledged', 'in_progress') ORDER BY t.id DESC LIMIT $1)
        """,
        size,
    )
    if not rows:
        raise HistoryRefused("the database holds no dispatched tickets to read")
    by_agency: dict[str, list[int]] = {}
    for row in rows:
        by_agency.setdefault(row["agency"], []).append(row["id"])
    return Samples(
        ticket_ids=by_agency,
        phones=[r["caller_phone"] for r in rows if r["caller_phone"]] or ["13000000000"],
        public=[(r["number"], r["tracking_token"]) for r in rows],
        numbers=[r["number"] for r in rows],
        addresses=[r["address"] for r in rows],
    )


def read_paths(tokens: dict[str, str], samples: Samples, seed: int = 7) -> list[PathSpec]:
    """The console reads and lookups, as the consoles and partners send them; a desk reads
    with its own agency's token."""
    pick = random.Random(seed)
    agency_list = sorted(samples.ticket_ids)
    sup, taker = tokens["supervisor"], tokens["call-taker"]

    def desk(i: int) -> tuple[str, str]:
        agency = agency_list[i % len(agency_list)]
        return agency, tokens[f"desk-{agency}"]

    def desk_list(i: int) -> Request:
        agency, token = desk(i)
        # As the desk console loads its open work: by its assignments, a page of 100.
        return "GET", f"/api/v1/tickets?agency={agency}&assignment_state=open&limit=100", None, token

    def detail(i: int) -> Request:
        agency, token = desk(i)
        return "GET", f"/api/v1/tickets/{pick.choice(samples.ticket_ids[agency])}", None, token

    def desk_map(i: int) -> Request:
        agency, token = desk(i)
        return "GET", f"/api/v1/stats/map?agency={agency}&items=200", None, token

    def caller(i: int) -> Request:
        return "GET", f"/api/v1/tickets?phone={quote(pick.choice(samples.phones))}&limit=10", None, taker

    def summary(i: int) -> Request:
        scope = "" if i % 2 == 0 else f"?agency={agency_list[i % len(agency_list)]}"
        return "GET", f"/api/v1/stats/summary{scope}", None, sup

    def fixed(path: str, token: str) -> Callable[[int], Request]:
        return lambda i: ("GET", path, None, token)

    def citizen(i: int) -> Request:
        number, token = pick.choice(samples.public)
        return "GET", f"/api/v1/public/tickets/{number}?token={token}", None, taker

    def open311(i: int) -> Request:
        variants = ("", f"?service_code={pick.choice(list(PHRASES))}", "?status=open")
        return "GET", f"/open311/v2/requests.json{variants[i % 3]}", None, taker

    def by_number(i: int) -> Request:
        return "GET", f"/api/v1/tickets?q={pick.choice(samples.numbers)}&limit=5", None, sup

    def by_address(i: int) -> Request:
        return "GET", f"/api/v1/tickets?q={quote(pick.choice(samples.addresses))}&limit=50", None, sup

    def by_text(i: int) -> Request:
        return "GET", f"/api/v1/tickets?q={quote(PHRASES[pick.choice(list(PHRASES))][:6])}&limit=50", None, sup

    return [
        PathSpec("desk list", CONSOLE_P99_MS, desk_list),
        PathSpec("desk detail", CONSOLE_P99_MS, detail),
        PathSpec("desk map", CONSOLE_P99_MS, desk_map),
        PathSpec("caller history", CONSOLE_P99_MS, caller),
        duplicate_check_path(taker),
        PathSpec("supervisor summary", SUMMARY_P99_MS, summary, 0.25),
        PathSpec("overdue list", CONSOLE_P99_MS, fixed("/api/v1/stats/overdue?limit=50", sup), 0.25),
        PathSpec("escalations open", CONSOLE_P99_MS, fixed("/api/v1/stats/escalations?limit=200", sup), 0.25),
        PathSpec(
            "time series (24 h by hour)", CONSOLE_P99_MS, fixed("/api/v1/stats/timeseries?bucket=hour", sup), 0.25
        ),
        PathSpec("map (view, 200 items)", CONSOLE_P99_MS, fixed("/api/v1/stats/map?items=200", sup), 0.25),
        PathSpec("citizen lookup", CONSOLE_P99_MS, citizen),
        PathSpec("Open311 requests list", CONSOLE_P99_MS, open311),
        PathSpec("search by number", CONSOLE_P99_MS, by_number),
        PathSpec("search by text (common)", CONSOLE_P99_MS, by_text),
        PathSpec("search by address (rare)", CONSOLE_P99_MS, by_address),
    ]


def duplicate_check_path(token: str, seed: int = 13) -> PathSpec:
    """The call-taker's duplicate check as the intake form asks while a call is typed, in
    every district."""
    pick = random.Random(seed)
    districts = [d.code for d in agencies.DISTRICTS]

    def duplicate(i: int) -> Request:
        code = pick.choice(list(PHRASES))
        body = {"text": PHRASES[code], "address": pick.choice(STREETS), "district": pick.choice(districts)}
        return "POST", "/api/v1/classify", body, token

    return PathSpec("duplicate check (classify)", CONSOLE_P99_MS, duplicate)


def create_path(token: str, seed: int = 11) -> PathSpec:
    """Ticket creation from the intake form (classification and duplicate search included)."""
    pick = random.Random(seed)

    def create(i: int) -> Request:
        code = pick.choice(list(PHRASES))
        district = pick.choice([d.code for d in agencies.DISTRICTS])
        body = {
            "channel": "phone",
            "description": PHRASES[code],
            "location": {"address": pick.choice(STREETS), "district": district},
            "caller": {"phone": f"139{pick.randrange(10**8):08d}"},
        }
        return "POST", "/api/v1/tickets", body, token

    return PathSpec("ticket creation", CONSOLE_P99_MS, create)


# The server under test -----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def serving(dsn: str, redis_url: str, workers: int, pool: int) -> Iterator[str]:
    """A ``dispatch serve`` on ``dsn`` on a free loopback port; yields its base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "DISPATCH_DATABASE_URL": dsn,
        "DISPATCH_REDIS_URL": redis_url,
        "DISPATCH_PORT": str(port),
        "DISPATCH_HOST": "127.0.0.1",
        "DISPATCH_LOG_LEVEL": "warning",
        "DISPATCH_DB_POOL_MIN": str(pool),
        # Every bench client comes from 127.0.0.1; a real centre's citizens and partners do not.
        "DISPATCH_PUBLIC_RATE_LIMIT": "1000000/minute",
        "DISPATCH_OPEN311_RATE_LIMIT": "1000000/minute",
    }
    server = subprocess.Popen([sys.executable, "-m", "dispatch", "serve", "--workers", str(workers)], env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        asyncio.run(_wait_ready(base, server))
        yield base
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


async def _wait_ready(base: str, server: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(1200):
            if server.poll() is not None:
                raise HistoryRefused(f"the server under test exited with {server.returncode}")
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(base + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise HistoryRefused("the server under test did not become ready in 120 s")


def time_report(dsn: str, runs: int) -> dict[str, Any]:
    """Wall seconds of ``dispatch report`` for the last whole month, as an operator runs it."""
    today = datetime.now(LOCAL).date()
    last = today.replace(day=1) - timedelta(days=1)
    first = last.replace(day=1)
    seconds = []
    with tempfile.TemporaryDirectory() as folder:
        output = Path(folder) / "report.xlsx"
        for _ in range(runs):
            at = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "dispatch", "report", "--from", str(first), "--to", str(last),
                 "--output", str(output)],
                env={**os.environ, "DISPATCH_DATABASE_URL": dsn, "DISPATCH_LOG_LEVEL": "warning"},
                capture_output=True,
                check=False,
            )  # fmt: skip
            if done.returncode != 0:
                raise HistoryRefused("dispatch report failed: " + done.stderr.decode(errors="replace")[-500:])
            seconds.append(time.perf_counter() - at)
        size = output.stat().st_size
    return {
        "path": "monthly report (xlsx)",
        "period": f"{first}..{last}",
        "runs": runs,
        "seconds": [round(s, 2) for s in seconds],
        "max_s": round(max(seconds), 2),
        "bytes": size,
        "target_s": REPORT_S,
        "met": max(seconds) <= REPORT_S,
    }


# The whole mode --------------------------------------------------------------------------------------


def _with_database(dsn: str, name: str) -> str:
    """``dsn`` naming database ``name`` instead (the query, e.g. a socket ``host``, kept)."""
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{name}"))


async def _run(conn_dsn: str, job: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    conn = await asyncpg.connect(conn_dsn)
    try:
        return await job(conn)
    finally:
        await conn.close()


def run_history_bench(
    *,
    dsn: str,
    redis_url: str,
    plan: HistoryPlan | None,
    requests: int,
    concurrency: int,
    rate: float | None,
    report_runs: int,
    server_workers: int,
    progress: Callable[[str], None],
) -> dict[str, Any]:
    """Load ``plan`` (None: measure the history already there), then measure; the summary."""
    from dispatch.runtime.server import prepare_database

    if plan:  # before migrating: a database in use is left exactly as it was
        asyncio.run(_run(dsn, _refuse_unless_empty))
    asyncio.run(prepare_database(dsn))
    loaded = asyncio.run(load_history(dsn, plan, progress)) if plan else None
    if plan is None:
        asyncio.run(_run(dsn, lambda conn: conn.execute("ANALYZE")))
    counts = asyncio.run(_run(dsn, history_counts))
    tokens = asyncio.run(_run(dsn, _accounts))
    samples = asyncio.run(_run(dsn, lambda conn: sample(conn, 500)))
    pool = min(concurrency + 2, 20)
    paths: list[dict[str, Any]] = []
    with serving(dsn, redis_url, server_workers, pool) as base:

        async def measure() -> None:
            connector = aiohttp.TCPConnector(limit=concurrency)
            async with aiohttp.ClientSession(connector=connector) as http:
                for spec in read_paths(tokens, samples):
                    progress(f"timing {spec.name} …")
                    await settle(dsn)
                    await time_path(http, base, spec, 5, 1, None)  # warm: plans cached, pages in memory
                    paths.append(await time_path(http, base, spec, requests, concurrency, rate))
                progress("timing ticket creation …")
                await settle(dsn)
                paths.append(
                    await time_path(http, base, create_path(tokens["call-taker"]), requests, concurrency, rate)
                )

        asyncio.run(measure())
    progress("timing the monthly report …")
    report = time_report(dsn, report_runs)
    history_create = paths[-1]
    open_plan = asyncio.run(_run(dsn, lambda conn: open_work_plan(conn, counts)))
    # (key in the summary, its ratio's key, the baseline database's plan)
    baselines: list[tuple[str, str, HistoryPlan | None]] = [("empty_database", "empty", None)]
    if open_plan is not None:
        baselines.append(("open_work_only", "open_work_only", open_plan))
    for key, ratio, baseline in baselines:
        what = "an empty database" if baseline is None else f"the open work alone ({baseline.tickets:,} tickets)"
        progress(f"timing ticket creation on {what} …")
        other = _baseline_creation(
            dsn, _next_redis_db(redis_url), baseline, requests, concurrency, rate, server_workers, pool
        )
        history_create[f"{key}_p99"], history_create[f"{key}_p50"] = other["p99"], other["p50"]
        history_create[f"ratio_p99_to_{ratio}"] = (
            round(history_create["p99"] / other["p99"], 2) if history_create["p99"] and other["p99"] else None
        )
    figures = asyncio.run(_run(dsn, storage))
    return {
        "plan": None if plan is None else {"tickets": plan.tickets, "open": plan.open, "years": plan.years},
        "loaded": loaded,
        "counts": counts,
        "requests_per_path": requests,
        "concurrency": concurrency,
        "rate_per_s": rate,
        "server_workers": server_workers,
        "paths": paths,
        "report": report,
        "storage": figures,
        "machine": {"cores": os.cpu_count(), "memory_gib": _memory_gib()},
    }


def _next_redis_db(url: str) -> str:
    """The same Redis, next database number: the empty database's server must not meet the
    history's streams (its relay would find them ahead of its outbox)."""
    parts = urlsplit(url)
    number = parts.path.strip("/")
    return urlunsplit(parts._replace(path=f"/{int(number) + 1 if number.isdigit() else 1}"))


async def open_work_plan(conn: asyncpg.Connection, counts: dict[str, int]) -> HistoryPlan | None:
    """A plan of only the history's open tickets, over the days they span at the history's rate
    (the newest tickets are the open ones): a new call meets the same open work to compare
    itself with for duplicates, without the years behind it. None when nothing is open."""
    if not counts["open_tickets"] or not counts["tickets"]:
        return None
    span_days = await conn.fetchval("SELECT extract(epoch FROM max(created_at) - min(created_at)) / 86400 FROM tickets")
    share = counts["open_tickets"] / counts["tickets"]
    return HistoryPlan(
        tickets=counts["open_tickets"], open=counts["open_tickets"], years=max(float(span_days) * share, 1) / 365
    )


def _baseline_creation(
    dsn: str,
    redis_url: str,
    plan: HistoryPlan | None,
    requests: int,
    concurrency: int,
    rate: float | None,
    workers: int,
    pool: int,
) -> dict[str, Any]:
    """The same creation benchmark on a fresh database beside the history's, dropped after:
    empty, or holding ``plan`` (the history's open work alone)."""
    from dispatch.runtime.server import prepare_database

    name = f"history_baseline_{os.getpid()}"
    asyncio.run(_run(dsn, lambda conn: conn.execute(f'CREATE DATABASE "{name}"')))
    baseline_dsn = _with_database(dsn, name)
    try:
        asyncio.run(prepare_database(baseline_dsn))
        if plan is not None:
            asyncio.run(load_history(baseline_dsn, plan, lambda _: None))
        tokens = asyncio.run(_run(baseline_dsn, _accounts))
        with serving(baseline_dsn, redis_url, workers, pool) as base:

            async def measure() -> dict[str, Any]:
                async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:
                    # Warmed as the history's server is by the time it creates: the duplicate
                    # checks before have kept the facts of the open tickets near each call.
                    await time_path(http, base, duplicate_check_path(tokens["call-taker"]), requests, concurrency, rate)
                    spec = create_path(tokens["call-taker"])
                    await time_path(http, base, spec, 5, 1, None)
                    return await time_path(http, base, spec, requests, concurrency, rate)

            return asyncio.run(measure())
    finally:
        asyncio.run(_run(dsn, lambda conn: conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


def _memory_gib() -> float | None:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 2**20, 1)
    return None


def format_history(summary: dict[str, Any]) -> str:
    """The summary as the table the command prints."""
    lines = []
    counts = summary["counts"]
    lines.append(
        f"history    {counts['tickets']:,} tickets ({counts['open_tickets']:,} open), {counts['assignments']:,} "
        f"assignments, {counts['events']:,} events, {counts['feedback']:,} feedback, "
        f"{counts['escalations']:,} escalations"
    )
    if summary["loaded"]:
        loaded = summary["loaded"]
        lines.append(
            f"loaded in  {loaded['total_s']} s (insert {loaded['load_s']} s, indexes {loaded['index_s']} s, "
            f"vacuum {loaded['vacuum_s']} s): {loaded['tickets_per_s']:,} tickets/s"
        )
    lines.append(
        f"clients    {summary['rate_per_s'] or 'back-to-back'} requests/s offered, at most {summary['concurrency']} in "
        f"flight, {summary['requests_per_path']} requests per path, "
        f"server {summary['server_workers']} worker(s)"
    )
    lines.append("")
    lines.append(f"{'path':<30}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'max ms':>9}{'target':>9}  {'items':>6}  met")
    for p in summary["paths"]:
        errors = f"  errors {p['errors']}" if p["errors"] else ""
        lines.append(
            f"{p['path']:<30}{_num(p['p50']):>9}{_num(p['p95']):>9}{_num(p['p99']):>9}{_num(p['max']):>9}"
            f"{p['target_p99_ms']:>9.0f}  {p['mean_items']:>6}  {'yes' if p['met'] else 'NO'}{errors}"
        )
    create = summary["paths"][-1]
    lines.append(
        f"{'  on an empty database':<30}{_num(create['empty_database_p50']):>9}{'':>9}"
        f"{_num(create['empty_database_p99']):>9}   p99 ratio history/empty {create['ratio_p99_to_empty']}"
    )
    lines.append(
        f"{'  on the open work alone':<30}{_num(create.get('open_work_only_p50')):>9}{'':>9}"
        f"{_num(create.get('open_work_only_p99')):>9}   p99 ratio history/open work alone "
        f"{create.get('ratio_p99_to_open_work_only')}"
    )
    report = summary["report"]
    lines.append(
        f"{report['path']:<30} {report['period']}: {report['seconds']} s (target {report['target_s']:.0f} s)"
        f"  {'yes' if report['met'] else 'NO'}"
    )
    lines.append("")
    figures = summary["storage"]
    for table, sizes in figures["tables"].items():
        lines.append(
            f"{table:<14}{sizes['bytes'] / 2**20:>12.1f} MiB  (indexes {sizes['index_bytes'] / 2**20:.1f} MiB)"
        )
    lines.append(
        f"{'per ticket':<14}{figures['bytes_per_ticket'] or 0:>12,} bytes with its assignments, events, feedback "
        f"and indexes (indexes {100 * (figures['index_share'] or 0):.0f} %)"
    )
    return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def history_main(
    *,
    dsn: str,
    redis_url: str,
    plan: HistoryPlan | None,
    requests: int,
    concurrency: int,
    rate: float | None,
    report_runs: int,
    server_workers: int,
    as_json: bool,
) -> int:
    """The command: run, print the table (or JSON); 1 when a target is missed, 2 when refused."""

    def progress(message: str) -> None:
        print(f"{datetime.now(UTC):%H:%M:%S} {message}", file=sys.stderr, flush=True)

    try:
        summary = run_history_bench(
            dsn=dsn,
            redis_url=redis_url,
            plan=plan,
            requests=requests,
            concurrency=concurrency,
            rate=rate,
            report_runs=report_runs,
            server_workers=server_workers,
            progress=progress,
        )
    except HistoryRefused as exc:
        print(f"dispatch bench: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(summary, ensure_ascii=False, default=str) if as_json else format_history(summary))
    missed = [p for p in summary["paths"] if not p["met"]] + ([] if summary["report"]["met"] else [1])
    return 1 if missed else 0
