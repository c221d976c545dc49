"""Desks: ``GET /api/v1/desks`` for everyone inside, ``PUT /api/v1/desks/{code}`` for admins."""

from __future__ import annotations

from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from dispatch.access.auth import authenticate
from dispatch.api.params import path_text, query
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import AgencyCode, DistrictCode, Strict
from dispatch.api.spec import describe
from dispatch.errors import NotFound
from dispatch.runtime.app_keys import DB, DESKS
from dispatch.store import desks as store


class DeskOut(BaseModel):
    id: int
    code: str
    agency: str
    name: str
    city_level: bool
    districts: list[str]


class DeskList(BaseModel):
    items: list[DeskOut]


class DeskPut(Strict):
    agency: AgencyCode
    name: Annotated[str, Field(min_length=1, max_length=100)]
    districts: list[DistrictCode] = Field(default_factory=list, max_length=20)
    city_level: bool = False


class DeskQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agency: AgencyCode | None = None


@describe(
    "Desks and the districts they serve", tag="desks", query=DeskQuery, responses={200: DeskList}, operation="desk.read"
)
async def list_desks(request: web.Request) -> web.Response:
    await authenticate(request, "desk.read")
    params = query(request, DeskQuery)
    return json_response({"items": await store.list_desks(request.app[DB], params.agency)})


@describe(
    "Create or change a desk (its districts are replaced)",
    tag="desks",
    body=DeskPut,
    responses={200: DeskOut, 409: None},
    operation="desk.write",
)
async def put_desk(request: web.Request) -> web.Response:
    await authenticate(request, "desk.write")
    code = path_text(request, "code", max_length=64)
    if len(code) < 2:
        raise NotFound(f"no desk {code!r}")
    body = await read_model(request, DeskPut)
    async with request.app[DB].acquire() as conn:
        desk = await store.put_desk(
            conn,
            code,
            agency=body.agency,
            name=body.name,
            districts=sorted(set(body.districts)),
            city_level=body.city_level,
        )
    request.app[DESKS].forget()  # this process routes to the new layout at once, the others within seconds
    return json_response(desk)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/desks", list_desks)
    app.router.add_put("/api/v1/desks/{code}", put_desk)
