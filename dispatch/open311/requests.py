"""A service request as GeoReport v2 shows it, made from a row of ``store.public.open311_requests``,
and the memo that keeps a list of the last 90 days cheap.

A partner's list asks for the same thousand requests again and again, and turning a row into
the spec's item (the caller's number and name redacted from three texts, three times in China
time) costs far more than reading the row: about 35 µs a row, 35 ms for the spec's page of
1,000, against 2 µs for a memo lookup. The memo is keyed by every column of the row, so a
request whose status, texts, deadline or resolution changed is rendered again, never served
stale; it holds the most recently rendered ``MEMO_SIZE`` items of one process.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any, Final

import agencies
from dispatch.interop.public_text import agency_names, local_iso, redact, status_text
from dispatch.store.public import OPEN311_CLOSED_STATUSES

# Items remembered per process: a few times the spec's page of 1,000, so that the pages a
# partner polls (open, closed, both; a few service codes) stay rendered between changes. An
# item with its key (the row) takes about twice its texts: a few megabytes in all.
MEMO_SIZE: Final = 5_000


def render_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's service request for ``row``: no caller's phone, name or e-mail anywhere."""
    closed = row["status"] in OPEN311_CLOSED_STATUSES
    notes = status_text(row["status"]).joined()
    if row["lead_resolution"]:
        resolution = redact(row["lead_resolution"], phone=row["caller_phone"], name=row["caller_name"])
        notes += f"。办理结果 / resolution: {resolution}"
    category = agencies.CATEGORIES.get(row["category"] or "")
    return {
        "service_request_id": row["number"],
        "status": "closed" if closed else "open",
        "status_notes": notes,
        "service_name": category.name_zh if category else None,
        "service_code": row["category"],
        "description": redact(row["description"], phone=row["caller_phone"], name=row["caller_name"]),
        "agency_responsible": agency_names(row["lead_agency"]).zh if row["lead_agency"] else None,
        "service_notice": None,
        "requested_datetime": local_iso(row["created_at"]),
        "updated_datetime": local_iso(row["updated_at"]),
        "expected_datetime": local_iso(row["lead_resolve_due"]),
        "address": redact(row["address"], phone=row["caller_phone"], name=row["caller_name"]) or None,
        "address_id": None,
        "zipcode": None,
        "lat": row["lat"],
        "long": row["lon"],
        "media_url": row["media_url"],
    }


class RenderedRequests:
    """Rendered items by their row's full contents, the least recently used dropped first."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._items: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()

    def items(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """The spec's items for ``rows``, in order; what was rendered before for an identical
        row is returned as it was (items are never changed once made: callers only encode them)."""
        out = []
        memo = self._items
        for row in rows:
            key = tuple(row.values())
            item = memo.get(key)
            if item is None:
                item = render_item(row)
                memo[key] = item
                if len(memo) > self._size:
                    memo.popitem(last=False)
            else:
                memo.move_to_end(key)
            out.append(item)
        return out

    def __len__(self) -> int:
        return len(self._items)
