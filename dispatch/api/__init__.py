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
    health,
    interop,
    me,
    metrics,
    open311,
    openapi,
    public,
    service_levels,
    stats,
    stream,
    tickets,
)


def setup_routes(app: web.Application) -> None:
    """Register every view module's routes."""
    for module in (
        health,
        me,
        tickets,
        assignments,
        agency,
        desks,
        gazetteer,
        classify,
        stream,
        public,
        open311,
        interop,
        service_levels,
        stats,
        metrics,
        console,
        openapi,
    ):
        module.setup(app)
