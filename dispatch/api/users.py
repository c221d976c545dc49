"""User administration over REST: an admin resets a user's console password (the CLI does the
rest, docs/cli.md)."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web
from pydantic import BaseModel, Field

from dispatch.access.auth import authenticate
from dispatch.access.passwords import MAX_LENGTH, MIN_LENGTH, hash_password_async
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import Strict
from dispatch.api.spec import describe
from dispatch.errors import NotFound
from dispatch.runtime.app_keys import DB
from dispatch.store.users import set_password


class PasswordSet(Strict):
    password: str = Field(min_length=MIN_LENGTH, max_length=MAX_LENGTH, description="the new password")


class PasswordSetOut(BaseModel):
    name: str
    password_changed_at: datetime
    sessions_ended: bool = Field(description="the user's console sessions signed before the change have ended")


@describe(
    "Set or reset a user's console password (their open console sessions end)",
    tag="users",
    body=PasswordSet,
    responses={200: PasswordSetOut},
    operation="user.password",
)
async def set_user_password(request: web.Request) -> web.Response:
    """PUT /api/v1/users/{name}/password."""
    await authenticate(request, "user.password")
    name = request.match_info["name"]
    body = await read_model(request, PasswordSet)
    encoded = await hash_password_async(body.password)
    async with request.app[DB].acquire() as conn:
        if not await set_password(conn, name, encoded):
            raise NotFound(f"no live user named {name!r} / 没有该用户", code="user_not_found")
        changed = await conn.fetchval("SELECT password_changed_at FROM users WHERE name = $1", name)
    return json_response({"name": name, "password_changed_at": changed, "sessions_ended": True})


def setup(app: web.Application) -> None:
    app.router.add_put("/api/v1/users/{name}/password", set_user_password)
