"""Supervisors' numbers: ``/api/v1/stats/summary``, ``/stats/overdue``, ``/stats/timeseries``,
and what is open now: ``/stats/escalations`` (督办 still open, highest level first) and
``/stats/open`` (open work with its place, for lists and the map).

Supervisors and admins see every agency; a desk sees its own agency's numbers only (asking
for another agency is 403), so that a desk can watch its own backlog and deadlines. The
definitions of every number are in docs/operations.md ("KPIs").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import asyncpg
from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from dispatch.access.auth import authenticate
from dispatch.api.params import query
from dispatch.api.responses import json_response
from dispatch.api.schemas import AgencyCode, DistrictCode, PriorityCode
from dispatch.api.spec import describe
from dispatch.bounds import EARLIEST, LATEST, check_window
from dispatch.errors import Forbidden, ValidationFailed
from dispatch.runtime.app_keys import DB, REPLICA, SETTINGS, STATS
from dispatch.store import open_counts
from dispatch.store import open_work as open_work_store
from dispatch.store import stats as store
from dispatch.store.users import Principal

MAX_BUCKETS = {"minute": 24 * 60, "hour": 62 * 24}


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency: AgencyCode | None = None
    district: DistrictCode | None = None
    priority: PriorityCode | None = None
    from_: AwareDatetime | None = Field(
        default=None, alias="from", description="period start, ISO 8601 with zone; default 24 h before 'to'"
    )
    to: AwareDatetime | None = Field(default=None, description="period end (exclusive); default now")

    @field_validator("from_", "to")
    @classmethod
    def _bounded(cls, value: datetime | None) -> datetime | None:
        return check_window(value) if value is not None else None


class OverdueQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency: AgencyCode | None = None
    district: DistrictCode | None = None
    priority: PriorityCode | None = None
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


class OpenQuery(OverdueQuery):
    state: open_work_store.OpenState | None = Field(default=None, description="one open state, or paused")
    overdue: bool = Field(default=False, description="only work past the deadline that matters now")
    limit: int = Field(default=200, ge=1, le=1000)


class MapQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency: AgencyCode | None = None
    district: DistrictCode | None = None
    priority: PriorityCode | None = None
    overdue: bool = Field(default=False, description="only work past the deadline that matters now")
    bbox: str | None = Field(
        default=None,
        max_length=100,
        description="west,south,east,north in degrees: only tickets inside (default: all open work)",
    )
    grid: int = Field(default=12, ge=1, le=64, description="cells counted per side of the box")
    items: int = Field(default=200, ge=0, le=1000, description="at most this many open assignments, most urgent first")

    def box(self) -> open_work_store.Box | None:
        """The bounding box asked for, or None; 422 on the field when it is not one."""
        if self.bbox is None or not self.bbox.strip():
            return None
        try:
            west, south, east, north = (float(part) for part in self.bbox.split(","))
        except ValueError:
            west = south = east = north = float("nan")
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValidationFailed(
                "bbox is west,south,east,north in degrees, west before east and south before north",
                details=[{"field": "bbox", "message": "not a bounding box"}],
            )
        return open_work_store.Box(west, south, east, north)


Metric = Literal["created", "acknowledged", "resolved", "escalations", "median_ack_seconds"]


class TimeseriesQuery(StatsQuery):
    bucket: Literal["minute", "hour"] = "hour"
    metric: Metric | None = Field(default=None, description="one metric; default all")


# Responses -----------------------------------------------------------------------------------


class Period(BaseModel):
    from_: datetime = Field(alias="from")
    to: datetime


class Filters(BaseModel):
    agency: str | None
    district: str | None
    priority: str | None


class OpenByAgency(BaseModel):
    agency: str
    dispatched: int
    acknowledged: int
    in_progress: int
    paused: int
    total: int


class OpenWork(BaseModel):
    total: int = Field(description="open assignments (an agency's share of a ticket)")
    tickets: int = Field(description="tickets with at least one open assignment")
    by_agency: list[OpenByAgency]


class OverdueByAgency(BaseModel):
    agency: str
    ack: int
    resolve: int
    total: int


class OverdueNow(BaseModel):
    ack: int
    resolve: int
    total: int = Field(description="overdue open assignments")
    tickets: int = Field(description="tickets with at least one overdue open assignment")
    by_agency: list[OverdueByAgency]


class Dispatched(BaseModel):
    assignments: int
    tickets: int


class AckStats(BaseModel):
    acknowledged: int
    on_time: int
    late: int = Field(description="acknowledged after the deadline")
    missed: int = Field(description="not acknowledged, deadline passed")
    on_time_rate: float | None = Field(description="on_time / (acknowledged + missed)")
    p50_seconds: float | None
    p90_seconds: float | None
    p99_seconds: float | None


class ResolveStats(BaseModel):
    resolved: int
    on_time: int
    late: int
    missed: int
    on_time_rate: float | None = Field(description="on_time / (resolved + missed)")
    p50_seconds: float | None
    p90_seconds: float | None
    p99_seconds: float | None


class AgencyStats(BaseModel):
    agency: str
    assignments: int
    acknowledge: AckStats
    resolve: ResolveStats


class EscalationLevel(BaseModel):
    kind: str
    level: int
    count: int


class EscalationStats(BaseModel):
    total: int
    by_level: list[EscalationLevel]
    reminders: int


class Satisfaction(BaseModel):
    responses: int
    satisfied: int
    rate: float | None
    mean_rating: float


class Answered(BaseModel):
    tickets: int = Field(description="consultations answered at first contact (直接办结) filed in the period")
    rate: float | None = Field(description="answered ÷ (answered + tickets dispatched in the period)")


AS_OF = "when these figures were computed (the database's clock): a server shares one answer a few seconds"
AGE = "seconds since then, when this answer was sent"
MAX_AGE = "how long a server shares one answer (DISPATCH_STATS_SHARED_SECONDS; 0: never)"


class SummaryOut(BaseModel):
    as_of: datetime = Field(description=AS_OF)
    age_seconds: float = Field(description=AGE)
    max_age_seconds: float = Field(description=MAX_AGE)
    period: Period
    filters: Filters
    open: OpenWork
    overdue_now: OverdueNow
    dispatched: Dispatched
    answered: Answered
    acknowledge: AckStats
    resolve: ResolveStats
    by_agency: list[AgencyStats]
    escalations: EscalationStats
    satisfaction: Satisfaction | None


class OverdueItem(BaseModel):
    assignment_id: int
    ticket_id: int
    number: str
    priority: str
    category: str | None
    district: str | None
    agency: str
    desk_id: int | None
    role: str
    state: str
    ack_due: datetime
    resolve_due: datetime
    paused_at: datetime | None
    pause_reason: str | None
    kind: Literal["ack", "resolve"]
    due_at: datetime
    overdue_seconds: float
    escalation_level: int


class OverduePage(BaseModel):
    items: list[OverdueItem]
    next_cursor: str | None
    as_of: datetime = Field(description=AS_OF)
    age_seconds: float = Field(description=AGE)
    max_age_seconds: float = Field(description=MAX_AGE)


class LiveWork(BaseModel):
    assignment_id: int
    ticket_id: int
    number: str
    priority: str
    category: str | None
    district: str | None
    address: str
    lat: float | None
    lon: float | None
    ticket_status: str
    ticket_created_at: datetime
    agency: str
    desk_id: int | None
    desk: str | None
    role: str
    state: str
    ack_due: datetime
    resolve_due: datetime
    paused_at: datetime | None
    pause_reason: str | None
    created_at: datetime


class OpenEscalation(LiveWork):
    level: int = Field(description="the highest escalation level sent on a deadline still missed")
    kind: Literal["ack", "resolve"]
    due_at: datetime
    escalated_at: datetime | None = Field(description="when that level was sent")
    overdue_seconds: float


class OpenEscalationPage(BaseModel):
    items: list[OpenEscalation]
    next_cursor: str | None
    levels: int = Field(description="how many escalation levels there are: the top one raises the dashboard's alarm")
    as_of: datetime = Field(description=AS_OF)
    age_seconds: float = Field(description=AGE)
    max_age_seconds: float = Field(description=MAX_AGE)


class OpenItem(LiveWork):
    deadline: Literal["ack", "resolve"] = Field(description="the deadline that matters now")
    due_at: datetime
    overdue: bool
    escalation_level: int


class OpenPage(BaseModel):
    items: list[OpenItem]
    next_cursor: str | None


class MapCell(BaseModel):
    tickets: int
    overdue: int = Field(description="tickets with an overdue open assignment")
    priority: str | None = Field(description="the highest priority in the cell")
    lat: float = Field(description="the mean position of the cell's tickets")
    lon: float
    bbox: list[float] = Field(description="the cell's west, south, east, north")


class MapUnplaced(BaseModel):
    district: str | None
    tickets: int
    overdue: int
    priority: str | None


class MapView(BaseModel):
    box: list[float] | None
    grid: int
    total: int = Field(description="open tickets in the view (cells and unplaced together)")
    overdue: int
    items: list[OpenItem] = Field(description="the most urgent open work in the view, as /stats/open lists it")
    complete: bool = Field(description="items hold all the open work in the view")
    cells: list[MapCell] = Field(description="tickets with coordinates counted per grid cell")
    unplaced: list[MapUnplaced] = Field(description="tickets without coordinates per district (without a box)")
    as_of: datetime = Field(description=AS_OF)
    age_seconds: float = Field(description=AGE)
    max_age_seconds: float = Field(description=MAX_AGE)


class Point(BaseModel):
    at: datetime
    values: dict[str, float | None]


class TimeseriesOut(BaseModel):
    bucket: str
    period: Period
    metrics: list[str]
    points: list[Point]
    as_of: datetime = Field(description=AS_OF)
    age_seconds: float = Field(description=AGE)
    max_age_seconds: float = Field(description=MAX_AGE)


# Views ------------------------------------------------------------------------------------------


def _scope(principal: Principal, agency: str | None) -> str | None:
    """The agency filter this caller gets: a desk only ever its own agency."""
    if principal.role != "desk":
        return agency
    if agency is not None and agency != principal.agency:
        raise Forbidden("a desk sees its own agency's numbers only", code="not_your_agency")
    return principal.agency


def _period(params: StatsQuery, default_span: timedelta) -> tuple[datetime, datetime]:
    """The period asked for: ``to`` (default now) and ``from`` (default ``default_span`` before)."""
    end = params.to or datetime.now(UTC)
    start = params.from_ or end - default_span
    if start >= end:
        raise ValidationFailed("'from' must be before 'to'", details=[{"field": "from", "message": "not before 'to'"}])
    return max(start, EARLIEST), end


def _filters(principal: Principal, params: StatsQuery, default_span: timedelta) -> store.StatsFilter:
    start, end = _period(params, default_span)
    return store.StatsFilter(
        start=start,
        end=end,
        agency=_scope(principal, params.agency),
        district=params.district,
        priority=params.priority,
    )


def _question(kind: str, filters: store.StatsFilter, params: BaseModel) -> tuple[object, ...]:
    """What two callers must have asked alike to share one answer: the kind of read, the
    filters after the caller's scope, and the other parameters as given (a period left to its
    default is "the last 24 h as of the computation", the same question for everyone)."""
    asked = params.model_dump(exclude={"agency", "district", "priority"})
    return (kind, filters.agency, filters.district, filters.priority, *sorted(asked.items()))


async def _fold_open_counts(request: web.Request) -> None:
    """Fold the kept counts' deltas (a write: on the primary, before the read takes its own
    connection, so that one computation never holds two of one pool)."""
    async with request.app[DB].acquire() as conn:
        await open_counts.compact(conn)


async def _shared(
    request: web.Request,
    question: tuple[object, ...],
    read: Callable[[asyncpg.Connection], Awaitable[dict[str, Any]]],
    *,
    first: Callable[[web.Request], Awaitable[None]] | None = None,
) -> web.Response:
    """The answer to ``question``: shared with everyone who asked the same in the last few
    seconds (dispatch.runtime.shared_reads), else read now in one read-only transaction, so
    that its figures are of one moment, ``as_of``; ``first`` runs before a computation."""

    async def compute() -> dict[str, Any]:
        if first is not None:
            await first(request)
        async with request.app[REPLICA].acquire() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            # Planned for their values each time: computed once every few seconds for everyone,
            # these reads can spare the planning, and a generic plan of the summary's counts ran
            # 2.5 × as long over 10,000,000 tickets (docs/benchmarks.md, "Generic plans").
            await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
            as_of = await conn.fetchval("SELECT now()")
            return await read(conn) | {"as_of": as_of}

    reads = request.app[STATS]
    shared = await reads.get(question, compute)
    return json_response(shared.value | {"age_seconds": round(shared.age(), 3), "max_age_seconds": reads.seconds})


@describe(
    "Open and overdue work, response times, on-time rates, escalations, satisfaction",
    tag="stats",
    query=StatsQuery,
    responses={200: SummaryOut},
    operation="stats.read",
)
async def stats_summary(request: web.Request) -> web.Response:
    """GET /api/v1/stats/summary: the supervisors' numbers for a period (default the last 24 h)."""
    principal = await authenticate(request, "stats.read")
    params = query(request, StatsQuery)
    filters = _filters(principal, params, timedelta(hours=24))

    async def read(conn: asyncpg.Connection) -> dict[str, Any]:
        start, end = _period(params, timedelta(hours=24))  # a default period ends now
        return await store.summary(conn, dataclasses.replace(filters, start=start, end=end))

    return await _shared(request, _question("summary", filters, params), read, first=_fold_open_counts)


@describe(
    "What is late now, the longest overdue first",
    tag="stats",
    query=OverdueQuery,
    responses={200: OverduePage},
    operation="stats.read",
)
async def stats_overdue(request: web.Request) -> web.Response:
    """GET /api/v1/stats/overdue: open assignments past a deadline, worst first, with a cursor."""
    principal = await authenticate(request, "stats.read")
    params = query(request, OverdueQuery)
    filters = _now_filters(principal, params)

    async def read(conn: asyncpg.Connection) -> dict[str, Any]:
        items, next_cursor = await store.overdue(conn, filters, cursor=params.cursor, limit=params.limit)
        return {"items": items, "next_cursor": next_cursor}

    return await _shared(request, _question("overdue", filters, params), read)


def _now_filters(principal: Principal, params: OverdueQuery) -> store.StatsFilter:
    return store.StatsFilter(
        start=EARLIEST,
        end=LATEST,
        agency=_scope(principal, params.agency),
        district=params.district,
        priority=params.priority,
    )


@describe(
    "Escalations open now, highest level first",
    tag="stats",
    query=OverdueQuery,
    responses={200: OpenEscalationPage},
    operation="stats.read",
)
async def stats_escalations(request: web.Request) -> web.Response:
    """GET /api/v1/stats/escalations: open assignments escalated on a deadline they still miss,
    at the level they stand at, highest level first; what a supervisor opening the dashboard
    must see at once."""
    principal = await authenticate(request, "stats.read")
    params = query(request, OverdueQuery)
    filters = _now_filters(principal, params)
    levels = 1 + len(request.app[SETTINGS].escalation_intervals)

    async def read(conn: asyncpg.Connection) -> dict[str, Any]:
        items, next_cursor = await store.open_escalations(conn, filters, cursor=params.cursor, limit=params.limit)
        return {"items": items, "next_cursor": next_cursor, "levels": levels}

    return await _shared(request, _question("escalations", filters, params), read)


@describe(
    "Open work now with its place, P1 first and the earliest deadline first",
    tag="stats",
    query=OpenQuery,
    responses={200: OpenPage},
    operation="stats.read",
)
async def stats_open(request: web.Request) -> web.Response:
    """GET /api/v1/stats/open: open assignments with their ticket's address, district and
    coordinates (what a count stands for, and what the map draws)."""
    principal = await authenticate(request, "stats.read")
    params = query(request, OpenQuery)
    async with request.app[REPLICA].acquire() as conn:
        items, next_cursor = await open_work_store.open_work(
            conn,
            _now_filters(principal, params),
            state=params.state,
            overdue_only=params.overdue,
            cursor=params.cursor,
            limit=params.limit,
        )
    return json_response({"items": items, "next_cursor": next_cursor})


@describe(
    "Open work for a map at one view: counts per cell and the most urgent items, sized for a screen",
    tag="stats",
    query=MapQuery,
    responses={200: MapView},
    operation="stats.read",
)
async def stats_map(request: web.Request) -> web.Response:
    """GET /api/v1/stats/map: what the map consoles draw, bounded by the screen, not by the open
    work: every open ticket in the view counted per grid cell (and per district when it has no
    coordinates), and the ``items`` most urgent open assignments in it."""
    principal = await authenticate(request, "stats.read")
    params = query(request, MapQuery)
    box = params.box()
    filters = store.StatsFilter(
        start=EARLIEST,
        end=LATEST,
        agency=_scope(principal, params.agency),
        district=params.district,
        priority=params.priority,
    )

    async def read(conn: asyncpg.Connection) -> dict[str, Any]:
        return await open_work_store.map_view(
            conn, filters, overdue_only=params.overdue, box=box, grid=params.grid, items=params.items
        )

    # Every supervisor's map, and every desk's of one agency, asks the same at the same view:
    # the open work is read once per view every few seconds, not once per console.
    return await _shared(request, _question("map", filters, params), read)


@describe(
    "Per-minute or per-hour series for charts",
    tag="stats",
    query=TimeseriesQuery,
    responses={200: TimeseriesOut},
    operation="stats.read",
)
async def stats_timeseries(request: web.Request) -> web.Response:
    """GET /api/v1/stats/timeseries: created, acknowledged, resolved, escalations and median
    acknowledgement seconds per bucket (default the last hour by minute, or day by hour)."""
    principal = await authenticate(request, "stats.read")
    params = query(request, TimeseriesQuery)
    span = timedelta(hours=1) if params.bucket == "minute" else timedelta(hours=24)
    filters = _filters(principal, params, span)
    step = timedelta(minutes=1) if params.bucket == "minute" else timedelta(hours=1)
    if (filters.end - filters.start) / step > MAX_BUCKETS[params.bucket]:
        limit = MAX_BUCKETS[params.bucket]
        raise ValidationFailed(
            f"at most {limit} {params.bucket} buckets; shorten the period or use a larger bucket",
            details=[{"field": "from", "message": f"more than {limit} buckets"}],
        )
    metrics = (params.metric,) if params.metric else store.METRICS

    async def read(conn: asyncpg.Connection) -> dict[str, Any]:
        start, end = _period(params, span)  # a default period ends now
        now = dataclasses.replace(filters, start=start, end=end)
        points = await store.timeseries(conn, now, bucket=params.bucket, metrics=metrics)
        period = {"from": start, "to": end}
        return {"bucket": params.bucket, "period": period, "metrics": list(metrics), "points": points}

    return await _shared(request, _question("timeseries", filters, params), read)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/stats/summary", stats_summary)
    app.router.add_get("/api/v1/stats/overdue", stats_overdue)
    app.router.add_get("/api/v1/stats/timeseries", stats_timeseries)
    app.router.add_get("/api/v1/stats/escalations", stats_escalations)
    app.router.add_get("/api/v1/stats/open", stats_open)
    app.router.add_get("/api/v1/stats/map", stats_map)
