"""``GET /metrics``: Prometheus text with the service's counters, histograms and gauges."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from dispatch.store.users import Principal
from tests.api_helpers import call
from tests.deadlines.conftest import AppFactory
from tests.deadlines.helpers import p1_body, wait_for_events

UserMaker = Callable[..., Awaitable[tuple[Principal, str]]]


async def _scrape(http: aiohttp.ClientSession) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    async with http.get("/metrics") as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_metrics_count_tickets_moves_latencies_and_escalations(
    app_client: AppFactory, dl_user: UserMaker, dl_pool: asyncpg.Pool
) -> None:
    _, admin = await dl_user("admin")
    _, taker = await dl_user("call_taker")
    _, desk = await dl_user("desk", agency="police")
    created = ("dispatch_tickets_created_total", (("category", "police.violence"), ("priority", "P1")))
    acknowledged = ("dispatch_assignment_transitions_total", (("action", "acknowledge"),))
    latency = ("dispatch_acknowledge_seconds_count", (("agency", "police"),))
    escalated = ("dispatch_escalations_total", (("kind", "ack"), ("level", "1")))
    async with app_client(escalation_intervals=(30.0,)) as http:
        before = await _scrape(http)
        await call(
            http, "PUT", "/api/v1/service-levels", admin, {"priority": "P1", "ack_seconds": 1, "resolve_seconds": 60}
        )
        _, first = await call(http, "POST", "/api/v1/tickets", taker, p1_body())
        _, second = await call(http, "POST", "/api/v1/tickets", taker, p1_body(description="又一起打架"))
        await call(http, "POST", f"/api/v1/assignments/{first['assignments'][0]['id']}/acknowledge", desk, {})
        await wait_for_events(dl_pool, "ticket.escalated", 1, assignment_id=second["assignments"][0]["id"])
        after = await _scrape(http)

    def grew(key: tuple[str, tuple[tuple[str, str], ...]]) -> float:
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert grew(created) == 2 and grew(acknowledged) == 1 and grew(latency) == 1 and grew(escalated) == 1
    assert after[("dispatch_deadline_watcher_leader", ())] == 1
    assert after[("dispatch_relay_backlog", ())] >= 0
    assert after[("dispatch_overdue_assignments", (("kind", "ack"),))] == 1
    assert ("dispatch_websocket_clients", ()) in after
