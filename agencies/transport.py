"""交通运输 transport: signals, road damage, obstructions, buses and taxis; files traffic accidents
(``transport.accident``, led by police 交警) and assists at those that damage or block the road.

The traffic incident desk plans lanes and tow trucks from how many vehicles are involved and
whether the road is blocked; the webhook carries those facts in a ``traffic`` block.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, StringConstraints, model_validator

from agencies.base import AgencyProfile, Category, IntakeFacts, own_facts

Plate = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=16)]


class TransportFacts(IntakeFacts):
    """事故要素 Traffic intake facts."""

    vehicles_involved: int | None = Field(default=None, ge=0, le=1000, description="涉事车辆数 vehicles involved")
    road_blocked: bool | None = Field(default=None, description="道路是否阻断 is the road blocked")
    lanes_blocked: int | None = Field(default=None, ge=0, le=20, description="占用车道数 lanes blocked")
    injured: bool | None = Field(default=None, description="是否有人受伤 is anyone hurt")
    plates: list[Plate] | None = Field(default=None, max_length=20, description="车牌号 licence plates")

    @model_validator(mode="after")
    def _consistent(self) -> TransportFacts:
        if self.road_blocked is False and self.lanes_blocked:
            raise ValueError("道路未阻断却有占用车道 / lanes_blocked given but road_blocked is false")
        return self


def traffic_section(ticket: Mapping[str, Any]) -> dict[str, Any] | None:
    """The incident desk's block: the traffic facts as gathered."""
    facts = own_facts(ticket, "transport")
    return facts or None


PROFILE = AgencyProfile(
    code="transport",
    name_zh="交通运输",
    name_en="Transport",
    covers="signals, road damage, obstructions, buses and taxis",
    categories=(
        # Led by police (交警): road-traffic incidents are 110's. The code keeps its prefix, as codes
        # never change; transport assists when the road is damaged or blocked.
        Category(
            "transport.accident",
            "交通事故",
            "Traffic accident",
            "police",
            "P2",
            ("health", "emergency", "transport"),
        ),
        Category("transport.signal", "信号灯、交通标志故障", "Traffic signal or sign fault", "transport", "P3"),
        Category("transport.road_damage", "道路坑洼、破损、塌陷", "Road damage", "transport", "P3"),
        Category("transport.obstruction", "道路拥堵、障碍物、违停堵路", "Road obstruction", "transport", "P3"),
        Category(
            "transport.transit",
            "公交、出租车、网约车服务投诉",
            "Bus and taxi service complaint",
            "transport",
            "P4",
        ),
    ),
    facts=TransportFacts,
    delivery_section=traffic_section,
    delivery_key="traffic",
)
