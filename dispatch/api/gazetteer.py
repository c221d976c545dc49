"""The gazetteer: ``GET /api/v1/gazetteer`` (JSON) and ``GET /api/v1/gazetteer/export`` (the
CSV an import reads; not in the OpenAPI document, which describes JSON only) for staff,
``POST /api/v1/gazetteer/import`` (a CSV text) for admins."""

from __future__ import annotations

import asyncio
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field

import routing
from dispatch.access.auth import authenticate
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import Strict, Text
from dispatch.api.spec import describe
from dispatch.errors import ValidationFailed
from dispatch.runtime.app_keys import DB, GAZETTEER
from dispatch.store import gazetteer as store


class GazetteerPlace(BaseModel):
    name: str
    kind: str
    district: str
    lat: float
    lon: float
    aliases: list[str]


class GazetteerList(BaseModel):
    items: list[GazetteerPlace]


class GazetteerImport(Strict):
    csv: Annotated[Text, Field(min_length=1, max_length=1_000_000)] = Field(
        description="UTF-8 CSV with a header: name,kind,district,lat,lon,aliases"
    )
    replace: bool = Field(default=False, description="drop every place not in this file")


class GazetteerImported(BaseModel):
    imported: int
    removed: int
    total: int


async def export_gazetteer(request: web.Request) -> web.Response:
    """``GET /api/v1/gazetteer/export``: the gazetteer as CSV."""
    await authenticate(request, "gazetteer.read")
    places = await store.list_places(request.app[DB])
    return web.Response(text=routing.to_csv(places), content_type="text/csv", charset="utf-8")


@describe(
    "The gazetteer: places and intersections with coordinates",
    tag="gazetteer",
    responses={200: GazetteerList},
    operation="gazetteer.read",
)
async def list_gazetteer(request: web.Request) -> web.Response:
    await authenticate(request, "gazetteer.read")
    places = await store.list_places(request.app[DB])
    items = [
        {"name": p.name, "kind": p.kind, "district": p.district, "lat": p.lat, "lon": p.lon, "aliases": list(p.aliases)}
        for p in places
    ]
    return json_response({"items": items})


@describe(
    "Load places from a CSV (every row checked first; nothing stored if one is wrong)",
    tag="gazetteer",
    body=GazetteerImport,
    responses={200: GazetteerImported},
    operation="gazetteer.write",
)
async def import_gazetteer(request: web.Request) -> web.Response:
    principal = await authenticate(request, "gazetteer.write")
    body = await read_model(request, GazetteerImport)
    try:
        # Up to 10,000 rows are checked: off the event loop.
        places = await asyncio.to_thread(routing.parse_csv, body.csv)
    except routing.GazetteerError as exc:
        raise ValidationFailed(
            "the gazetteer CSV has bad rows; nothing was stored",
            details=[{"field": "csv", "row": row, "message": message} for row, message in exc.problems],
        ) from None
    async with request.app[DB].acquire() as conn:
        result = await store.import_places(conn, places, source=f"api:{principal.name}", replace=body.replace)
    request.app[GAZETTEER].forget()  # this process places with the new gazetteer at once, the others within seconds
    return json_response(result)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/gazetteer", list_gazetteer)
    app.router.add_get("/api/v1/gazetteer/export", export_gazetteer)
    app.router.add_post("/api/v1/gazetteer/import", import_gazetteer)
