"""Tickets and assignments as the API shows them: the columns read and the dicts made of them."""

from __future__ import annotations

from typing import Any

import asyncpg

from dispatch.store.users import Principal

TICKET_COLUMNS = """
    t.id, t.number, t.tracking_token, t.channel, t.caller_phone, t.caller_name, t.caller_no_phone_reason,
    t.address, t.district,
    t.lat, t.lon, t.description, t.category, t.priority, t.status, t.merged_into, t.classification,
    t.created_by, t.created_at, t.updated_at, t.resolved_at, t.closed_at, t.facts, t.short_code,
    t.kb_entry_id, t.kb_version
"""
ASSIGNMENT_COLUMNS = """
    id, ticket_id, agency, desk_id, role, state, ack_due, resolve_due, created_at, acknowledged_at,
    started_at, resolved_at, resolution, closed_at, closed_reason, transferred_to, version,
    paused_at, pause_reason, deadlines_armed_at, escalation_level
"""
# Internal users who may see a ticket's tracking token (to read it out to the caller).
TOKEN_READERS = frozenset({"call_taker", "supervisor", "admin", "partner"})


def _caller(row: asyncpg.Record) -> dict[str, Any]:
    caller = {"phone": row["caller_phone"], "name": row["caller_name"]}
    if row["caller_no_phone_reason"]:
        caller["no_phone_reason"] = row["caller_no_phone_reason"]  # only when there is no number
    return caller


def ticket_dict(row: asyncpg.Record, principal: Principal | None) -> dict[str, Any]:
    show_token = principal is None or principal.role in TOKEN_READERS
    return {
        "id": row["id"],
        "number": row["number"],
        "tracking_token": row["tracking_token"] if show_token else None,
        "short_code": row["short_code"] if show_token else None,
        "status": row["status"],
        "category": row["category"],
        "priority": row["priority"],
        "channel": row["channel"],
        "description": row["description"],
        "caller": _caller(row),
        "location": {
            "address": row["address"],
            "district": row["district"],
            "lat": row["lat"],
            "lon": row["lon"],
        },
        "merged_into": row["merged_into"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "resolved_at": row["resolved_at"],
        "closed_at": row["closed_at"],
        "classification": row["classification"],
        "facts": row["facts"] or {},
        "answer": {"kb_entry": row["kb_entry_id"], "kb_version": row["kb_version"]} if row["kb_entry_id"] else None,
    }


ASSIGNMENT_FIELDS = tuple(name.strip() for name in ASSIGNMENT_COLUMNS.split(","))


def assignment_dict(row: asyncpg.Record) -> dict[str, Any]:
    """An assignment as the API shows it, from a row with at least ``ASSIGNMENT_COLUMNS``."""
    return {name: row[name] for name in ASSIGNMENT_FIELDS}
