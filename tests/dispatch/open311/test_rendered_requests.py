"""The memo of rendered Open311 items: an identical row is served from it, a changed row is
rendered again, and it holds no more than its size."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dispatch.open311.requests import RenderedRequests, render_item


def _row(**overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": 1,
        "number": "MS20261203-000001",
        "status": "dispatched",
        "category": "urban.street_light",
        "description": "路灯坏了，我是王明，电话13912345678",
        "address": "驿城区解放路",
        "lat": 32.98,
        "lon": 114.02,
        "caller_phone": "+8613912345678",
        "caller_name": "王明",
        "created_at": datetime(2026, 12, 3, 1, 0, tzinfo=UTC),
        "updated_at": datetime(2026, 12, 3, 1, 0, tzinfo=UTC),
        "lead_agency": "urban",
        "lead_resolve_due": datetime(2026, 12, 4, 1, 0, tzinfo=UTC),
        "lead_resolution": None,
        "lead_state": "dispatched",
        "media_url": None,
    }
    row.update(overrides)
    return row


def test_an_identical_row_is_served_from_the_memo_and_a_changed_one_rendered_again() -> None:
    memo = RenderedRequests()
    [first] = memo.items([_row()])
    assert first == render_item(_row())
    assert "13912345678" not in first["description"] and "王明" not in first["description"]
    [again] = memo.items([_row()])
    assert again is first
    [resolved] = memo.items([_row(status="resolved", lead_resolution="已更换灯泡", lead_state="resolved")])
    assert resolved["status"] == "closed" and "已更换灯泡" in resolved["status_notes"]
    assert first["status"] == "open"  # the earlier item is left as it was


def test_the_memo_keeps_only_the_most_recently_used_items() -> None:
    memo = RenderedRequests(size=2)
    rows = [_row(id=i, number=f"MS20261203-00000{i}") for i in range(3)]
    zero, one = memo.items(rows[:2])
    memo.items(rows[:1])  # row 0 used again: row 1 is now the oldest
    memo.items(rows[2:])
    assert len(memo) == 2
    assert memo.items(rows[:1])[0] is zero
    assert memo.items(rows[1:2])[0] is not one  # dropped, rendered again
