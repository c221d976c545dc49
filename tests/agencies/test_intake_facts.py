"""Intake facts per agency: each agency module validates its own (pure), and a ticket
carries them from creation to every reader."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from pydantic import ValidationError

import agencies
from agencies.base import facts_json_schema, validate_intake_facts
from tests.api_helpers import call, ticket_body
from tests.conftest import UserFactory


def _locations(raw: dict[str, Any]) -> list[tuple[Any, ...]]:
    with pytest.raises(ValidationError) as caught:
        validate_intake_facts(agencies.AGENCIES, raw)
    return [error["loc"] for error in caught.value.errors()]


@pytest.mark.parametrize(
    ("agency", "facts"),
    [
        ("health", {"conscious": False, "breathing": True, "injured_count": 2, "symptoms": "胸痛"}),
        ("emergency", {"people_trapped": True, "trapped_count": 3, "hazardous_material": True, "material": "液氯"}),
        ("transport", {"vehicles_involved": 2, "road_blocked": True, "lanes_blocked": 1, "plates": ["豫Q12345"]}),
        ("police", {"suspects_present": True, "weapons": True, "weapon_description": "刀"}),
        ("urban", {"facility_id": "LD-0231", "traffic_hazard": False}),
    ],
)
def test_each_agency_accepts_its_own_facts(agency: str, facts: dict[str, Any]) -> None:
    assert validate_intake_facts(agencies.AGENCIES, {agency: facts}) == {agency: facts}


@pytest.mark.parametrize(
    ("raw", "location"),
    [
        ({"health": {"conscious": True, "breathing": False}}, ("health",)),
        ({"health": {"injured_count": -1}}, ("health", "injured_count")),
        ({"emergency": {"people_trapped": False, "trapped_count": 2}}, ("emergency",)),
        ({"emergency": {"hazardous_material": False, "material": "汽油"}}, ("emergency",)),
        ({"transport": {"road_blocked": False, "lanes_blocked": 2}}, ("transport",)),
        ({"transport": {"vehicles": 2}}, ("transport", "vehicles")),
        ({"police": {"weapons": False, "weapon_description": "枪"}}, ("police",)),
        ({"water": {"pressure": "low"}}, ("water",)),
    ],
)
def test_inconsistent_unknown_or_misspelt_facts_are_refused_where_they_are(
    raw: dict[str, Any], location: tuple[str, ...]
) -> None:
    assert _locations(raw) == [location]


def test_facts_not_given_are_left_out() -> None:
    raw = {"health": {"breathing": None, "conscious": True}, "urban": {}}
    assert validate_intake_facts(agencies.AGENCIES, raw) == {"health": {"conscious": True}}


def test_the_facts_schema_has_one_member_per_agency() -> None:
    schema = facts_json_schema(agencies.AGENCIES.values())
    assert set(schema["properties"]) == set(agencies.AGENCIES)
    assert schema["additionalProperties"] is False
    assert "$defs" not in str(schema)  # flat models: the schema inlines in the OpenAPI document


def test_each_agency_section_is_built_from_its_facts() -> None:
    ticket = {
        "category": "emergency.fire",
        "facts": {"emergency": {"trapped_count": 2}, "health": {"breathing": False}, "police": {"weapons": True}},
    }
    assert agencies.AGENCIES["emergency"].delivery_extra(ticket) == {
        "rescue": {"trapped_count": 2, "people_trapped": True}
    }
    assert agencies.AGENCIES["health"].delivery_extra(ticket) == {"medical": {"breathing": False, "critical": True}}
    assert agencies.AGENCIES["police"].delivery_extra(ticket) == {"incident": {"weapons": True, "armed": True}}
    assert agencies.AGENCIES["transport"].delivery_extra(ticket) == {}
    assert agencies.AGENCIES["urban"].delivery_extra(ticket) == {"case": {"case_class": "emergency.fire"}}


ACCIDENT = ticket_body(
    description="两车相撞，一人被困车内，流了很多血",
    category="transport.accident",
    priority="P1",
    agencies=["police", "transport", "health", "emergency"],
    facts={
        "transport": {"vehicles_involved": 2, "road_blocked": True},
        "health": {"conscious": True, "breathing": True, "injured_count": 1},
        "emergency": {"people_trapped": True, "trapped_count": 1},
    },
)


async def test_a_ticket_keeps_its_facts_and_shows_them_to_its_agencies(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    _, health = await make_user("desk", agency="health")
    status, created = await call(http, "POST", "/api/v1/tickets", taker, ACCIDENT)
    assert status == 201
    assert created["facts"] == ACCIDENT["facts"]
    status, seen = await call(http, "GET", f"/api/v1/tickets/{created['id']}", health)
    assert status == 200 and seen["facts"] == ACCIDENT["facts"]
    _, page = await call(http, "GET", "/api/v1/tickets", health)
    assert page["items"][0]["facts"] == ACCIDENT["facts"]


async def test_a_ticket_without_facts_has_an_empty_object(http: aiohttp.ClientSession, make_user: UserFactory) -> None:
    _, taker = await make_user("call_taker")
    status, created = await call(http, "POST", "/api/v1/tickets", taker, ticket_body())
    assert status == 201 and created["facts"] == {}


async def test_bad_facts_are_422_with_the_field_and_create_nothing(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    body = ticket_body(facts={"health": {"conscious": True, "breathing": "不知道"}})
    status, error = await call(http, "POST", "/api/v1/tickets", taker, body)
    assert status == 422
    assert [d["field"] for d in error["error"]["details"]] == ["facts.health.breathing"]
    _, page = await call(http, "GET", "/api/v1/tickets", taker)
    assert page["items"] == []


async def test_the_same_idempotency_key_with_other_facts_is_a_conflict(
    http: aiohttp.ClientSession, make_user: UserFactory
) -> None:
    _, taker = await make_user("call_taker")
    headers = {"Idempotency-Key": "call-42"}
    first = ticket_body(facts={"health": {"breathing": True}})
    second = ticket_body(facts={"health": {"breathing": False}})
    assert (await call(http, "POST", "/api/v1/tickets", taker, first, headers=headers))[0] == 201
    assert (await call(http, "POST", "/api/v1/tickets", taker, first, headers=headers))[0] == 200
    status, error = await call(http, "POST", "/api/v1/tickets", taker, second, headers=headers)
    assert status == 409 and error["error"]["code"] == "idempotency_key_reused"
