"""Console passwords: argon2id hashes (``argon2-cffi``) with OWASP's recommended parameters
(19 MiB of memory, 2 passes, 1 lane: tens of milliseconds on a server core, and far beyond what
a GPU can try in bulk), computed in a worker thread so that a sign-in never stalls the event
loop. Hashes made with other parameters are still verified, and re-hashed at the next sign-in.

A password is an alternative to the API token for people signing in to a console at the start
of a shift; the API keeps using tokens.
"""

from __future__ import annotations

import asyncio
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from dispatch.errors import ValidationFailed

MIN_LENGTH: Final = 8
MAX_LENGTH: Final = 200
_HASHER: Final = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified against when the user is unknown or has no password, so that every failure costs
# the same time and user names cannot be told apart by how fast the answer comes.
_DECOY_HASH: Final = _HASHER.hash("dispatch-decoy-password")


def check_policy(password: str) -> None:
    """422 unless the password has 8 to 200 characters and is not blank."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH or not password.strip():
        raise ValidationFailed(
            f"a password has {MIN_LENGTH} to {MAX_LENGTH} characters / 密码长度为 {MIN_LENGTH} 至 {MAX_LENGTH} 个字符",
            details=[{"field": "password", "message": f"{MIN_LENGTH} to {MAX_LENGTH} characters"}],
        )


def hash_password(password: str) -> str:
    """The argon2id encoded hash of ``password`` (salt and parameters included)."""
    check_policy(password)
    return _HASHER.hash(password)


def verify_password(encoded: str | None, password: str) -> bool:
    """Whether ``password`` matches ``encoded``; with no hash, False after the same work."""
    try:
        return _HASHER.verify(encoded or _DECOY_HASH, password) and encoded is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(encoded: str) -> bool:
    """Whether the hash was made with weaker parameters than today's."""
    return _HASHER.check_needs_rehash(encoded)


async def hash_password_async(password: str) -> str:
    """:func:`hash_password` in a worker thread."""
    check_policy(password)
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password_async(encoded: str | None, password: str) -> bool:
    """:func:`verify_password` in a worker thread."""
    return await asyncio.to_thread(verify_password, encoded, password)
