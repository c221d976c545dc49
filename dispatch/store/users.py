"""Users and their API tokens. Tokens are stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Final, Literal

import asyncpg

from dispatch.errors import Conflict, ValidationFailed

Role = Literal["call_taker", "desk", "supervisor", "admin", "partner"]
ROLES: Final[tuple[Role, ...]] = ("call_taker", "desk", "supervisor", "admin", "partner")
TOKEN_PREFIX: Final = "ms_"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is making a request: the user behind a token."""

    id: int
    name: str
    role: Role
    agency: str | None
    district: str | None
    desk_id: int | None


def new_token() -> str:
    """A fresh API token: 256 random bits, URL-safe."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> bytes:
    """The stored form of a token. Tokens are random, so a fast hash is enough (no guessing)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


async def add_user(
    conn: asyncpg.Connection,
    name: str,
    role: str,
    *,
    agency: str | None = None,
    district: str | None = None,
    desk_code: str | None = None,
    expires_at: datetime | None = None,
) -> tuple[Principal, str]:
    """Create a user; return it with its token (shown once). Nothing is created on error."""
    name = name.strip()
    if not name or len(name) > 100:
        raise ValidationFailed("a user name has 1 to 100 characters", details=[{"field": "name"}])
    if role not in ROLES:
        raise ValidationFailed(f"unknown role {role!r}; choose one of {', '.join(ROLES)}", details=[{"field": "role"}])
    if role == "desk" and not agency:
        raise ValidationFailed("a desk user needs --agency", details=[{"field": "agency"}])
    if agency is not None and not await conn.fetchval("SELECT 1 FROM agencies WHERE code = $1", agency):
        known = [r["code"] for r in await conn.fetch("SELECT code FROM agencies ORDER BY code")]
        raise ValidationFailed(
            f"unknown agency {agency!r}; known agencies: {', '.join(known)}", details=[{"field": "agency"}]
        )
    district_code = None
    if district is not None:
        district_code = await conn.fetchval(
            "SELECT code FROM districts WHERE code = lower($1) OR name_zh = $1", district.strip()
        )
        if district_code is None:
            raise ValidationFailed(f"unknown district {district!r}", details=[{"field": "district"}])
    desk_id = None
    if desk_code is not None:
        desk = await conn.fetchrow("SELECT id, agency FROM desks WHERE code = $1", desk_code)
        if desk is None:
            raise ValidationFailed(f"unknown desk {desk_code!r}", details=[{"field": "desk"}])
        if agency is not None and desk["agency"] != agency:
            raise ValidationFailed(f"desk {desk_code!r} is not an {agency} desk", details=[{"field": "desk"}])
        agency = agency or desk["agency"]
        desk_id = desk["id"]
    token = new_token()
    try:
        user_id = await conn.fetchval(
            """
            INSERT INTO users (name, role, agency, district, desk_id, token_hash, expires_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id
            """,
            name,
            role,
            agency,
            district_code,
            desk_id,
            hash_token(token),
            expires_at,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a user named {name!r} already exists", code="user_exists") from None
    return Principal(user_id, name, role, agency, district_code, desk_id), token


async def find_by_token(conn: asyncpg.Connection | asyncpg.Pool, token: str) -> Principal | None:
    """The live (not revoked, not expired) user holding this token, else None."""
    row = await conn.fetchrow(
        """
        SELECT id, name, role, agency, district, desk_id FROM users
        WHERE token_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        """,
        hash_token(token),
    )
    if row is None:
        return None
    return Principal(row["id"], row["name"], row["role"], row["agency"], row["district"], row["desk_id"])


async def revoke_user(conn: asyncpg.Connection, name: str) -> bool:
    """Revoke a user's token; True if a live user was revoked."""
    result: str = await conn.execute("UPDATE users SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL", name)
    return result.endswith(" 1")


async def rotate_token(conn: asyncpg.Connection, name: str) -> str | None:
    """Give a live user a new token (the old one stops working); None if there is no such user."""
    token = new_token()
    result: str = await conn.execute(
        "UPDATE users SET token_hash = $2 WHERE name = $1 AND revoked_at IS NULL", name, hash_token(token)
    )
    return token if result.endswith(" 1") else None


async def set_password(conn: asyncpg.Connection | asyncpg.Pool, name: str, encoded: str) -> bool:
    """Store a user's new password hash; the sessions signed before end. False if there is no
    live user of that name."""
    result: str = await conn.execute(
        """UPDATE users SET password_hash = $2, password_changed_at = now(), password_epoch = password_epoch + 1
           WHERE name = $1 AND revoked_at IS NULL""",
        name,
        encoded,
    )
    return result.endswith(" 1")


async def find_for_password(
    conn: asyncpg.Connection | asyncpg.Pool, name: str
) -> tuple[Principal, str | None, bytes, int] | None:
    """The live user of this name with its password hash (None: no password set), token hash and
    password epoch; None if there is no live user of that name."""
    row = await conn.fetchrow(
        """
        SELECT id, name, role, agency, district, desk_id, password_hash, token_hash, password_epoch FROM users
        WHERE name = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        """,
        name,
    )
    if row is None:
        return None
    principal = Principal(row["id"], row["name"], row["role"], row["agency"], row["district"], row["desk_id"])
    return principal, row["password_hash"], bytes(row["token_hash"]), row["password_epoch"]


async def token_hash_and_epoch(conn: asyncpg.Connection | asyncpg.Pool, user_id: int) -> tuple[bytes, int]:
    """What a session of this user is signed with."""
    row = await conn.fetchrow("SELECT token_hash, password_epoch FROM users WHERE id = $1", user_id)
    assert row is not None, "the user signed in a moment ago and users are never deleted"
    return bytes(row["token_hash"]), row["password_epoch"]


async def set_password_hash_quietly(conn: asyncpg.Connection | asyncpg.Pool, user_id: int, encoded: str) -> None:
    """Replace a hash by a stronger one of the same password (sessions stay valid)."""
    await conn.execute("UPDATE users SET password_hash = $2 WHERE id = $1", user_id, encoded)
