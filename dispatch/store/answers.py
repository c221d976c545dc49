"""Consultations answered at first contact (直接答复): the knowledge-base entry an answer names,
checked and resolved to the version recorded with the ticket and the ``ticket.answered`` event.
The ticket itself is written like every other (``store.new_tickets``), as ``answered``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from dispatch.errors import Conflict, NotFound, ValidationFailed
from dispatch.store.kb import get_version


@dataclass(frozen=True, slots=True)
class Answer:
    """What the caller was told: an entry of the knowledge base and/or free text."""

    kb_entry: int | None
    text: str | None


@dataclass(frozen=True, slots=True)
class AnsweredFrom:
    """The entry version an answer came from (None without an entry) and the event's data."""

    kb_entry_id: int | None
    kb_version: int | None
    category: str | None
    event_data: dict[str, Any]


async def resolve_answer(conn: asyncpg.Connection, answer: Answer) -> AnsweredFrom:
    """The entry ``answer`` names, in force (422 when there is none, 409 when retired), and the
    ``ticket.answered`` event's data: the text given, and the entry's id, version, title and answer."""
    data: dict[str, Any] = {"text": answer.text}
    if answer.kb_entry is None:
        return AnsweredFrom(None, None, None, data)
    try:
        entry = await get_version(conn, answer.kb_entry)
    except NotFound:
        # A field of the request names nothing: the request is invalid, not a missing page.
        raise ValidationFailed(
            f"no knowledge-base entry {answer.kb_entry} / 没有该知识条目",
            details=[{"field": "answer.kb_entry", "message": "no such entry", "type": "kb_entry_not_found"}],
        ) from None
    if entry["retired"]:
        raise Conflict(
            f"knowledge-base entry {answer.kb_entry} is retired; answer from an entry in force / 该知识条目已停用",
            code="kb_entry_retired",
        )
    data |= {
        "kb_entry": entry["entry_id"],
        "kb_version": entry["version"],
        "title": entry["title"],
        "answer": entry["answer"],
    }
    return AnsweredFrom(entry["entry_id"], entry["version"], entry["category"], data)
