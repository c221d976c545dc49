"""HTTP views. Each module registers its routes with ``setup(app)``."""

from __future__ import annotations

from aiohttp import web

from dispatch.api import (
    agency,
    assignments,
    classify,
    console,
    desks,
    gazetteer,
    handled,
    health,
    interop,
    kb,
    me,
    metrics,
    open311,
    openapi,
    public,
    queue,
    service_levels,
    sms,
    stats,
    stream,
    supervision,
    tickets,
    users,
)


def setup_routes(app: web.Application) -> None:
    """Register every view module's routes."""
    for module in (
        health,
        me,
        tickets,
        queue,
        handled,
        assignments,
        supervision,
        agency,
        desks,
        gazetteer,
        classify,
        kb,
        stream,
        public,
        open311,
        interop,
        service_levels,
        stats,
        metrics,
        users,
        sms,
        console,
        openapi,
    ):
        module.setup(app)
