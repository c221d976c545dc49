"""A real websocket client (the ``websockets`` library) for the live feed."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection


def stream_url(base: str, token: str, cursor: str | int | None = None, **params: str) -> str:
    url = base.replace("http://", "ws://").rstrip("/") + f"/api/v1/stream?token={token}"
    if cursor is not None:
        url += f"&cursor={cursor}"
    for key, value in params.items():
        url += f"&{key}={value}"
    return url


async def connect(base: str, token: str, cursor: str | int | None = None, **params: str) -> ClientConnection:
    """Connect and consume the hello message."""
    ws = await websockets.connect(stream_url(base, token, cursor, **params), max_size=2**24)
    hello = json.loads(await asyncio.wait_for(ws.recv(), 10))
    assert hello["type"] == "hello"
    return ws


async def next_messages(ws: ClientConnection, timeout: float) -> list[dict[str, Any]]:
    """The events in the next frame (a frame holds one event or a list)."""
    data = json.loads(await asyncio.wait_for(ws.recv(), timeout))
    return data if isinstance(data, list) else [data]


async def collect_events(ws: ClientConnection, count: int, timeout: float = 15) -> list[dict[str, Any]]:
    """Exactly ``count`` events (raising on timeout), skipping command replies."""
    events: list[dict[str, Any]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while len(events) < count:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"got {len(events)} of {count} events")
        for message in await next_messages(ws, remaining):
            if "cursor" in message and message.get("type") not in ("hello", "reply", "pong"):
                events.append(message)
    return events


async def quiet_for(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Whatever events arrive within ``seconds`` (expected: none)."""
    got: list[dict[str, Any]] = []
    try:
        while True:
            got += [m for m in await next_messages(ws, seconds) if "cursor" in m and m.get("type") != "hello"]
    except TimeoutError:
        return got
