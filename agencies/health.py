"""卫生健康 (120) health: medical emergencies, food poisoning, infectious disease, medical service.

The 120 centre runs its own dispatch system; what it needs first is whether the patient is
conscious and breathing and how many are hurt, so the call-taker asks (intake facts) and the
webhook carries them in a ``medical`` block with a ``critical`` flag for its triage.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from agencies.base import AgencyProfile, Category, IntakeFacts, own_facts


class HealthFacts(IntakeFacts):
    """急救要素 Medical intake facts: ask these before anything else."""

    conscious: bool | None = Field(default=None, description="意识是否清醒 is the patient conscious")
    breathing: bool | None = Field(default=None, description="是否有呼吸 is the patient breathing")
    injured_count: int | None = Field(default=None, ge=0, le=10_000, description="伤病员人数 how many hurt or ill")
    patient_age: int | None = Field(default=None, ge=0, le=150, description="患者年龄 the patient's age, years")
    symptoms: str | None = Field(default=None, max_length=500, description="主要症状 main symptoms")

    @model_validator(mode="after")
    def _consistent(self) -> HealthFacts:
        if self.conscious is True and self.breathing is False:
            raise ValueError("清醒的患者不会没有呼吸 / a conscious patient cannot be without breathing: check both")
        return self


def medical_section(ticket: Mapping[str, Any]) -> dict[str, Any] | None:
    """The 120 system's block: the medical facts and whether they make the call critical."""
    facts = own_facts(ticket, "health")
    if not facts:
        return None
    critical = facts.get("breathing") is False or facts.get("conscious") is False
    return {**facts, "critical": critical}


PROFILE = AgencyProfile(
    code="health",
    name_zh="卫生健康",
    name_en="Health (120)",
    covers="medical emergencies, food poisoning, infectious disease, medical service",
    categories=(
        Category("health.emergency", "急症、急救", "Medical emergency", "health", "P1"),
        Category("health.food_safety", "食物中毒、食品安全", "Food poisoning and food safety", "health", "P2"),
        Category("health.epidemic", "传染病、疫情报告", "Infectious disease report", "health", "P2"),
        Category("health.service", "医疗服务投诉、医患纠纷", "Medical service complaint", "health", "P4"),
    ),
    facts=HealthFacts,
    delivery_section=medical_section,
    delivery_key="medical",
)
