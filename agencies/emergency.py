"""应急管理 emergency: fire, gas leaks, hazardous chemicals, floods and disasters, collapses, hazards.

Rescue crews need to know before they roll whether people are trapped and whether hazardous
material is involved; the webhook carries those facts in a ``rescue`` block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from agencies.base import AgencyProfile, Category, IntakeFacts, own_facts


class EmergencyFacts(IntakeFacts):
    """救援要素 Rescue intake facts."""

    people_trapped: bool | None = Field(default=None, description="是否有人被困 are people trapped")
    trapped_count: int | None = Field(default=None, ge=0, le=10_000, description="被困人数 how many are trapped")
    hazardous_material: bool | None = Field(default=None, description="是否涉及危化品 hazardous material involved")
    material: str | None = Field(
        default=None, max_length=200, description="物质名称或UN编号 the substance, by name or UN number"
    )
    floor: int | None = Field(default=None, ge=-10, le=200, description="所在楼层 floor (negative: underground)")

    @model_validator(mode="after")
    def _consistent(self) -> EmergencyFacts:
        if self.people_trapped is False and self.trapped_count:
            raise ValueError("无人被困却有被困人数 / trapped_count given but people_trapped is false")
        if self.hazardous_material is False and self.material:
            raise ValueError("未涉及危化品却写了物质名称 / material given but hazardous_material is false")
        return self


def rescue_section(ticket: Mapping[str, Any]) -> dict[str, Any] | None:
    """The rescue block: the facts, with ``people_trapped`` implied by a trapped count."""
    facts = own_facts(ticket, "emergency")
    if not facts:
        return None
    if facts.get("trapped_count") and facts.get("people_trapped") is None:
        facts["people_trapped"] = True
    return facts


PROFILE = AgencyProfile(
    code="emergency",
    name_zh="应急管理",
    name_en="Emergency management",
    covers="fire, gas leaks, hazardous chemicals, floods and disasters, collapses, safety hazards",
    categories=(
        Category("emergency.fire", "火灾", "Fire", "emergency", "P1", ("health",)),
        Category("emergency.gas_leak", "燃气泄漏", "Gas leak", "emergency", "P1", ("urban",)),
        Category("emergency.hazmat", "危化品泄漏", "Hazardous chemical leak", "emergency", "P1", ("health",)),
        Category(
            "emergency.natural_disaster",
            "内涝、洪水、暴雨、地质灾害",
            "Flood, storm or landslide",
            "emergency",
            "P1",
        ),
        Category(
            "emergency.collapse",
            "房屋坍塌、安全生产事故",
            "Building collapse or industrial accident",
            "emergency",
            "P1",
            ("health",),
        ),
        Category("emergency.hazard", "安全隐患举报", "Safety hazard report", "emergency", "P3"),
    ),
    facts=EmergencyFacts,
    delivery_section=rescue_section,
    delivery_key="rescue",
)
