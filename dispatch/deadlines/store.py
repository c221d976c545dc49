"""The SQL of deadlines: what is due, sending escalations and reminders exactly once, and
pausing and resuming an assignment's clock.

Finding due work is one index range per (deadline kind, stage): the indexes
``assignments_ack_watch`` and ``assignments_resolve_watch`` (migration 0002) are ordered by
stage, then deadline, so an assignment already escalated at level 1 is not looked at again
until level 2 is due, however many assignments are open or overdue.

Sending locks in the order every lifecycle move does (ticket, then assignment), skipping
rows someone else holds: a desk acknowledging at that instant wins, and the watcher looks
again on its next pass. The stage update, the ``escalations`` row (unique per assignment,
kind, level and round, inserted ``ON CONFLICT DO NOTHING``) and the event are one
transaction, so two watchers overlapping during a fail-over cannot send one level twice,
and a watcher dying half-way sends nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Final

import asyncpg

from dispatch.deadlines.policy import DeadlineKind, EscalationPolicy, audience, notified_supervisors
from dispatch.errors import Conflict
from dispatch.lifecycle import FINAL_TICKET_STATUSES, OPEN_STATES
from dispatch.store.assignments import check_may_move, lock_assignment
from dispatch.store.events import NewEvent, append_events
from dispatch.store.users import Principal

# Where each deadline kind is live: the partial-index predicates of migration 0002.
_LIVE: Final[dict[DeadlineKind, str]] = {
    "ack": "a.state = 'dispatched' AND a.paused_at IS NULL",
    "resolve": "a.state IN ('dispatched', 'acknowledged', 'in_progress') AND a.paused_at IS NULL",
}
_ARMED = "coalesce(a.deadlines_armed_at, a.created_at)"


@dataclass(frozen=True, slots=True)
class Step:
    """One thing the watcher sends: an escalation level (1...) or the reminder (level 0)."""

    kind: DeadlineKind
    level: int
    offset: float  # seconds after the deadline it is due (reminders: 0, see due_condition)

    @property
    def escalation_kind(self) -> str:
        """The ``escalations.kind`` it is recorded as."""
        return self.kind if self.level >= 1 else f"reminder_{self.kind}"

    @property
    def event_type(self) -> str:
        return "ticket.escalated" if self.level >= 1 else "ticket.reminder"


def steps(policy: EscalationPolicy) -> list[Step]:
    """Every escalation step of the policy, for both deadlines (reminders not included)."""
    return [
        Step(kind, level, policy.offset(level)) for kind in ("ack", "resolve") for level in range(1, policy.levels + 1)
    ]


def reminder_steps(policy: EscalationPolicy) -> list[Step]:
    """The reminder steps, none when reminders are off."""
    if policy.reminder_fraction is None:
        return []
    return [Step("ack", 0, 0.0), Step("resolve", 0, 0.0)]


def _due_condition(step: Step, policy: EscalationPolicy) -> str:
    due = f"a.{step.kind}_due"
    if step.level >= 1:
        return f"{due} <= statement_timestamp() - make_interval(secs => {step.offset!r})"
    fraction = policy.reminder_fraction
    assert fraction is not None
    # Not yet due, and the fraction of the allowed time used. The first bound (the longest
    # service level) keeps the scan to deadlines that can possibly need a reminder now.
    return (
        f"{due} > statement_timestamp()"
        f" AND {due} <= statement_timestamp() + make_interval(secs => {1 - fraction!r}"
        f" * (SELECT max({step.kind}_seconds) FROM service_levels))"
        f" AND {_ARMED} + ({due} - {_ARMED}) * {fraction!r} <= statement_timestamp()"
    )


def _stages(step: Step) -> tuple[int, ...]:
    return (0,) if step.level == 0 else EscalationPolicy.stages_before(step.level)


def due_query(step_list: list[Step], policy: EscalationPolicy) -> str:
    """SQL listing ``(step index, assignment id, ticket id)`` of what is due now, each step's
    oldest deadlines first, at most ``$1`` per step and stage."""
    branches = []
    for index, step in enumerate(step_list):
        for stage in _stages(step):
            branches.append(
                f"""(SELECT {index} AS step, a.id, a.ticket_id FROM assignments a
                    WHERE {_LIVE[step.kind]} AND a.{step.kind}_stage = {stage}
                      AND {_due_condition(step, policy)}
                    ORDER BY a.{step.kind}_due LIMIT $1)"""
            )
    return "\nUNION ALL\n".join(branches)


def next_due_query(step_list: list[Step]) -> str:
    """SQL giving the seconds until the next escalation step is due (negative: overdue
    already; NULL: nothing pending). One index probe per step and stage: an ordered walk of
    ``assignments_{kind}_watch`` that stops at the first row. Written as ``ORDER BY … LIMIT 1``
    rather than ``min()``, which PostgreSQL may plan as an aggregate over every open
    assignment of the stage when its statistics are older than the rows (a busy hour after
    a quiet one), reading thousands of index entries on every call."""
    probes = [
        f"""(SELECT a.{step.kind}_due + make_interval(secs => {step.offset!r}) FROM assignments a
             WHERE {_LIVE[step.kind]} AND a.{step.kind}_stage = {stage} AND a.{step.kind}_due IS NOT NULL
             ORDER BY a.{step.kind}_due LIMIT 1)"""
        for step in step_list
        for stage in _stages(step)
    ]
    return f"SELECT extract(epoch FROM least({', '.join(probes)}) - statement_timestamp())::float8"


def _due_point(step: Step, policy: EscalationPolicy) -> str:
    due = f"a.{step.kind}_due"
    if step.level >= 1:
        return f"{due} + make_interval(secs => {step.offset!r})"
    return f"{_ARMED} + ({due} - {_ARMED}) * {policy.reminder_fraction!r}"


def _lock_query(step: Step, policy: EscalationPolicy) -> str:
    stages = ",".join(str(s) for s in _stages(step))
    return f"""
        SELECT a.id, a.ticket_id, a.agency, a.desk_id, d.code AS desk, a.{step.kind}_due AS due_at,
               {_due_point(step, policy)} AS escalate_at,
               a.deadline_round, t.number, t.priority, t.category, t.district
        FROM assignments a
        JOIN tickets t ON t.id = a.ticket_id
        LEFT JOIN desks d ON d.id = a.desk_id
        WHERE a.id = ANY($1::bigint[]) AND a.ticket_id = ANY($2::bigint[])
          AND {_LIVE[step.kind]} AND a.{step.kind}_stage IN ({stages}) AND {_due_condition(step, policy)}
        ORDER BY a.id
        FOR UPDATE OF a SKIP LOCKED
    """


def _record_query(step: Step) -> str:
    return f"""
        WITH picked AS (
            SELECT * FROM unnest($1::bigint[], $2::timestamptz[], $3::int[]) AS p(assignment_id, due_at, round)
        ), staged AS (
            UPDATE assignments a SET {step.kind}_stage = $5 FROM picked p WHERE a.id = p.assignment_id
        )
        INSERT INTO escalations (assignment_id, kind, level, due_at, round, escalated_at)
        SELECT assignment_id, $4, {step.level}, due_at, round, clock_timestamp() FROM picked
        ON CONFLICT (assignment_id, kind, level, round) DO NOTHING
        RETURNING assignment_id
    """


_SUPERVISORS = """
    SELECT id, agency FROM users
    WHERE role = 'supervisor' AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
    ORDER BY id
"""


@dataclass(frozen=True, slots=True)
class Sent:
    """What one pass of a step sent (committed)."""

    step: Step
    assignment_ids: list[int]
    lags: list[float]  # seconds from when each was due to its event


class DeadlineStore:
    """The watcher's queries for one policy, built once."""

    def __init__(self, policy: EscalationPolicy) -> None:
        self.policy = policy
        self.steps = steps(policy)
        self.reminder_steps = reminder_steps(policy)
        self._due = due_query(self.steps, policy)
        self._reminders_due = due_query(self.reminder_steps, policy) if self.reminder_steps else None
        self._next_due = next_due_query(self.steps)
        self._lock = {step: _lock_query(step, policy) for step in self.steps + self.reminder_steps}
        self._record = {step: _record_query(step) for step in self.steps + self.reminder_steps}

    async def due(self, conn: asyncpg.Connection, *, reminders: bool, limit: int) -> dict[Step, list[tuple[int, int]]]:
        """What is due now, grouped by step: ``[(assignment id, ticket id)]`` oldest first."""
        query, step_list = (self._reminders_due, self.reminder_steps) if reminders else (self._due, self.steps)
        if query is None:
            return {}
        grouped: dict[Step, list[tuple[int, int]]] = defaultdict(list)
        for row in await conn.fetch(query, limit):
            grouped[step_list[row["step"]]].append((row["id"], row["ticket_id"]))
        return dict(grouped)

    async def seconds_to_next(self, conn: asyncpg.Connection) -> float | None:
        """Seconds until the next escalation is due (<= 0: due now), None if none pending."""
        value = await conn.fetchval(self._next_due)
        return None if value is None else float(value)

    async def send(self, conn: asyncpg.Connection, step: Step, candidates: list[tuple[int, int]]) -> Sent:
        """Escalate (or remind) the candidates still due, in one transaction; return what was sent.

        Candidates that are no longer due (acknowledged, paused, already sent by another
        watcher) or locked by a concurrent move are left alone.
        """
        assignment_ids = sorted({a for a, _ in candidates})
        ticket_ids = sorted({t for _, t in candidates})
        async with conn.transaction():
            locked_tickets = await conn.fetch(
                "SELECT id FROM tickets WHERE id = ANY($1::bigint[]) ORDER BY id FOR KEY SHARE SKIP LOCKED",
                ticket_ids,
            )
            rows = await conn.fetch(self._lock[step], assignment_ids, [r["id"] for r in locked_tickets])
            if not rows:
                return Sent(step, [], [])
            recorded = await conn.fetch(
                self._record[step],
                [r["id"] for r in rows],
                [r["due_at"] for r in rows],
                [r["deadline_round"] for r in rows],
                step.escalation_kind,
                EscalationPolicy.stage_after(step.level),
            )
            fresh = {r["assignment_id"] for r in recorded}
            if not fresh:
                return Sent(step, [], [])
            supervisors = [(r["id"], r["agency"]) for r in await conn.fetch(_SUPERVISORS)]
            now = await conn.fetchval("SELECT clock_timestamp()")
            by_agency: dict[str, list[NewEvent]] = defaultdict(list)
            lags = []
            for row in rows:
                if row["id"] not in fresh:
                    continue
                by_agency[row["agency"]].append(_event(step, row, supervisors))
                lags.append((now - row["escalate_at"]).total_seconds())
            for agency, events in by_agency.items():
                await append_events(conn, events, actor=None, agencies=[agency])
        return Sent(step, sorted(fresh), lags)


def _event(step: Step, row: asyncpg.Record, supervisors: list[tuple[int, str | None]]) -> NewEvent:
    scope = audience(step.level, row["priority"])
    data: dict[str, Any] = {
        "kind": step.escalation_kind,
        "deadline": step.kind,
        "level": step.level,
        "due_at": row["due_at"],
        "escalate_at": row["escalate_at"],
        "round": row["deadline_round"],
        "agency": row["agency"],
        "priority": row["priority"],
        "category": row["category"],
        "district": row["district"],
        "number": row["number"],
        "notify": {
            "desk_id": row["desk_id"],
            "desk": row["desk"],
            "agency": row["agency"],
            "supervisors": scope,
            "supervisor_ids": notified_supervisors(scope, row["agency"], supervisors),
        },
    }
    return NewEvent(step.event_type, row["ticket_id"], row["id"], data)


# Pausing the clock ----------------------------------------------------------------------------

PAUSE_COLUMNS: Final = """
    id, ticket_id, agency, desk_id, role, state, ack_due, resolve_due, created_at, acknowledged_at,
    started_at, resolved_at, resolution, closed_at, closed_reason, transferred_to, version,
    paused_at, pause_reason, deadline_round
"""


async def _locked_open(conn: asyncpg.Connection, assignment_id: int, principal: Principal) -> tuple[Any, list[str]]:
    ticket, assignment, agencies = await lock_assignment(conn, assignment_id, principal)
    check_may_move(principal, assignment)
    if ticket["status"] in FINAL_TICKET_STATUSES:
        raise Conflict(
            f"ticket {ticket['number']} is {ticket['status']}; its deadlines no longer run", code="ticket_not_open"
        )
    if assignment["state"] not in OPEN_STATES:
        raise Conflict(
            f"the assignment is {assignment['state']}; only open work has deadlines to pause",
            code="assignment_not_open",
            details=[{"assignment_id": assignment_id, "state": assignment["state"]}],
        )
    return ticket, agencies


async def pause(conn: asyncpg.Connection, assignment_id: int, principal: Principal, reason: str) -> dict[str, Any]:
    """Stop the assignment's deadline clock (waiting on the citizen); 409 if already paused.

    Returns the assignment with ``paused_at`` and ``pause_reason``.
    """
    async with conn.transaction():
        ticket, agencies = await _locked_open(conn, assignment_id, principal)
        current = await conn.fetchrow("SELECT paused_at, pause_reason FROM assignments WHERE id = $1", assignment_id)
        if current["paused_at"] is not None:
            raise Conflict(
                "the assignment is already paused",
                code="already_paused",
                details=[{"paused_at": current["paused_at"].isoformat(), "reason": current["pause_reason"]}],
            )
        row = await conn.fetchrow(
            f"""UPDATE assignments SET paused_at = now(), pause_reason = $2, updated_at = now(), version = version + 1
                WHERE id = $1 RETURNING {PAUSE_COLUMNS}""",
            assignment_id,
            reason,
        )
        await append_events(
            conn,
            [
                NewEvent(
                    "assignment.paused",
                    ticket["id"],
                    assignment_id,
                    {
                        "agency": row["agency"],
                        "reason": reason,
                        "ack_due": row["ack_due"],
                        "resolve_due": row["resolve_due"],
                    },
                )
            ],
            actor=principal,
            agencies=agencies,
        )
    return dict(row)


async def resume(conn: asyncpg.Connection, assignment_id: int, principal: Principal) -> dict[str, Any]:
    """Restart the clock: every deadline not yet passed when the pause began moves later by
    the time paused (a deadline already missed stays missed). 409 if not paused.

    Returns the assignment, with ``paused_seconds``.
    """
    async with conn.transaction():
        ticket, agencies = await _locked_open(conn, assignment_id, principal)
        current = await conn.fetchrow(
            """SELECT paused_at, pause_reason, ack_due, resolve_due, extract(epoch FROM now() - paused_at)::float8 AS s
               FROM assignments WHERE id = $1""",
            assignment_id,
        )
        if current["paused_at"] is None:
            raise Conflict("the assignment is not paused", code="not_paused")
        row = await conn.fetchrow(
            f"""
            UPDATE assignments SET
                ack_due = CASE WHEN ack_due > paused_at THEN ack_due + (now() - paused_at) ELSE ack_due END,
                resolve_due = CASE WHEN resolve_due > paused_at THEN resolve_due + (now() - paused_at)
                                   ELSE resolve_due END,
                deadlines_armed_at = coalesce(deadlines_armed_at, created_at) + (now() - paused_at),
                paused_at = NULL, pause_reason = NULL, updated_at = now(), version = version + 1
            WHERE id = $1 RETURNING {PAUSE_COLUMNS}
            """,
            assignment_id,
        )
        shifted = [kind for kind in ("ack", "resolve") if row[f"{kind}_due"] != current[f"{kind}_due"]]
        await append_events(
            conn,
            [
                NewEvent(
                    "assignment.resumed",
                    ticket["id"],
                    assignment_id,
                    {
                        "agency": row["agency"],
                        "reason": current["pause_reason"],
                        "paused_at": current["paused_at"],
                        "paused_seconds": round(current["s"], 3),
                        "shifted": shifted,
                        "ack_due": row["ack_due"],
                        "resolve_due": row["resolve_due"],
                    },
                )
            ],
            actor=principal,
            agencies=agencies,
        )
    return dict(row) | {"paused_seconds": round(current["s"], 3)}
