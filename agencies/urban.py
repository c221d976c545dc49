"""城市管理 urban: street lights, sanitation, vendors, illegal building, municipal facilities, utilities.

The digital city-management platform (数字城管) files cases against a facility's number and
weighs outages by the households affected; the webhook carries them in a ``case`` block with
the platform's case class (the category).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field

from agencies.base import AgencyProfile, Category, IntakeFacts, own_facts


class UrbanFacts(IntakeFacts):
    """城管要素 City-management intake facts."""

    facility_id: str | None = Field(
        default=None, max_length=64, description="设施编号(路灯杆号、井盖编号) the facility's number"
    )
    households_affected: int | None = Field(
        default=None, ge=0, le=1_000_000, description="影响户数(停水停电停气) households affected"
    )
    traffic_hazard: bool | None = Field(default=None, description="是否危及通行 does it endanger passers-by")


def case_section(ticket: Mapping[str, Any]) -> dict[str, Any] | None:
    """The platform's case: its class (the category) and the facts, for every urban assignment."""
    return {"case_class": ticket.get("category"), **own_facts(ticket, "urban")}


PROFILE = AgencyProfile(
    code="urban",
    name_zh="城市管理",
    name_en="Urban management",
    covers="street lights, sanitation, vendors, illegal building, municipal facilities, utilities",
    categories=(
        Category("urban.street_light", "路灯不亮、路灯损坏", "Street light out", "urban", "P4"),
        Category("urban.sanitation", "垃圾清运、环境卫生", "Rubbish and sanitation", "urban", "P4"),
        Category("urban.vending", "占道经营、流动摊贩", "Street vending", "urban", "P4"),
        Category("urban.illegal_building", "违章建筑、私搭乱建", "Illegal building", "urban", "P4"),
        Category("urban.facility", "井盖、护栏、市政设施损坏", "Damaged municipal facility", "urban", "P3"),
        Category("urban.construction_noise", "施工噪音、渣土扬尘", "Construction noise and dust", "urban", "P3"),
        Category(
            "urban.utilities",
            "停水、停电、停气、供暖故障、管道爆裂",
            "Utility outage or burst pipe",
            "urban",
            "P3",
        ),
    ),
    facts=UrbanFacts,
    delivery_section=case_section,
    delivery_key="case",
)
