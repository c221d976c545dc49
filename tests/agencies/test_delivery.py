"""Webhook delivery to agencies' own systems, against real receivers: signed, in order per
ticket, retried, dead-lettered and replayed, and taken over from a worker that died."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from dispatch.delivery.service import DeliveryService
from dispatch.delivery.streams import dead_stream
from tests.agencies.conftest import HarnessFactory, Receiver
from tests.api_helpers import call, ticket_body

Receivers = Callable[..., Awaitable[Receiver]]

# A medical emergency led by health alone: three events reach health's stream.
MEDICAL = ticket_body(
    description="老人在家中晕倒，叫不醒，还有呼吸",
    category="health.emergency",
    priority="P1",
    agencies=["health"],
    facts={"health": {"conscious": False, "breathing": True, "injured_count": 1, "patient_age": 78}},
)


async def test_delivery_is_signed_and_carries_the_agencys_intake_facts(
    harness: HarnessFactory, receivers: Receivers
) -> None:
    receiver = await receivers()
    async with harness() as h:
        webhook_id, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        await asyncio.sleep(0.3)  # the workers pick the new webhook up
        status, ticket = await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        assert status == 201
        accepted = await receiver.wait_for(2)
    assert receiver.accepted_types() == ["ticket.created", "assignment.created"]
    assert all(r["signature_ok"] for r in receiver.requests)
    created = accepted[1]
    body, headers = created["body"], created["headers"]
    assert headers["X-Dispatch-Delivery-Id"] == f"{body['cursor']}.{webhook_id}" == body["delivery_id"]
    assert headers["X-Dispatch-Event"] == "assignment.created"
    assert headers["X-Dispatch-Agency"] == "health"
    assert headers["X-Dispatch-Signature"].startswith("v1=")
    assert body["ticket"]["id"] == ticket["id"]
    assert body["own_assignment"]["id"] == ticket["assignments"][0]["id"]
    assert body["ticket"]["facts"]["health"]["breathing"] is True
    assert body["medical"] == {
        "conscious": False,
        "breathing": True,
        "injured_count": 1,
        "patient_age": 78,
        "critical": True,
    }


async def test_a_tampered_body_fails_the_receivers_check(harness: HarnessFactory, receivers: Receivers) -> None:
    receiver = await receivers()
    async with harness() as h:
        _, secret = await h.webhook("health", receiver.url)
        receiver.secret = secret[:-1] + ("A" if secret[-1] != "A" else "B")  # the receiver holds another secret
        taker = await h.user("call_taker")
        await asyncio.sleep(0.3)
        await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        await receiver.wait_for(2)
    assert not any(r["signature_ok"] for r in receiver.requests)


async def test_receiver_failing_three_times_gets_each_event_once_and_in_order(
    harness: HarnessFactory, receivers: Receivers
) -> None:
    receiver = await receivers(lambda body, n: 500 if n <= 3 else 200)
    async with harness() as h:
        _, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        health = await h.user("desk", "health")
        await asyncio.sleep(0.3)
        _, ticket = await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        assignment = ticket["assignments"][0]["id"]
        for action in ("acknowledge", "start"):
            status, _ = await call(h.http, "POST", f"/api/v1/assignments/{assignment}/{action}", health, {})
            assert status == 200
        await receiver.wait_for(4)
        await asyncio.sleep(0.3)  # nothing more comes
    assert len(receiver.requests) == 3 + 4  # three refusals of the first event, then each once
    assert {r["body"]["cursor"] for r in receiver.requests[:4]} == {receiver.requests[0]["body"]["cursor"]}
    assert receiver.accepted_types() == [
        "ticket.created",
        "assignment.created",
        "assignment.acknowledged",
        "assignment.started",
    ]
    assert receiver.accepted_cursors() == sorted(receiver.accepted_cursors())
    assert len(receiver.accepted) == len(receiver.requests) - 3  # no repeat was needed


async def test_a_failing_ticket_blocks_only_its_own_later_events(harness: HarnessFactory, receivers: Receivers) -> None:
    stuck: dict[str, Any] = {"ticket": None}
    release = asyncio.Event()

    def behaviour(body: dict[str, Any], n: int) -> int:
        if stuck["ticket"] is None:
            stuck["ticket"] = body["ticket"]["id"]
        return 503 if body["ticket"]["id"] == stuck["ticket"] and not release.is_set() else 200

    receiver = await receivers(behaviour)
    async with harness(delivery_max_attempts=100, delivery_retry_max_s=0.05) as h:
        _, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        await asyncio.sleep(0.3)
        _, first = await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        await receiver.arrived.wait()
        _, second = await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        await receiver.wait_for(2)  # the second ticket's events flow past the first's
        assert {e["body"]["ticket"]["id"] for e in receiver.accepted} == {second["id"]}
        release.set()
        await receiver.wait_for(4)
    first_events = [e["body"]["type"] for e in receiver.accepted if e["body"]["ticket"]["id"] == first["id"]]
    assert first_events == ["ticket.created", "assignment.created"]  # still in order


async def test_receiver_down_past_the_bound_leaves_dead_letters_that_replay_delivers(
    harness: HarnessFactory, receivers: Receivers
) -> None:
    up = asyncio.Event()
    receiver = await receivers(lambda body, n: 200 if up.is_set() else 503)
    async with harness(delivery_max_attempts=3) as h:
        webhook_id, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        supervisor = await h.user("supervisor")
        await asyncio.sleep(0.3)
        await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        for _ in range(200):
            if await h.redis.xlen(dead_stream("health")) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(receiver.requests) == 2 * 3  # three attempts each, then given up
        status, page = await call(h.http, "GET", "/api/v1/deliveries/dead?agency=health", supervisor)
        assert status == 200
        assert [d["type"] for d in page["items"]] == ["ticket.created", "assignment.created"]
        assert {d["webhook_id"] for d in page["items"]} == {webhook_id}
        assert all(d["attempts"] == 3 and "503" in d["error"] for d in page["items"])

        up.set()
        status, replayed = await call(h.http, "POST", "/api/v1/deliveries/dead/replay", supervisor, {"all": True})
        assert status == 200
        assert [r["delivered"] for r in replayed["items"]] == [True, True]
        assert receiver.accepted_types() == ["ticket.created", "assignment.created"]
        assert all(r["signature_ok"] for r in receiver.accepted)
        _, page = await call(h.http, "GET", "/api/v1/deliveries/dead", supervisor)
        assert page["items"] == []


async def test_dead_letters_are_for_supervisors_only(harness: HarnessFactory) -> None:
    async with harness() as h:
        desk = await h.user("desk", "health")
        status, _ = await call(h.http, "GET", "/api/v1/deliveries/dead", desk)
        assert status == 403
        status, _ = await call(h.http, "POST", "/api/v1/deliveries/dead/replay", desk, {"all": True})
        assert status == 403


async def test_replaying_an_unknown_dead_letter_is_404_and_sends_nothing(harness: HarnessFactory) -> None:
    async with harness() as h:
        supervisor = await h.user("supervisor")
        body = {"ids": ["health:1-0"]}
        status, error = await call(h.http, "POST", "/api/v1/deliveries/dead/replay", supervisor, body)
        assert status == 404 and error["error"]["code"] == "dead_letter_not_found"
        status, _ = await call(h.http, "POST", "/api/v1/deliveries/dead/replay", supervisor, {"ids": ["nope"]})
        assert status == 422


async def test_events_a_killed_worker_held_are_claimed_and_delivered_by_another(
    harness: HarnessFactory, receivers: Receivers
) -> None:
    gate = asyncio.Event()

    async def behaviour(body: dict[str, Any], n: int) -> int:
        if n == 1:
            await gate.wait()  # the first worker is mid-delivery when it dies
        return 200

    receiver = await receivers(behaviour)
    async with harness(delivery=False) as h:
        _, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        first = DeliveryService(h.pool, h.redis, h.settings, consumer="worker-a")
        first_task = asyncio.create_task(first.run())
        try:
            await asyncio.sleep(0.3)
            await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
            await asyncio.wait_for(receiver.arrived.wait(), 10)
            # Killed after reading, before acknowledging: its events stay pending in the group.
            first_task.cancel()
            await asyncio.gather(first_task, return_exceptions=True)
            pending = await h.redis.xpending("dispatch:{agency:health}:events", "webhook:1")
            assert pending["pending"] == 2
            assert {c["name"] for c in pending["consumers"]} == {"worker-a"}
            gate.set()

            second = DeliveryService(h.pool, h.redis, h.settings, consumer="worker-b")
            second_task = asyncio.create_task(second.run())
            try:
                await receiver.wait_for(2)
                worker = next(iter(second.workers.values()))[1]
                # The receiver counts a delivery when it answers; the worker when the answer
                # has reached it and the entry is acknowledged, a moment later.
                async with asyncio.timeout(10):
                    while worker.delivered < 2:
                        await asyncio.sleep(0.02)
                assert worker.claimed == 2
            finally:
                second_task.cancel()
                await asyncio.gather(second_task, return_exceptions=True)
        finally:
            first_task.cancel()
            await asyncio.gather(first_task, return_exceptions=True)
    assert receiver.accepted_types() == ["ticket.created", "assignment.created"]
    pending = await h.redis.xpending("dispatch:{agency:health}:events", "webhook:1")
    assert pending["pending"] == 0


async def test_delivery_goes_on_after_redis_is_flushed(harness: HarnessFactory, receivers: Receivers) -> None:
    receiver = await receivers()
    async with harness() as h:
        _, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        await asyncio.sleep(0.3)
        await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        await receiver.wait_for(2)
        await h.redis.flushdb()  # groups and streams gone
        await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
        await receiver.wait_for(4)
    assert receiver.accepted_types() == ["ticket.created", "assignment.created"] * 2


async def test_a_desk_webhook_gets_only_that_desks_assignments(harness: HarnessFactory, receivers: Receivers) -> None:
    city = await receivers()
    async with harness() as h:
        async with h.pool.acquire() as conn:
            district_desk = await conn.fetchval(
                """SELECT d.id FROM desks d JOIN desk_districts dd ON dd.desk_id = d.id
                   WHERE d.agency = 'health' AND dd.district = 'yicheng'"""
            )
        assert district_desk is not None  # the reference data has district desks
        _, city.secret = await h.webhook("health", city.url, desk="health.city")
        taker = await h.user("call_taker")
        await asyncio.sleep(0.3)
        await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)  # 驿城区: the district desk's
        unknown = {**MEDICAL, "location": {"address": "某地", "lat": 10.0, "lon": 10.0}}
        _, ticket = await call(h.http, "POST", "/api/v1/tickets", taker, unknown)  # no district: the city desk's
        await city.wait_for(2)
        await asyncio.sleep(0.3)
    assert {e["body"]["ticket"]["id"] for e in city.accepted} == {ticket["id"]}


async def test_two_workers_sharing_a_webhook_keep_each_tickets_events_in_order(
    harness: HarnessFactory, receivers: Receivers
) -> None:
    # Every third request fails: retries interleave with the other worker's deliveries.
    receiver = await receivers(lambda body, n: 500 if n % 3 == 0 else 200)
    async with harness(delivery=False, delivery_concurrency=4) as h:
        _, receiver.secret = await h.webhook("health", receiver.url)
        taker = await h.user("call_taker")
        health = await h.user("desk", "health")
        services = [DeliveryService(h.pool, h.redis, h.settings, consumer=name) for name in ("a", "b")]
        tasks = [asyncio.create_task(service.run()) for service in services]
        try:
            await asyncio.sleep(0.3)
            for _ in range(4):
                _, ticket = await call(h.http, "POST", "/api/v1/tickets", taker, MEDICAL)
                mine = ticket["assignments"][0]["id"]
                for action in ("acknowledge", "start"):
                    await call(h.http, "POST", f"/api/v1/assignments/{mine}/{action}", health, {})
            await receiver.wait_for(4 * 4, within=30)
            workers = [worker for service in services for _, worker, _ in service.workers.values()]
            # Workers count a delivery once its answer has reached them, a moment after the
            # receiver counted it.
            async with asyncio.timeout(10):
                while sum(worker.delivered for worker in workers) < 16:
                    await asyncio.sleep(0.02)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    by_ticket: dict[int, list[int]] = {}
    for entry in receiver.accepted:
        by_ticket.setdefault(entry["body"]["ticket"]["id"], []).append(int(entry["body"]["cursor"]))
    assert len(by_ticket) == 4
    assert all(cursors == sorted(cursors) and len(cursors) == 4 for cursors in by_ticket.values())
    assert sum(worker.delivered for worker in workers) >= 16  # both workers' counts together
