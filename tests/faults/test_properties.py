"""Hypothesis drives random sequences of creates, lifecycle moves, merges, transfers and
reconnects against a real server, and checks the invariants after every step."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
import requests
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from websockets.sync.client import connect as ws_connect

from dispatch.lifecycle import derive_ticket_status
from tests.api_helpers import new_user_token
from tests.faults.harness import ServerProcess

AGENCIES = ["police", "transport", "health", "urban", "emergency"]
ACTIONS = ["acknowledge", "start", "resolve", "return", "transfer", "release"]


@pytest.fixture
def live_server(fault_dsn: str, fault_redis_url: str, tmp_path: Path) -> Iterator[tuple[ServerProcess, str, str]]:
    server = ServerProcess(fault_dsn, fault_redis_url, tmp_path)
    server.start()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(server.ready())
        admin = loop.run_until_complete(new_user_token(fault_dsn, "admin", "admin"))
        yield server, admin, fault_dsn
    finally:
        loop.close()
        server.stop()


class _Client:
    """A small synchronous JSON client (the state machine runs outside the event loop)."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"

    def post(self, path: str, json: Any) -> requests.Response:
        return self.session.post(self.base + path, json=json, timeout=10)

    def close(self) -> None:
        self.session.close()


def _db_rows(dsn: str, query: str) -> list[asyncpg.Record]:
    async def fetch() -> list[asyncpg.Record]:
        conn = await asyncpg.connect(dsn)
        try:
            return list(await conn.fetch(query))
        finally:
            await conn.close()

    return asyncio.run(fetch())


def test_random_operations_keep_the_invariants(live_server: tuple[ServerProcess, str, str]) -> None:
    server, admin, dsn = live_server

    class DispatchMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.http = _Client(server.base, admin)
            self.tickets: list[int] = []
            self.assignments: list[int] = []
            self.cursor = "0"
            self.seen_cursors: set[str] = set()

        def teardown(self) -> None:
            self.http.close()

        @rule(agencies=st.lists(st.sampled_from(AGENCIES), min_size=1, max_size=3, unique=True))
        def create(self, agencies: list[str]) -> None:
            body = {
                "description": "随机测试的事件",
                "caller": {"phone": "13800000000"},
                "location": {"address": "驿城区解放路", "district": "yicheng"},
                "category": "police.dispute",
                "agencies": agencies,
            }
            response = self.http.post("/api/v1/tickets", json=body)
            assert response.status_code == 201, response.text
            ticket = response.json()
            self.tickets.append(ticket["id"])
            self.assignments += [a["id"] for a in ticket["assignments"]]

        @precondition(lambda self: self.assignments)
        @rule(data=st.data(), action=st.sampled_from(ACTIONS), to_agency=st.sampled_from(AGENCIES))
        def move(self, data: st.DataObject, action: str, to_agency: str) -> None:
            assignment = data.draw(st.sampled_from(self.assignments))
            body: dict[str, Any] = {}
            if action == "resolve":
                body = {"resolution": "处理完毕"}
            elif action in ("return", "release"):
                body = {"reason": "随机"}
            elif action == "transfer":
                body = {"agency": to_agency, "reason": "随机转派"}
            response = self.http.post(f"/api/v1/assignments/{assignment}/{action}", json=body)
            assert response.status_code in (200, 409), response.text
            if response.status_code == 200 and response.json().get("created"):
                self.assignments.append(response.json()["created"]["id"])

        @precondition(lambda self: len(self.tickets) >= 2)
        @rule(data=st.data())
        def merge(self, data: st.DataObject) -> None:
            duplicate, into = data.draw(st.lists(st.sampled_from(self.tickets), min_size=2, max_size=2, unique=True))
            response = self.http.post(f"/api/v1/tickets/{duplicate}/merge", json={"into": into})
            assert response.status_code in (200, 409), response.text

        @rule()
        def reconnect(self) -> None:
            url = server.base.replace("http://", "ws://") + f"/api/v1/stream?token={admin}&cursor={self.cursor}"
            with ws_connect(url, max_size=2**26, open_timeout=5) as ws:
                while True:
                    try:
                        raw = ws.recv(timeout=0.3)
                    except TimeoutError:
                        break
                    message = json.loads(raw)
                    for event in message if isinstance(message, list) else [message]:
                        if "event_id" not in event:
                            continue
                        assert event["cursor"] not in self.seen_cursors, "an event was delivered twice"
                        assert int(event["cursor"]) > int(self.cursor), "an event went back in order"
                        self.seen_cursors.add(event["cursor"])
                        self.cursor = event["cursor"]

        @invariant()
        def status_follows_assignments(self) -> None:
            tickets = {r["id"]: r["status"] for r in _db_rows(dsn, "SELECT id, status FROM tickets")}
            rows = _db_rows(dsn, "SELECT ticket_id, role, state FROM assignments")
            by_ticket: dict[int, list[tuple[str, str]]] = {t: [] for t in tickets}
            for row in rows:
                by_ticket[row["ticket_id"]].append((row["role"], row["state"]))
            for ticket_id, status in tickets.items():
                live_leads = [
                    s
                    for r, s in by_ticket[ticket_id]
                    if r == "lead" and s not in ("returned", "transferred", "released")
                ]
                assert len(live_leads) <= 1, f"ticket {ticket_id} has two live leads"
                if status not in ("merged", "closed", "cancelled"):
                    assert derive_ticket_status(status, by_ticket[ticket_id]) == status, f"ticket {ticket_id}"

        @invariant()
        def timeline_is_complete_and_ordered(self) -> None:
            events = _db_rows(dsn, "SELECT id, ticket_id, assignment_id, type, at FROM events ORDER BY id")
            created = {e["assignment_id"] for e in events if e["type"] == "assignment.created"}
            assignments = {r["id"] for r in _db_rows(dsn, "SELECT id FROM assignments")}
            assert assignments <= created, "an assignment has no creation event"
            last_at: dict[int, Any] = {}
            for event in events:
                assert event["at"] >= last_at.get(event["ticket_id"], event["at"]), "timeline out of order"
                last_at[event["ticket_id"]] = event["at"]

    runner = DispatchMachine.TestCase
    runner.settings = settings(
        max_examples=8,
        stateful_step_count=15,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    runner().runTest()
