"""``POST /api/v1/classify``: the router's proposal for one request, with likely duplicates."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

import routing
from dispatch.access.auth import authenticate
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import ClassifyOut, ClassifyRequest
from dispatch.api.spec import describe
from dispatch.errors import Unavailable
from dispatch.intake.decision import classification_dict, propose
from dispatch.runtime.app_keys import DB, GAZETTEER
from dispatch.store.duplicates import find_duplicates


@describe(
    "Classify a request: category, priority, agencies, reasons, duplicates",
    tag="routing",
    body=ClassifyRequest,
    responses={200: ClassifyOut},
    operation="classify",
)
async def classify(request: web.Request) -> web.Response:
    """The same proposal ticket creation uses, for the call-taker's form as they type."""
    await authenticate(request, "classify")
    body = await read_model(request, ClassifyRequest)
    district = body.district or routing.locate_district(body.address, None, body.lat, body.lon)
    proposal = propose(body.text, body.address, district, await request.app[GAZETTEER].get(request.app[DB]))
    if proposal is None:
        raise Unavailable("the classifier is not available", headers={"Retry-After": "30"})
    result = classification_dict(proposal) | {"id": body.id, "district": proposal.district or district}
    # Without coordinates, the gazetteer's place stands in for them in the duplicate search.
    lat, lon = body.lat, body.lon
    if lat is None and lon is None and proposal.place is not None:
        lat, lon = proposal.place.lat, proposal.place.lon
    result["duplicates"] = await find_duplicates(
        request.app[DB],
        exclude_id=None,
        category=proposal.category,
        text=body.text,
        address=body.address or "",
        district=result["district"],
        lat=lat,
        lon=lon,
        now=datetime.now(UTC),
    )
    return json_response(result)


def setup(app: web.Application) -> None:
    app.router.add_post("/api/v1/classify", classify)
