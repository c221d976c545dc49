"""``GET /api/v1/me``: who the token belongs to (also the simplest authenticated endpoint)."""

from __future__ import annotations

from dataclasses import asdict

from aiohttp import web

from dispatch.access.auth import authenticate
from dispatch.api.responses import json_response
from dispatch.api.schemas import MeOut
from dispatch.api.spec import describe


@describe("Who the token belongs to", tag="auth", responses={200: MeOut}, operation="me")
async def me(request: web.Request) -> web.Response:
    """The caller's user record, without the token."""
    principal = await authenticate(request, "me")
    return json_response(asdict(principal))


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/me", me)
