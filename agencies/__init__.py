"""What differs per agency: the agencies, their categories, service levels and the districts.

This package is pure data and pure functions (no I/O), so that ``routing/`` may use it.
The registry below is the one place that lists the agency modules.
"""

from __future__ import annotations

from typing import Final

from agencies import emergency, health, police, transport, urban
from agencies.base import (
    DEFAULT_SERVICE_LEVELS,
    PRIORITIES,
    PRIORITY_NAMES,
    AgencyProfile,
    Category,
    Priority,
    ServiceLevel,
)
from agencies.districts import DISTRICTS, DISTRICTS_BY_CODE, District, find_district

AGENCIES: Final[dict[str, AgencyProfile]] = {
    profile.code: profile
    for profile in (police.PROFILE, transport.PROFILE, health.PROFILE, urban.PROFILE, emergency.PROFILE)
}

CATEGORIES: Final[dict[str, Category]] = {
    category.code: category for profile in AGENCIES.values() for category in profile.categories
}


def service_level(priority: Priority, agency: str | None = None) -> ServiceLevel:
    """The built-in service level for a priority, refined by the agency's own profile."""
    profile = AGENCIES.get(agency) if agency else None
    if profile and priority in profile.service_levels:
        return profile.service_levels[priority]
    return DEFAULT_SERVICE_LEVELS[priority]


__all__ = [
    "AGENCIES",
    "CATEGORIES",
    "DEFAULT_SERVICE_LEVELS",
    "DISTRICTS",
    "DISTRICTS_BY_CODE",
    "PRIORITIES",
    "PRIORITY_NAMES",
    "AgencyProfile",
    "Category",
    "District",
    "Priority",
    "ServiceLevel",
    "find_district",
    "service_level",
]
