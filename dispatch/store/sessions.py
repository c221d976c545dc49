"""What a console session needs from the users table: the live user behind a session cookie."""

from __future__ import annotations

import asyncpg

from dispatch.store.users import Principal


async def find_session_user(
    conn: asyncpg.Connection | asyncpg.Pool, user_id: int
) -> tuple[Principal, bytes, int] | None:
    """The live (not revoked, not expired) user with this id, its token hash and password
    epoch, else None.

    The token hash keys the session signature (``dispatch/access/sessions.py``), so rotating or
    revoking the token ends every session signed with it; the epoch is signed too, so a
    password change ends them as well.
    """
    row = await conn.fetchrow(
        """
        SELECT id, name, role, agency, district, desk_id, token_hash, password_epoch FROM users
        WHERE id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())
        """,
        user_id,
    )
    if row is None:
        return None
    principal = Principal(row["id"], row["name"], row["role"], row["agency"], row["district"], row["desk_id"])
    return principal, bytes(row["token_hash"]), row["password_epoch"]
