"""Repeat calls about one incident: rank open tickets that the new request probably duplicates.

A candidate and an open ticket are compared on four facts, each scored 0..1:
place (distance between coordinates, or similarity of the address texts), time (inside the
category's window, closer is better), category (same, or related) and text (overlap of
character bigrams). A ticket must be in a same or related category, inside the time window
and near enough by place; the score then ranks the survivors.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from agencies import CATEGORIES
from routing.address import address_key
from routing.geo import distance_m
from routing.text import normalise, segments


@dataclass(frozen=True, slots=True)
class TicketFacts:
    """The facts of a ticket (or of a new request) that duplicate detection looks at."""

    id: str
    category: str
    text: str
    address: str | None
    district: str | None
    lat: float | None
    lon: float | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class DuplicateMatch:
    """An open ticket that the candidate may duplicate, with a score and the reason in Chinese."""

    ticket_id: str
    score: float
    reason: str
    distance_m: float | None


# How long after a ticket's creation another report is likely the same incident.
HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)
WINDOW_BY_PRIORITY: Final[dict[str, timedelta]] = {"P1": 3 * HOUR, "P2": 12 * HOUR, "P3": 3 * DAY, "P4": 7 * DAY}
WINDOW_BY_CATEGORY: Final[dict[str, timedelta]] = {
    "emergency.fire": 2 * HOUR,
    "transport.accident": 2 * HOUR,
    "police.violence": 2 * HOUR,
    "health.emergency": 1 * HOUR,
    "emergency.gas_leak": 3 * HOUR,
    "police.missing_person": 2 * DAY,
    "emergency.natural_disaster": 1 * DAY,
    "emergency.hazmat": 6 * HOUR,
    "police.public_order": 6 * HOUR,
    "transport.obstruction": 6 * HOUR,
    "urban.utilities": 2 * DAY,
    "transport.signal": 3 * DAY,
    "urban.street_light": 14 * DAY,
    "urban.illegal_building": 30 * DAY,
    "transport.road_damage": 14 * DAY,
    "urban.facility": 14 * DAY,
}

# Categories one incident is often reported under by different callers.
RELATED: Final[tuple[frozenset[str], ...]] = (
    frozenset({"transport.accident", "transport.obstruction", "emergency.hazmat"}),
    frozenset({"emergency.fire", "emergency.gas_leak", "emergency.hazmat", "emergency.collapse"}),
    frozenset({"urban.utilities", "emergency.natural_disaster", "transport.road_damage"}),
    frozenset({"transport.road_damage", "urban.facility"}),
    frozenset({"police.public_order", "urban.construction_noise"}),
    frozenset({"police.violence", "police.dispute", "police.public_order"}),
    frozenset({"police.theft", "police.fraud"}),
    frozenset({"transport.signal", "transport.obstruction"}),
    frozenset({"health.food_safety", "health.epidemic", "health.emergency"}),
    frozenset({"urban.sanitation", "urban.vending"}),
    frozenset({"emergency.hazard", "urban.facility", "emergency.collapse"}),
)

NEAR_M: Final = 500.0  # beyond this distance two reports are different places
MIN_SCORE: Final = 0.45


@functools.cache
def window(category: str) -> timedelta:
    """How long after creation a ticket of ``category`` still attracts duplicates."""
    known = WINDOW_BY_CATEGORY.get(category)
    if known is not None:
        return known
    cat = CATEGORIES.get(category)
    return WINDOW_BY_PRIORITY[cat.default_priority if cat else "P3"]


@functools.cache
def related_categories(category: str) -> frozenset[str]:
    """Every category that can describe the same incident as ``category`` (itself included)."""
    found = {category}
    for group in RELATED:
        if category in group:
            found |= group
    return frozenset(found)


def related(a: str, b: str) -> bool:
    """Whether two categories are the same or often describe one incident."""
    return a == b or b in related_categories(a)


# Open tickets are compared with every new call for hours: their bigrams (and their address
# keys, cached in routing.address) are worth keeping.
@functools.lru_cache(maxsize=20_000)
def _bigrams(text: str) -> frozenset[str]:
    grams: set[str] = set()
    for seg in segments(normalise(text)):
        if len(seg) == 1:
            grams.add(seg)
        grams.update(seg[i : i + 2] for i in range(len(seg) - 1))
    return frozenset(grams)


def similarity(a: str, b: str) -> float:
    """Overlap (Jaccard) of the character bigrams of two texts, 0..1."""
    ga, gb = _bigrams(a), _bigrams(b)
    if not ga or not gb:
        return 0.0
    common = len(ga & gb)
    return common / (len(ga) + len(gb) - common)


def _place(candidate: TicketFacts, ticket: TicketFacts) -> tuple[float, float | None, str] | None:
    """(score, metres or None, reason) when the two are plausibly at one place, else None."""
    if candidate.district and ticket.district and candidate.district != ticket.district:
        return None
    if candidate.lat is not None and candidate.lon is not None and ticket.lat is not None and ticket.lon is not None:
        metres = distance_m(candidate.lat, candidate.lon, ticket.lat, ticket.lon)
        if metres > NEAR_M:
            return None
        return 1.0 - metres / NEAR_M * 0.8, metres, f"相距约 {metres:.0f} 米"
    if candidate.address and ticket.address:
        # Address keys: "解放大道与雪松路交叉口" and "解放大道雪松路路口" are one place.
        a, b = address_key(candidate.address), address_key(ticket.address)
        if a == b:
            return 1.0, None, "地址相同"
        sim = similarity(a, b)
        if a in b or b in a:
            sim = max(sim, 0.7)
        if sim >= 0.5:
            return sim, None, f"地址相近（相似度 {sim:.2f}）"
    return None


def find_duplicates(
    candidate: TicketFacts,
    open_tickets: Iterable[TicketFacts],
    now: datetime,
    limit: int = 5,
) -> list[DuplicateMatch]:
    """Open tickets that ``candidate`` probably reports again, best first (at most ``limit``).

    A match needs a same or related category, creation within the category's window before
    ``now``, and the same place (coordinates within 500 m, or the same or a similar address;
    different known districts never match). The score weighs place 0.35, text 0.3, time 0.2
    and category 0.15; matches under 0.45 are dropped. ``now`` and ``created_at`` must both
    be aware or both naive.
    """
    scored: list[tuple[float, str, TicketFacts, float | None, str, float, timedelta]] = []
    for ticket in open_tickets:
        if ticket.id == candidate.id or not related(candidate.category, ticket.category):
            continue
        span = max(window(ticket.category), window(candidate.category))
        age = now - ticket.created_at
        if age < timedelta(0) or age > span:
            continue
        place = _place(candidate, ticket)
        if place is None:
            continue
        place_score, metres, place_reason = place
        text_score = similarity(candidate.text, ticket.text)
        time_score = 1.0 - age / span
        same = candidate.category == ticket.category
        score = 0.35 * place_score + 0.3 * min(1.0, text_score * 2) + 0.2 * time_score + 0.15 * (1.0 if same else 0.5)
        if score >= MIN_SCORE:
            scored.append((round(score, 3), ticket.id, ticket, metres, place_reason, text_score, age))
    scored.sort(key=lambda s: (-s[0], s[1]))
    # Reasons are written for the few that are shown, not for every candidate.
    return [
        DuplicateMatch(ticket_id, score, _reason(candidate, ticket, place_reason, text_score, age), metres)
        for score, ticket_id, ticket, metres, place_reason, text_score, age in scored[:limit]
    ]


def _reason(candidate: TicketFacts, ticket: TicketFacts, place_reason: str, text_score: float, age: timedelta) -> str:
    minutes = int(age.total_seconds() // 60)
    when = (
        f"{minutes} 分钟前"
        if minutes < 120
        else f"{minutes // 60} 小时前"
        if minutes < 2880
        else f"{minutes // 1440} 天前"
    )
    kind = "同类" if candidate.category == ticket.category else f"相关类别 {ticket.category}"
    return f"{kind}工单，{place_reason}，{when}创建，描述相似度 {text_score:.2f}"
