"""``dispatch bench``: drive a server with real HTTP and websocket clients and measure it.

It holds one desk websocket per agency, creates tickets as fast as allowed (``--concurrency``
requests in flight) or at a fixed offered rate (``--rate``), and reports tickets/s accepted,
create latency and creation-to-desk delivery latency (from sending the create request to the
lead desk receiving ``assignment.created``), errors by kind, and the server's CPU and memory
when it started the server itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import json
import math
import os
import random
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import websockets

import agencies

SAMPLE_REQUESTS = [
    "超市门口有两个人打架，其中一人头破血流",
    "俺家电动车在楼下被偷了",
    "接到电话说我涉嫌洗钱，让我转账到安全账户",
    "老人有老年痴呆，早上出门到现在还没回来",
    "邻居装修天天吵，说了也不听，吵起来了",
    "楼下烧烤摊半夜还在喝酒划拳",
    "两辆车追尾了，有人受伤流血",
    "十字路口的红绿灯坏了，一直闪黄灯",
    "路中间有个大坑，电动车都摔倒了",
    "有辆货车违停把路堵死了",
    "出租车司机绕路还不打表",
    "家里老人突然晕倒了，叫不醒",
    "吃了食堂的饭好多同事上吐下泻",
    "小区里好几个人发烧咳嗽",
    "医院排队三个小时医生态度很差",
    "我们这条街路灯一个星期都不亮",
    "垃圾好几天没人清运，臭死了",
    "学校门口有流动摊贩占道",
    "楼顶有人私搭乱建彩钢房",
    "人行道上的井盖不见了",
    "工地晚上十二点还在打桩",
    "我们小区停水一整天了",
    "三楼厨房着火了，冒黑烟",
    "楼道里一股很浓的煤气味",
    "一辆危化品罐车侧翻在路上漏液",
    "下暴雨地下车库进水了",
    "老房子墙塌了，下面可能有人",
    "工厂里的灭火器都过期了，安全通道被堵",
]
ADDRESSES = ["驿城区解放路", "西平县柏城街道", "汝南县汝宁街道", "遂平县车站街道", "确山县盘龙街道", "新蔡县古吕街道"]


def percentiles(values: list[float]) -> dict[str, float | None]:
    """p50, p90, p99 and max in milliseconds (None without data)."""
    if not values:
        return {"p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": round(ordered[-1] * 1000, 2)}


@dataclass
class Results:
    started: float = 0.0
    finished: float = 0.0
    accepted: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    create_latency: list[float] = field(default_factory=list)
    sent_at: dict[int, float] = field(default_factory=dict)
    received_at: dict[int, float] = field(default_factory=dict)
    # Agencies whose desks listen; a ticket led by another agency has nobody to reach.
    watched: frozenset[str] = frozenset()
    unwatched: int = 0

    @property
    def delivered(self) -> set[int]:
        return self.sent_at.keys() & self.received_at.keys()

    @property
    def delivery_latency(self) -> list[float]:
        return [self.received_at[t] - self.sent_at[t] for t in self.delivered]

    server: dict[str, Any] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        duration = max(self.finished - self.started, 1e-9)
        return {
            "tickets": self.accepted,
            "duration_s": round(duration, 2),
            "tickets_per_s": round(self.accepted / duration, 1),
            "create_latency_ms": percentiles(self.create_latency),
            "delivery_latency_ms": percentiles(self.delivery_latency),
            "delivered": len(self.delivered),
            "undelivered": self.accepted - self.unwatched - len(self.delivered),
            "unwatched": self.unwatched,
            "errors": dict(self.errors),
            "server": self.server,
        }


async def _desk_listener(url: str, token: str, results: Results, stop: asyncio.Event) -> None:
    ws_url = url.replace("http://", "ws://", 1) + f"/api/v1/stream?token={token}"
    async with websockets.connect(ws_url, max_size=2**26) as ws:
        # Closed from here when the run is over; until then every message is read as it comes,
        # with no timer armed per message (the load generator's CPU is part of the machine's).
        closer = asyncio.create_task(_close_when(stop, ws))
        try:
            async for raw in ws:
                now = time.perf_counter()
                message = orjson.loads(raw)
                for event in message if isinstance(message, list) else [message]:
                    if (
                        event.get("type") != "assignment.created"
                        or (event.get("assignment") or {}).get("role") != "lead"
                    ):
                        continue
                    # The event may arrive before the 201 does: match the two at the end.
                    results.received_at.setdefault(event["ticket"]["id"], now)
        except websockets.ConnectionClosed as exc:
            results.errors[f"desk_disconnected_{exc.rcvd.code if exc.rcvd else 'abnormal'}"] += 1
            return
        finally:
            closer.cancel()
        if not stop.is_set():  # the server closed it cleanly, mid-run
            results.errors[f"desk_disconnected_{ws.close_code}"] += 1


async def _close_when(stop: asyncio.Event, ws: websockets.ClientConnection) -> None:
    await stop.wait()
    await ws.close()


async def _create_one(http: aiohttp.ClientSession, url: str, token: str, results: Results, index: int) -> None:
    body = {
        "description": random.choice(SAMPLE_REQUESTS),
        "channel": "phone",
        "caller": {"phone": f"13{random.randint(100000000, 999999999)}"},
        "location": {"address": random.choice(ADDRESSES)},
    }
    sent = time.perf_counter()
    try:
        async with http.post(
            f"{url}/api/v1/tickets",
            data=orjson.dumps(body),
            headers={
                "Authorization": f"Bearer {token}",
                "Content-Type": "application/json",
                "Idempotency-Key": f"bench-{os.getpid()}-{index}-{sent}",
            },
        ) as response:
            payload = orjson.loads(await response.read())
            done = time.perf_counter()
            if response.status == 201:
                results.accepted += 1
                results.create_latency.append(done - sent)
                lead = next((a["agency"] for a in payload["assignments"] if a["role"] == "lead"), None)
                if lead in results.watched:
                    results.sent_at[payload["id"]] = sent
                else:
                    results.unwatched += 1
            else:
                results.errors[f"http_{response.status}_{payload.get('error', {}).get('code', '')}"] += 1
    except (aiohttp.ClientError, TimeoutError) as exc:
        results.errors[type(exc).__name__] += 1


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Keep the load generator's garbage collector off while timing: its pauses, growing with
    the results it holds, would be counted as the server's latency."""
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


async def drive(
    url: str,
    call_taker_token: str,
    desk_tokens: dict[str, str],
    *,
    tickets: int,
    concurrency: int,
    rate: float | None,
    progress: bool,
    duration: float | None = None,
) -> Results:
    """Create ``tickets`` tickets, or create for ``duration`` seconds, and measure; desks
    listen for their assignments."""
    if duration is not None and rate:
        tickets = max(1, round(rate * duration))
    with collector_paused():
        results = Results(watched=frozenset(desk_tokens))
        stop = asyncio.Event()
        listeners = [asyncio.create_task(_desk_listener(url, token, results, stop)) for token in desk_tokens.values()]
        await asyncio.sleep(0.5)  # the desks are connected before the first ticket
        connector = aiohttp.TCPConnector(limit=concurrency)
        bar = None
        if progress and sys.stderr.isatty():
            from tqdm import tqdm

            bar = tqdm(total=None if duration is not None and not rate else tickets, unit="ticket", file=sys.stderr)
        async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as http:
            results.started = time.perf_counter()
            if rate:
                tasks = []
                for index in range(tickets):
                    target = results.started + index / rate
                    delay = target - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    tasks.append(asyncio.create_task(_create_one(http, url, call_taker_token, results, index)))
                    if bar:
                        bar.update(1)
                await asyncio.gather(*tasks)
            else:
                numbers = itertools.count()
                end = results.started + duration if duration is not None else math.inf

                async def worker() -> None:
                    while (index := next(numbers)) < tickets or duration is not None:
                        if time.perf_counter() >= end:
                            return
                        await _create_one(http, url, call_taker_token, results, index)
                        if bar:
                            bar.update(1)

                await asyncio.gather(*(worker() for _ in range(concurrency)))
            results.finished = time.perf_counter()
        if bar:
            bar.close()
        deadline = time.perf_counter() + 10
        # The desks' listeners fill ``received_at`` in other tasks: poll until all arrived.
        while len(results.delivered) < results.accepted and time.perf_counter() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        stop.set()
        for listener in listeners:
            with contextlib.suppress(Exception):
                await listener
        return results


PGBENCH_TABLE = """
CREATE TABLE IF NOT EXISTS bench_insert (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, number text, description text, address text,
    priority text, created_at timestamptz DEFAULT now()
)
"""
PGBENCH_SCRIPT = (
    "INSERT INTO bench_insert (number, description, address, priority) "
    "VALUES ('MS20261124-000001', '超市门口有两个人打架，其中一人头破血流', '驿城区交通路', 'P1');\n"
)


def pgbench_peers(dsn: str, clients: int, tickets_per_s: float) -> dict[str, float | None]:
    """PostgreSQL's own rates beside the service's, with the same clients, and the service's
    tickets/s as a ratio of each: the ticket write itself (the limit the database sets) and a
    single-row INSERT (the simplest durable write)."""
    write = pgbench_ticket_write_rate(dsn, clients)
    insert = pgbench_insert_rate(dsn, clients)
    return {
        "pgbench_ticket_write_per_s": round(write, 1) if write else None,
        "ratio_to_ticket_write": round(tickets_per_s / write, 4) if write else None,
        "pgbench_insert_per_s": round(insert, 1) if insert else None,
        "ratio_to_pgbench": round(tickets_per_s / insert, 4) if insert else None,
    }


def pgbench_insert_rate(dsn: str, clients: int, seconds: int = 5) -> float | None:
    """The database's own single-row INSERT rate (pgbench, a comparable row, the same number
    of clients), or None when pgbench is not installed or the DSN is not a TCP one."""
    return _pgbench(dsn, clients, seconds, PGBENCH_SCRIPT, setup=PGBENCH_TABLE)


def pgbench_ticket_write_rate(dsn: str, clients: int, seconds: int = 5) -> float | None:
    """PostgreSQL's own rate for the service's ticket write: the very statement
    ``store.new_tickets.insert_ticket`` sends for a ticket like the bench's (the ticket, a lead
    and an assisting assignment, their events and outbox rows, the text-message trigger, and
    the duplicate candidates read in the same statement), run by pgbench with the same number
    of clients against the same database, each transaction committed. None when pgbench is
    not installed or the DSN is not a TCP one. Its tickets are deleted afterwards."""
    script, token = asyncio.run(ticket_write_script(dsn))
    try:
        # Prepared, as asyncpg sends the service's statements: planned once per connection.
        return _pgbench(dsn, clients, seconds, script, protocol="prepared")
    finally:
        asyncio.run(remove_ticket_writes(dsn, token))


async def remove_ticket_writes(dsn: str, token: str) -> int:
    """Delete the tickets the pgbench script wrote (they all carry its tracking token) with
    their rows, as ``dispatch archive delete`` deletes a month; how many went."""
    from dispatch.archive.tables import TABLES
    from dispatch.runtime.db import connect

    conn = await connect(dsn)
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL dispatch.archiving = 'on'")
            ids = "(SELECT id FROM tickets WHERE tracking_token = $1)"
            status = "DELETE 0"
            for table in reversed(TABLES):
                status = await conn.execute(f"DELETE FROM {table.name} WHERE {table.where(ids)}", token)
            return int(status.split()[-1])
    finally:
        await conn.close()


async def ticket_write_script(dsn: str) -> tuple[str, str]:
    """A pgbench script of one ticket write, as the service writes one (see above), filed by
    the database's first call-taker (a bench user) to its desks for 驿城区; and the tracking
    token every ticket it writes carries."""
    from dispatch.runtime.db import connect
    from dispatch.store.duplicates import CandidateSearch
    from dispatch.store.new_tickets import AssignmentRecord, TicketRecord, _statement
    from dispatch.store.users import Principal

    conn = await connect(dsn)
    try:
        user = await conn.fetchrow(
            "SELECT id, name, role, agency, district, desk_id FROM users WHERE role = 'call_taker' ORDER BY id LIMIT 1"
        )
        desks = {
            r["agency"]: r["id"]
            for r in await conn.fetch(
                """
                SELECT DISTINCT ON (d.agency) d.agency, d.id FROM desks d
                LEFT JOIN desk_districts dd ON dd.desk_id = d.id AND dd.district = 'yicheng'
                ORDER BY d.agency, dd.desk_id IS NULL, d.id
                """
            )
        }
    finally:
        await conn.close()
    if user is None:
        raise RuntimeError("the database has no call-taker to file the pgbench tickets")
    principal = Principal(**dict(user))
    ticket = TicketRecord(
        description=SAMPLE_REQUESTS[0],
        channel="phone",
        address="驿城区交通路永辉超市门口",
        caller_phone="+8613800000000",
        caller_name="李先生",
        no_phone_reason=None,
        district="yicheng",
        lat=32.98,
        lon=114.02,
        category="police.violence",
        priority="P1",
        classification={"category": "police.violence", "priority": "P1", "confidence": 0.9, "agencies": ["police"]},
        facts={},
        status="dispatched",
    )
    assignments = [
        AssignmentRecord("police", "lead", desks.get("police")),
        AssignmentRecord("health", "assist", desks.get("health")),
    ]
    created = {
        "category": "police.violence",
        "priority": "P1",
        "channel": "phone",
        "agencies": ["police", "health"],
        "district": "yicheng",
    }
    search = CandidateSearch.around("police.violence", "yicheng", 32.98, 114.02)
    sql, values = _statement(principal, ticket, assignments, created, [], None, None, search)
    token = values[3]  # the fourth parameter: category, priority, actor, then the tracking token
    if not (isinstance(token, str) and len(token) >= 16):
        raise RuntimeError("the ticket write's parameters changed order: find its tracking token anew")
    return inline_parameters(sql, values).strip() + ";\n", token


def inline_parameters(sql: str, values: list[Any]) -> str:
    """``sql`` with each ``$N`` replaced by ``values[N - 1]`` as an SQL literal (a pgbench script
    sends text only); PostgreSQL types each literal from where it stands, as it types the
    parameter there."""
    return re.sub(r"\$(\d+)", lambda m: _literal(values[int(m.group(1)) - 1]), sql)


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        quoted = "'" + value.replace("'", "''") + "'"
        if re.search(r":\w", value):
            # pgbench reads ``:name`` as one of its variables, even inside a string (the actor
            # ``call_taker:NAME``): such a colon goes in a literal of its own. Text only.
            quoted = "(" + re.sub(r":(?=\w)", "' || ':' || '", quoted) + ")"
        return quoted
    if isinstance(value, bytes):
        return f"'\\x{value.hex()}'::bytea"
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return "ARRAY[" + ", ".join(_literal(v) for v in value) + "]::text[]" if value else "'{}'::text[]"
    return _literal(json.dumps(value, ensure_ascii=False))


def _pgbench(
    dsn: str, clients: int, seconds: int, script_text: str, *, setup: str | None = None, protocol: str = "simple"
) -> float | None:
    """Transactions a second of ``script_text`` run by pgbench (after ``setup`` by psql)."""
    import shutil
    import tempfile
    from urllib.parse import urlsplit

    binary, psql = shutil.which("pgbench"), shutil.which("psql")
    parts = urlsplit(dsn)
    if binary is None or psql is None or not parts.hostname:
        return None
    where = ["-h", parts.hostname, "-p", str(parts.port or 5432), "-U", parts.username or "postgres"]
    database = parts.path.lstrip("/") or "postgres"
    env = {**os.environ, "PGPASSWORD": parts.password or ""}
    if setup:
        subprocess.run([psql, "-q", *where, "-d", database, "-c", setup], env=env, check=True, capture_output=True)
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False, encoding="utf-8") as script:
        script.write(script_text)
    options = ["-n", "-c", str(clients), "-j", "2", "-T", str(seconds), "-M", protocol, "-f", script.name]
    result = subprocess.run(
        [binary, *where, *options, database],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    Path(script.name).unlink(missing_ok=True)
    match = re.search(r"tps = ([0-9.]+)", result.stdout)
    failed = re.search(r"number of failed transactions: ([1-9][0-9]*)", result.stdout)
    if match is None or failed or result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"exit {result.returncode}"])[-1]
        print(f"pgbench did not run to the end, no peer figure: {reason}", file=sys.stderr)
        return None
    return float(match.group(1))


def _process_tree(pid: int) -> list[int]:
    pids = [pid]
    for task in Path(f"/proc/{pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for child in children:
            pids += _process_tree(int(child))
    return pids


def _stat_fields(pid: int | str) -> list[str]:
    # /proc/PID/stat: fields after the command name, which may itself hold spaces and ")".
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _process_usage(pid: int) -> tuple[float, int]:
    """CPU seconds and resident bytes of a process and its children (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu, rss = 0.0, 0
    for member in _process_tree(pid):
        with contextlib.suppress(OSError):
            fields = _stat_fields(member)
            cpu += (int(fields[11]) + int(fields[12])) / ticks
            rss += int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    return cpu, rss


# Processes of the services beside the server, by command name, for the CPU breakdown.
SERVICE_COMMANDS = {"postgres": "postgresql", "redis-server": "redis", "valkey-server": "redis"}


@dataclass(frozen=True, slots=True)
class MachineSample:
    """CPU seconds used so far: the whole machine (busy, total) and by part."""

    busy_s: float
    total_s: float
    parts: dict[str, float]


def sample_machine(server_pid: int) -> MachineSample:
    """Where the machine's CPU went so far (Linux /proc; 0 for parts on other machines)."""
    ticks = os.sysconf("SC_CLK_TCK")
    cpu_line = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    jiffies = [int(v) for v in cpu_line[:8]]  # user nice system idle iowait irq softirq steal
    idle = jiffies[3] + jiffies[4]
    own = _stat_fields("self")
    parts = {
        "server": _process_usage(server_pid)[0],
        "load generator": (int(own[11]) + int(own[12])) / ticks,
        "postgresql": 0.0,
        "redis": 0.0,
    }
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            part = SERVICE_COMMANDS.get((entry / "comm").read_text().strip())
            if part:
                fields = _stat_fields(entry.name)
                parts[part] += (int(fields[11]) + int(fields[12])) / ticks
    return MachineSample((sum(jiffies) - idle) / ticks, sum(jiffies) / ticks, parts)


def cpu_breakdown(before: MachineSample, after: MachineSample, tickets: int) -> dict[str, Any]:
    """CPU milliseconds per accepted ticket by part, and how busy the machine was.

    A load generator that is not the bottleneck uses a small share while the machine is
    busy; an idle machine means the limit is elsewhere (locks, fsync, latency).
    """
    per_ticket = {
        name: round(1000 * (after.parts[name] - before.parts[name]) / max(tickets, 1), 3) for name in after.parts
    }
    total = after.total_s - before.total_s
    return {
        "cpu_ms_per_ticket": per_ticket,
        "machine_busy_percent": round(100 * (after.busy_s - before.busy_s) / total, 1) if total else None,
        "cores": os.cpu_count(),
    }


async def _bench_accounts(dsn: str) -> tuple[str, dict[str, str]]:
    from dispatch.runtime.db import connect
    from dispatch.store.users import add_user, rotate_token

    conn = await connect(dsn)
    try:
        tokens: dict[str, str] = {}
        for name, role, agency in [("bench-call-taker", "call_taker", None)] + [
            (f"bench-desk-{code}", "desk", code) for code in agencies.AGENCIES
        ]:
            token = await rotate_token(conn, name)
            if token is None:
                _, token = await add_user(conn, name, role, agency=agency)
            tokens[name] = token
        return tokens.pop("bench-call-taker"), {name.removeprefix("bench-desk-"): t for name, t in tokens.items()}
    finally:
        await conn.close()


async def _bench_supervisor(dsn: str) -> str:
    from dispatch.runtime.db import connect
    from dispatch.store.users import add_user, rotate_token

    conn = await connect(dsn)
    try:
        token = await rotate_token(conn, "bench-supervisor")
        if token is None:
            _, token = await add_user(conn, "bench-supervisor", "supervisor")
        return token
    finally:
        await conn.close()


def format_table(summary: dict[str, Any]) -> str:
    """The human-readable report."""
    lines = [
        f"tickets accepted      {summary['tickets']} in {summary['duration_s']} s"
        f" = {summary['tickets_per_s']} tickets/s",
        "                      p50      p90      p99      max   (ms)",
    ]
    for label, key in (("create latency", "create_latency_ms"), ("create → desk", "delivery_latency_ms")):
        v = summary[key]
        cells = "".join(f"{(v[k] if v[k] is not None else '-'):>9}" for k in ("p50", "p90", "p99", "max"))
        lines.append(f"{label:<20}{cells}")
    unwatched = f", {summary['unwatched']} led by agencies with no desk token given" if summary["unwatched"] else ""
    lines.append(f"delivered to desks    {summary['delivered']} (missing {summary['undelivered']}{unwatched})")
    lines.append(f"errors                {summary['errors'] or 'none'}")
    if summary["server"]:
        s = summary["server"]
        lines.append(
            f"server                {s['workers']} worker(s): cpu {s['cpu_s']} s "
            f"({s['cpu_percent']}% of one core), rss {s['rss_mib']} MiB"
        )
        if s.get("cpu_ms_per_ticket"):
            parts = ", ".join(f"{name} {ms}" for name, ms in s["cpu_ms_per_ticket"].items())
            lines.append(
                f"cpu per ticket (ms)   {parts}; machine {s['machine_busy_percent']}% busy of {s['cores']} cores"
            )
        if s.get("pgbench_ticket_write_per_s"):
            lines.append(
                f"pgbench ticket write  {s['pgbench_ticket_write_per_s']}/s, the same statement, same clients; "
                f"tickets are {100 * s['ratio_to_ticket_write']:.1f}% of it"
            )
        if s.get("pgbench_insert_per_s"):
            lines.append(
                f"pgbench INSERT       {s['pgbench_insert_per_s']}/s, same clients; "
                f"tickets are {100 * s['ratio_to_pgbench']:.1f}% of it"
            )
    return "\n".join(lines)


def run_bench(
    *,
    url: str | None,
    call_taker_token: str | None,
    desk_tokens: dict[str, str],
    tickets: int,
    concurrency: int,
    rate: float | None,
    as_json: bool,
    server_workers: int = 1,
    resume_events: int | None = None,
    fanout_clients: int | None = None,
    duration: float | None = None,
) -> int:
    """Run the benchmark against ``url``, or against a server it starts with the configured settings."""
    from dispatch.runtime.server import prepare_database
    from dispatch.runtime.services import resolved_services
    from dispatch.runtime.settings import load_settings

    if url:
        if not call_taker_token or not desk_tokens:
            print("dispatch bench: with --url give --call-taker-token and --desk-token AGENCY=TOKEN", file=sys.stderr)
            return 2
        results = asyncio.run(
            drive(
                url,
                call_taker_token,
                desk_tokens,
                tickets=tickets,
                concurrency=concurrency,
                rate=rate,
                progress=True,
                duration=duration,
            )
        )
    else:
        settings = load_settings()
        with resolved_services(settings) as resolved:
            assert resolved.database_url and resolved.redis_url
            asyncio.run(prepare_database(resolved.database_url))
            taker, desks = asyncio.run(_bench_accounts(resolved.database_url))
            import socket

            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
            env = {
                **os.environ,
                "DISPATCH_DATABASE_URL": resolved.database_url,
                "DISPATCH_REDIS_URL": resolved.redis_url,
                "DISPATCH_PORT": str(port),
                "DISPATCH_LOG_LEVEL": "warning",
                # a service that has been running has its connections open: start with them
                "DISPATCH_DB_POOL_MIN": str(max(settings.db_pool_min, min(concurrency, settings.db_pool_max))),
                # the bench's own clients: one user may hold many sockets here
                "DISPATCH_WS_MAX_PER_USER": str(max(20, (fanout_clients or 0) + 10)),
            }
            server = subprocess.Popen(
                [sys.executable, "-m", "dispatch", "serve", "--workers", str(server_workers)], env=env
            )
            base = f"http://127.0.0.1:{port}"
            try:
                asyncio.run(_wait_ready(base))
                if fanout_clients:
                    supervisor = asyncio.run(_bench_supervisor(resolved.database_url))
                    figures = asyncio.run(fanout_bench(base, taker, supervisor, fanout_clients, server.pid))
                    print(json.dumps(figures) if as_json else "\n".join(f"{k:<40}{v}" for k, v in figures.items()))
                    return 0
                if resume_events:
                    supervisor = asyncio.run(_bench_supervisor(resolved.database_url))
                    figures = asyncio.run(
                        resume_bench(resolved.database_url, resolved.redis_url, base, supervisor, resume_events)
                    )
                    print(json.dumps(figures) if as_json else "\n".join(f"{k:<40}{v}" for k, v in figures.items()))
                    return 0
                machine_before = sample_machine(server.pid)
                results = asyncio.run(
                    drive(
                        base,
                        taker,
                        desks,
                        tickets=tickets,
                        concurrency=concurrency,
                        rate=rate,
                        progress=True,
                        duration=duration,
                    )
                )
                machine_after = sample_machine(server.pid)
                _, rss = _process_usage(server.pid)
                server_cpu = machine_after.parts["server"] - machine_before.parts["server"]
                duration = max(results.finished - results.started, 1e-9)
                results.server = {
                    "workers": server_workers,
                    "cpu_s": round(server_cpu, 2),
                    "cpu_percent": round(100 * server_cpu / duration, 1),
                    "rss_mib": round(rss / 2**20, 1),
                    **cpu_breakdown(machine_before, machine_after, results.accepted),
                }
            finally:
                server.send_signal(signal.SIGTERM)
                server.wait(timeout=30)
            if results.server:
                # The peers, once the server has stopped: PostgreSQL alone with the machine.
                rate_now = results.accepted / max(results.finished - results.started, 1e-9)
                results.server.update(pgbench_peers(resolved.database_url, concurrency, rate_now))
    summary = results.summary()
    print(json.dumps(summary, ensure_ascii=False) if as_json else format_table(summary))
    return 0 if not results.errors else 1


async def _wait_ready(base: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(600):
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(base + "/readyz") as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise RuntimeError("the server did not become ready")


SEED_SQL = """
WITH t AS (
    INSERT INTO tickets (number, tracking_token, channel, description, address, district, category, priority,
                         status, created_by)
    SELECT 'MS20000101-' || lpad(g::text, 9, '0'), md5(g::text), 'phone', '路灯不亮 ' || g, '驿城区解放路',
           'yicheng', 'urban.street_light', 'P4', 'dispatched', $2
    FROM generate_series(1, $1) AS g
    RETURNING id
), a AS (
    INSERT INTO assignments (ticket_id, agency, role, ack_due, resolve_due)
    SELECT id, 'urban', 'lead', now() + interval '1 day', now() + interval '3 days' FROM t
    RETURNING id, ticket_id
), e AS (
    INSERT INTO events (ticket_id, assignment_id, type, actor, agencies, data)
    SELECT a.ticket_id, CASE WHEN k = 1 THEN NULL ELSE a.id END,
           CASE k WHEN 1 THEN 'ticket.created' WHEN 2 THEN 'assignment.created' ELSE 'assignment.note' END,
           'system', ARRAY['urban'], '{}'::jsonb
    FROM a CROSS JOIN generate_series(1, 3) AS k
    ORDER BY a.ticket_id, k
    RETURNING id
)
INSERT INTO outbox (event_id) SELECT id FROM e
"""


async def _count_replayed(url: str, token: str, expected: int) -> float:
    """Seconds for a client resuming from cursor 0 to receive ``expected`` events."""
    ws_url = url.replace("http://", "ws://", 1) + f"/api/v1/stream?token={token}&cursor=0"
    received = 0
    started = time.perf_counter()
    async with websockets.connect(ws_url, max_size=2**28) as ws:
        while received < expected:
            message = orjson.loads(await asyncio.wait_for(ws.recv(), 60))
            received += sum(1 for e in (message if isinstance(message, list) else [message]) if "event_id" in e)
    return time.perf_counter() - started


async def resume_bench(dsn: str, redis_url: str, url: str, supervisor: str, events: int) -> dict[str, Any]:
    """Seed ``events`` events, let the relay publish them, then time a resume from Redis and,
    after a flush, from PostgreSQL."""
    from dispatch.runtime import redis_client
    from dispatch.runtime.db import connect

    tickets = events // 3
    conn = await connect(dsn)
    try:
        creator = await conn.fetchval("SELECT id FROM users WHERE name = 'bench-call-taker'")
        started = time.perf_counter()
        await conn.execute(SEED_SQL, tickets, creator)
        # The relay, in the server process, publishes them: poll the outbox until it is empty.
        while await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):  # noqa: ASYNC110
            await asyncio.sleep(0.5)
        publish_s = time.perf_counter() - started
    finally:
        await conn.close()
    total = tickets * 3
    from_redis = await _count_replayed(url, supervisor, total)
    client = redis_client.connect(redis_url)
    await redis_client.flush(client)
    await redis_client.close(client)
    from_postgres = await _count_replayed(url, supervisor, total)
    return {
        "events": total,
        "seed_and_publish_s": round(publish_s, 1),
        "resume_from_redis_events_per_s": round(total / from_redis),
        "resume_from_postgresql_events_per_s": round(total / from_postgres),
    }


async def fanout_bench(url: str, taker: str, supervisor: str, clients: int, server_pid: int) -> dict[str, Any]:
    """Hold ``clients`` websockets, create one ticket, and time until every client has its
    ``ticket.created``; report the server's resident memory with them connected."""
    ws_url = url.replace("http://", "ws://", 1) + f"/api/v1/stream?token={supervisor}"
    sockets: list[Any] = []
    for start in range(0, clients, 500):  # connect in waves: the listen backlog is finite
        sockets += await asyncio.gather(
            *(
                websockets.connect(ws_url, max_size=2**24, open_timeout=60)
                for _ in range(start, min(clients, start + 500))
            )
        )
    for ws in sockets:
        await ws.recv()  # hello
    _, rss = _process_usage(server_pid)
    arrived: list[float] = []

    async def wait_created(ws: Any) -> None:
        while True:
            message = orjson.loads(await ws.recv())
            events = message if isinstance(message, list) else [message]
            if any(e.get("type") == "ticket.created" for e in events):
                arrived.append(time.perf_counter())
                return

    waiters = [asyncio.create_task(wait_created(ws)) for ws in sockets]
    with collector_paused():
        async with aiohttp.ClientSession() as http:
            sent = time.perf_counter()
            body = {
                "description": "广播测试：路灯不亮",
                "caller": {"phone": "13800000000"},
                "location": {"address": "驿城区"},
            }
            headers = {"Authorization": f"Bearer {taker}"}
            async with http.post(f"{url}/api/v1/tickets", json=body, headers=headers) as r:
                assert r.status == 201
        await asyncio.wait_for(asyncio.gather(*waiters), 60)
    for ws in sockets:
        await ws.close()
    return {
        "clients": clients,
        "server_rss_mib_with_clients": round(rss / 2**20, 1),
        "first_delivery_ms": round((min(arrived) - sent) * 1000, 1),
        "all_delivered_ms": round((max(arrived) - sent) * 1000, 1),
    }
