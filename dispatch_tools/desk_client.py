"""``dispatch desk``: a terminal desk console on the live feed.

``DeskBoard`` holds what the desk sees (pure: events in, rows out); ``DeskConnection``
keeps a websocket open, resuming from the last cursor after any drop; ``run_terminal``
draws the board with curses and turns keystrokes into lifecycle commands.
"""

from __future__ import annotations

import asyncio
import contextlib
import curses
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import aiohttp
import websockets
from websockets.asyncio.client import ClientConnection

from dispatch.runtime.backoff import Backoff

OPEN_STATES = ("dispatched", "acknowledged", "in_progress")
PRIORITY_ORDER = {"P1": 0, "P2": 1, "P3": 2, "P4": 3}
STATE_NAMES = {
    "dispatched": "待签收",
    "acknowledged": "已签收",
    "in_progress": "处置中",
    "resolved": "已办结",
    "returned": "已退回",
    "transferred": "已转派",
    "released": "已释放",
}


def _parse_time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass
class DeskBoard:
    """The desk's assignments, kept current from events carrying full ticket state."""

    agency: str
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    cursor: str | None = None

    def load_ticket(self, ticket: dict[str, Any]) -> None:
        """Take a ticket's current state: every assignment of this desk's agency."""
        for assignment in ticket.get("assignments", []):
            if assignment["agency"] == self.agency:
                self.rows[assignment["id"]] = {"assignment": assignment, "ticket": ticket}

    def apply(self, event: dict[str, Any]) -> None:
        """Apply one feed event (its ticket state supersedes what the board had)."""
        if event.get("ticket"):
            self.load_ticket(event["ticket"])
        if event.get("cursor"):
            self.cursor = event["cursor"]

    def open_rows(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Open assignments, most urgent first: priority, then the nearest deadline."""
        now = now or datetime.now(UTC)
        rows = [r for r in self.rows.values() if r["assignment"]["state"] in OPEN_STATES]

        def due(row: dict[str, Any]) -> datetime:
            a = row["assignment"]
            key = "ack_due" if a["state"] == "dispatched" else "resolve_due"
            return _parse_time(a[key]) or now

        return sorted(rows, key=lambda r: (PRIORITY_ORDER.get(r["ticket"]["priority"], 9), due(r)))


class DeskConnection:
    """A websocket to the feed that reconnects and resumes by itself."""

    def __init__(self, url: str, token: str, board: DeskBoard, on_change: Callable[[], None]) -> None:
        self.base = url.rstrip("/")
        self.token = token
        self.board = board
        self.on_change = on_change
        self.online = False
        self.ws: ClientConnection | None = None
        self.replies: dict[int, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)

    def _stream_url(self) -> str:
        url = self.base.replace("http://", "ws://", 1).replace("https://", "wss://", 1)
        url += f"/api/v1/stream?token={quote(self.token)}"
        if self.board.cursor:
            url += f"&cursor={self.board.cursor}"
        return url

    async def load(self) -> None:
        """Fill the board with the agency's open work over REST."""
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession(headers=headers) as http:
            for status in OPEN_STATES:
                cursor = None
                while True:
                    query = f"?agency={self.board.agency}&status={status}&limit=200"
                    query += f"&cursor={cursor}" if cursor else ""
                    async with http.get(f"{self.base}/api/v1/tickets{query}") as response:
                        response.raise_for_status()
                        page = await response.json()
                    for ticket in page["items"]:
                        self.board.load_ticket(ticket)
                    cursor = page["next_cursor"]
                    if not cursor:
                        break

    async def run(self) -> None:
        """Stay connected forever: on any drop, wait a little and resume from the cursor."""
        backoff = Backoff(first=0.2, most=5.0)
        while True:
            try:
                async with websockets.connect(self._stream_url(), max_size=2**24, open_timeout=10) as ws:
                    self.ws = ws
                    async for raw in ws:
                        message = json.loads(raw)
                        for item in message if isinstance(message, list) else [message]:
                            self._receive(item)
                        self.online = True
                        backoff.succeeded()
                        self.on_change()
            except (OSError, websockets.WebSocketException, TimeoutError):
                pass
            self.ws = None
            self.online = False
            self.on_change()
            await backoff.wait()

    def _receive(self, item: dict[str, Any]) -> None:
        kind = item.get("type")
        if kind == "hello":
            self.board.cursor = self.board.cursor or item.get("cursor")
        elif kind in ("reply", "pong"):
            future = self.replies.pop(item.get("request_id") or 0, None)
            if future and not future.done():
                future.set_result(item)
        else:
            self.board.apply(item)

    async def command(self, kind: str, assignment_id: int, **fields: Any) -> dict[str, Any]:
        """Send a lifecycle command and wait for its reply."""
        if self.ws is None:
            return {"ok": False, "error": {"code": "offline", "message": "离线 offline"}}
        request_id = next(self._ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.replies[request_id] = future
        body = {"type": kind, "assignment_id": assignment_id, "request_id": request_id, **fields}
        await self.ws.send(json.dumps(body, ensure_ascii=False))
        return await asyncio.wait_for(future, 15)


async def whoami(url: str, token: str) -> dict[str, Any]:
    """The desk user behind the token."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url.rstrip('/')}/api/v1/me", headers={"Authorization": f"Bearer {token}"}) as response,
    ):
        if response.status != 200:
            raise SystemExit(f"dispatch desk: the token was refused ({response.status})")
        me: dict[str, Any] = await response.json()
        return me


def _remaining(assignment: dict[str, Any], now: datetime) -> str:
    key = "ack_due" if assignment["state"] == "dispatched" else "resolve_due"
    due = _parse_time(assignment[key])
    if due is None:
        return ""
    seconds = int((due - now).total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    return f"{sign}{seconds // 3600:d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def _draw(screen: Any, board: DeskBoard, connection: DeskConnection, selected: int, status: str) -> None:
    screen.erase()
    height, width = screen.getmaxyx()
    now = datetime.now(UTC)
    online = "在线 online" if connection.online else "离线，正在重连 offline, reconnecting"
    screen.addnstr(0, 0, f"民生110 处置台 desk · {board.agency} · {online}", width - 1, curses.A_BOLD)
    screen.addnstr(1, 0, "↑↓ 选择  a 签收 acknowledge  s 开始 start  r 办结 resolve  q 退出 quit", width - 1)
    rows = board.open_rows(now)
    for index, row in enumerate(rows[: max(0, height - 4)]):
        a, t = row["assignment"], row["ticket"]
        overdue = _remaining(a, now).startswith("-")
        line = (
            f"{t['priority']} {t['number']:<18} {STATE_NAMES.get(a['state'], a['state']):<4} "
            f"{_remaining(a, now):>9}{' 超时' if overdue else ''}  {t['category'] or ''}  "
            f"{t['location']['address']}  {t['description']}"
        )
        attribute = curses.A_REVERSE if index == selected else 0
        if overdue or t["priority"] == "P1":
            attribute |= curses.A_BOLD
        screen.addnstr(3 + index, 0, line, width - 1, attribute)
    if not rows:
        screen.addnstr(3, 0, "暂无待办 no open assignments", width - 1)
    screen.addnstr(height - 1, 0, status, width - 1)
    screen.refresh()


def _prompt(screen: Any, label: str) -> str:
    height, width = screen.getmaxyx()
    screen.nodelay(False)
    curses.echo()
    screen.move(height - 1, 0)
    screen.clrtoeol()
    screen.addnstr(height - 1, 0, label, width - 1)
    raw: bytes = screen.getstr(height - 1, min(len(label) * 2, width - 2), 400)
    curses.noecho()
    screen.nodelay(True)
    return raw.decode("utf-8", errors="replace").strip()


async def _terminal(screen: Any, url: str, token: str) -> None:
    me = await whoami(url, token)
    if not me.get("agency"):
        raise SystemExit("dispatch desk: this token is not a desk user's (no agency)")
    board = DeskBoard(agency=me["agency"])
    dirty = asyncio.Event()
    connection = DeskConnection(url, token, board, dirty.set)
    await connection.load()
    runner = asyncio.create_task(connection.run())
    curses.curs_set(0)
    screen.nodelay(True)
    screen.keypad(True)
    selected, status = 0, f"{me['name']} 已登录 signed in"
    try:
        while True:
            rows = board.open_rows()
            selected = max(0, min(selected, len(rows) - 1))
            _draw(screen, board, connection, selected, status)
            key = screen.getch()
            if key == -1:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        await dirty.wait()
                dirty.clear()
                continue
            if key in (ord("q"), ord("Q")):
                return
            if key in (curses.KEY_DOWN, ord("j")):
                selected += 1
            elif key in (curses.KEY_UP, ord("k")):
                selected -= 1
            elif rows and key in (ord("a"), ord("s"), ord("r")):
                assignment_id = rows[selected]["assignment"]["id"]
                if key == ord("a"):
                    reply = await connection.command("acknowledge", assignment_id)
                elif key == ord("s"):
                    reply = await connection.command("start", assignment_id)
                else:
                    text = _prompt(screen, "办结说明 resolution: ")
                    reply = await connection.command("resolve", assignment_id, resolution=text)
                status = "完成 done" if reply.get("ok") else f"失败 failed: {reply['error']['message']}"
    finally:
        runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await runner


def run_terminal(url: str, token: str) -> int:
    """Run the terminal desk until the user quits."""
    import locale

    locale.setlocale(locale.LC_ALL, "")
    curses.wrapper(lambda screen: asyncio.run(_terminal(screen, url, token)))
    return 0
