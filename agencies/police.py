"""公安 police: crime, public order, disputes, missing people.

Officers need to know whether suspects are still there and armed; the webhook carries those
facts in an ``incident`` block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from agencies.base import AgencyProfile, Category, IntakeFacts, own_facts


class PoliceFacts(IntakeFacts):
    """警情要素 Police intake facts."""

    suspects_present: bool | None = Field(default=None, description="嫌疑人是否仍在现场 are suspects still there")
    suspect_count: int | None = Field(default=None, ge=0, le=1000, description="嫌疑人数 how many suspects")
    weapons: bool | None = Field(default=None, description="是否持械 are weapons involved")
    weapon_description: str | None = Field(default=None, max_length=200, description="凶器描述 what weapons")

    @model_validator(mode="after")
    def _consistent(self) -> PoliceFacts:
        if self.weapons is False and self.weapon_description:
            raise ValueError("未持械却描述了凶器 / weapon_description given but weapons is false")
        return self


def incident_section(ticket: Mapping[str, Any]) -> dict[str, Any] | None:
    """The police system's block: the facts, with ``armed`` as its alarm flag."""
    facts = own_facts(ticket, "police")
    if not facts:
        return None
    return {**facts, "armed": bool(facts.get("weapons"))}


PROFILE = AgencyProfile(
    code="police",
    name_zh="公安",
    name_en="Police",
    covers="crime, public order, disputes, missing people",
    categories=(
        Category("police.violence", "打架斗殴、暴力侵害", "Fights and violence", "police", "P1", ("health",)),
        Category("police.theft", "盗窃、抢劫、抢夺", "Theft and robbery", "police", "P2"),
        Category("police.fraud", "诈骗", "Fraud", "police", "P2"),
        Category("police.missing_person", "人员走失、寻人", "Missing person", "police", "P1"),
        Category(
            "police.dispute",
            "邻里、家庭、消费纠纷",
            "Neighbour, family and consumer disputes",
            "police",
            "P2",
        ),
        Category(
            "police.public_order",
            "治安扰民:夜间噪音、聚众赌博、醉酒滋事",
            "Public order: night noise, gambling, drunken trouble",
            "police",
            "P3",
        ),
    ),
    facts=PoliceFacts,
    delivery_section=incident_section,
    delivery_key="incident",
)
