"""Prometheus metrics of the service: what is counted and measured, and the calls that do it.

Metric objects live at module level in the process's default registry (with the
``prometheus-client`` process and platform collectors), registered once however many apps
one process builds (tests build several). Values that belong to an app (relay backlog,
websocket clients) are refreshed by scrape hooks when ``GET /metrics`` is read
(``add_scrape_hook``); code elsewhere may also set the gauges directly:

    from dispatch.runtime import metrics
    metrics.WEBSOCKET_CLIENTS.inc() / .dec()       # the websocket hub
    metrics.BUS_LAG.labels(consumer="hub").set(s)  # a stream consumer, seconds behind
    metrics.RELAY_BACKLOG.set(n)                   # the relay, outbox rows not yet published
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import Counter, Gauge, Histogram

# Latency buckets in seconds: acknowledgement is minutes, resolution hours to days.
_ACK_BUCKETS = (5, 10, 20, 30, 60, 120, 180, 300, 600, 900, 1800, 3600, 7200, float("inf"))
_RESOLVE_BUCKETS = (60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 172800, 259200, 604800, float("inf"))
_LAG_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 0.75, 1, 2, 5, 10, 30, float("inf"))

TICKETS_CREATED = Counter(
    "dispatch_tickets_created", "Tickets created (受理), by category and priority", ["category", "priority"]
)
TRANSITIONS = Counter("dispatch_assignment_transitions", "Assignment lifecycle moves, by action", ["action"])
ACK_LATENCY = Histogram(
    "dispatch_acknowledge_seconds",
    "Time from dispatch to acknowledgement (签收), by agency",
    ["agency"],
    buckets=_ACK_BUCKETS,
)
RESOLVE_LATENCY = Histogram(
    "dispatch_resolve_seconds",
    "Time from dispatch to resolution (办结), by agency",
    ["agency"],
    buckets=_RESOLVE_BUCKETS,
)
ESCALATIONS = Counter("dispatch_escalations", "Escalations (督办) sent, by deadline kind and level", ["kind", "level"])
REMINDERS = Counter("dispatch_reminders", "Reminders (催办) sent before a deadline, by deadline kind", ["kind"])
ESCALATION_LAG = Histogram(
    "dispatch_escalation_lag_seconds",
    "From the moment an escalation or reminder was due to its event being written",
    buckets=_LAG_BUCKETS,
)
DEADLINE_LEADER = Gauge("dispatch_deadline_watcher_leader", "1 while this process leads the deadline watcher")
WEBSOCKET_CLIENTS = Gauge("dispatch_websocket_clients", "Websocket clients connected to this process")
BUS_LAG = Gauge("dispatch_bus_lag_seconds", "How far a bus consumer is behind the newest event", ["consumer"])
RELAY_BACKLOG = Gauge("dispatch_relay_backlog", "Outbox rows not yet published to the bus")
OVERDUE_OPEN = Gauge("dispatch_overdue_assignments", "Open assignments past a deadline now, by kind", ["kind"])

ScrapeHook = Callable[[web.Application], Awaitable[None]]
SCRAPE_HOOKS = web.AppKey("metrics_scrape_hooks", list[ScrapeHook])


def add_scrape_hook(app: web.Application, hook: ScrapeHook) -> None:
    """Run ``hook(app)`` before every scrape of this app's ``/metrics`` (to refresh gauges)."""
    if SCRAPE_HOOKS not in app:
        app[SCRAPE_HOOKS] = []
    app[SCRAPE_HOOKS].append(hook)


def ticket_created(category: str | None, priority: str) -> None:
    """Count a newly created ticket (not an idempotent replay)."""
    TICKETS_CREATED.labels(category=category or "unclassified", priority=priority).inc()


def _seconds(later: Any, earlier: Any) -> float | None:
    if isinstance(later, datetime) and isinstance(earlier, datetime):
        return max(0.0, (later - earlier).total_seconds())
    return None


def assignment_moved(action: str, assignment: dict[str, Any]) -> None:
    """Count a lifecycle move; for acknowledge and resolve, observe the time since dispatch."""
    TRANSITIONS.labels(action=action).inc()
    agency = str(assignment.get("agency") or "unknown")
    if action == "acknowledge":
        seconds = _seconds(assignment.get("acknowledged_at"), assignment.get("created_at"))
        if seconds is not None:
            ACK_LATENCY.labels(agency=agency).observe(seconds)
    elif action == "resolve":
        seconds = _seconds(assignment.get("resolved_at"), assignment.get("created_at"))
        if seconds is not None:
            RESOLVE_LATENCY.labels(agency=agency).observe(seconds)


def escalations_sent(kind: str, level: int, lags: list[float]) -> None:
    """Count escalations (or reminders, level 0) just committed and observe their lag."""
    if not lags:
        return
    if kind.startswith("reminder_"):
        REMINDERS.labels(kind=kind.removeprefix("reminder_")).inc(len(lags))
    else:
        ESCALATIONS.labels(kind=kind, level=str(level)).inc(len(lags))
    for lag in lags:
        ESCALATION_LAG.observe(max(0.0, lag))
