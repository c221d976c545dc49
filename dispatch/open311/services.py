"""Our 28 categories as Open311 services, and the attributes (extra facts) some of them ask for.

``service_code`` is the category code (``health.emergency``); ``group`` is the lead agency's
name. An attribute's answer is checked against its datatype and becomes a line of the
ticket's description, so that desks read it and the router weighs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import agencies

Datatype = Literal["string", "number", "datetime", "text", "singlevaluelist", "multivaluelist"]


@dataclass(frozen=True, slots=True)
class Value:
    key: str
    name: str


@dataclass(frozen=True, slots=True)
class Attribute:
    """One question of a service definition (GeoReport v2 ``attribute``)."""

    code: str
    datatype: Datatype
    required: bool
    description: str
    values: tuple[Value, ...] = ()
    datatype_description: str = ""
    variable: bool = True


YES_NO_UNKNOWN = (Value("yes", "是 / yes"), Value("no", "否 / no"), Value("unknown", "不清楚 / unknown"))
YES_NO = YES_NO_UNKNOWN[:2]

ATTRIBUTES: dict[str, tuple[Attribute, ...]] = {
    "health.emergency": (
        Attribute("conscious", "singlevaluelist", True, "患者是否清醒 / Is the patient conscious?", YES_NO_UNKNOWN),
        Attribute("breathing", "singlevaluelist", True, "患者是否有呼吸 / Is the patient breathing?", YES_NO_UNKNOWN),
        Attribute(
            "injured_count",
            "number",
            False,
            "伤病人数 / How many people are ill or injured?",
            datatype_description="0 或正整数 / a whole number, 0 or more",
        ),
    ),
    "emergency.fire": (
        Attribute("people_trapped", "singlevaluelist", True, "是否有人被困 / Are people trapped?", YES_NO_UNKNOWN),
        Attribute(
            "trapped_count",
            "number",
            False,
            "被困人数 / How many people are trapped?",
            datatype_description="0 或正整数 / a whole number, 0 or more",
        ),
        Attribute(
            "premises",
            "singlevaluelist",
            False,
            "起火场所 / What is burning?",
            (
                Value("residential", "住宅 / home"),
                Value("commercial", "商铺、商场 / shop or mall"),
                Value("industrial", "厂房、仓库 / factory or warehouse"),
                Value("vehicle", "车辆 / vehicle"),
                Value("outdoor", "室外、山林 / outdoors or woodland"),
                Value("other", "其他 / other"),
            ),
        ),
    ),
    "transport.accident": (
        Attribute(
            "vehicles",
            "number",
            True,
            "涉事车辆数 / How many vehicles are involved?",
            datatype_description="正整数 / a whole number, 1 or more",
        ),
        Attribute("injured", "singlevaluelist", True, "是否有人受伤 / Is anyone injured?", YES_NO_UNKNOWN),
        Attribute("road_blocked", "singlevaluelist", True, "道路是否堵塞 / Is the road blocked?", YES_NO),
    ),
    "emergency.gas_leak": (
        Attribute(
            "source",
            "singlevaluelist",
            False,
            "泄漏来源 / Where does the gas come from?",
            (
                Value("pipeline", "管道 / pipeline"),
                Value("cylinder", "液化气罐 / gas cylinder"),
                Value("appliance", "燃气灶具、热水器 / stove or water heater"),
                Value("unknown", "不清楚 / unknown"),
            ),
        ),
    ),
    "emergency.hazmat": (
        Attribute("substance", "string", False, "泄漏物质（如知道）/ Which substance, if known?"),
        Attribute(
            "people_affected", "singlevaluelist", False, "是否有人员受影响 / Is anyone affected?", YES_NO_UNKNOWN
        ),
    ),
    "emergency.natural_disaster": (
        Attribute(
            "water_depth_cm",
            "number",
            False,
            "积水深度（厘米）/ Water depth in centimetres",
            datatype_description="0 或正数 / 0 or more",
        ),
        Attribute("people_trapped", "singlevaluelist", False, "是否有人被困 / Are people trapped?", YES_NO_UNKNOWN),
    ),
    "police.missing_person": (
        Attribute("age", "number", False, "走失人员年龄 / Age of the missing person"),
        Attribute(
            "last_seen",
            "datetime",
            False,
            "最后见到的时间 / When was the person last seen?",
            datatype_description="ISO 8601, 例如 / e.g. 2026-11-24T18:30:00+08:00",
        ),
        Attribute("clothing", "text", False, "衣着特征 / What was the person wearing?"),
    ),
}

_MAX_LENGTH: dict[str, int] = {"string": 200, "text": 1000}
_MAX_NUMBER = 100_000


class AnswerError(ValueError):
    """An attribute answer the service cannot take; the message says which and why."""


def service(code: str) -> dict[str, Any]:
    """One entry of ``GET services`` in the spec's field order."""
    category = agencies.CATEGORIES[code]
    agency = agencies.AGENCIES[category.agency]
    keywords = [part for part in category.name_zh.replace("：", "、").replace(":", "、").split("、") if part]
    keywords += [category.name_en.lower(), category.agency]
    return {
        "service_code": code,
        "service_name": category.name_zh,
        "description": f"{category.name_zh}（{category.name_en}），主办单位：{agency.name_zh}"
        f" / lead agency: {agency.name_en}",
        "metadata": code in ATTRIBUTES,
        "type": "realtime",
        "keywords": ", ".join(dict.fromkeys(keywords)),
        "group": agency.name_zh,
    }


def services() -> list[dict[str, Any]]:
    """Every category as an Open311 service, grouped by agency."""
    return [service(code) for code in agencies.CATEGORIES]


def definition(code: str) -> dict[str, Any]:
    """The service definition (``GET services/{code}``) of a known category."""
    return {
        "service_code": code,
        "attributes": [
            {
                "variable": attribute.variable,
                "code": attribute.code,
                "datatype": attribute.datatype,
                "required": attribute.required,
                "datatype_description": attribute.datatype_description or None,
                "order": order,
                "description": attribute.description,
                **(
                    {"values": [{"key": v.key, "name": v.name} for v in attribute.values]}
                    if attribute.datatype in ("singlevaluelist", "multivaluelist")
                    else {}
                ),
            }
            for order, attribute in enumerate(ATTRIBUTES.get(code, ()), start=1)
        ],
    }


def _check(attribute: Attribute, answers: Sequence[str]) -> Any:
    answers = [a.strip() for a in answers if a.strip()]
    label = f"attribute[{attribute.code}]"
    if attribute.datatype == "multivaluelist":
        keys = {v.key for v in attribute.values}
        unknown = [a for a in answers if a not in keys]
        if unknown:
            raise AnswerError(f"{label}: {unknown[0]!r} is not one of {', '.join(sorted(keys))}")
        return list(dict.fromkeys(answers))
    if len(answers) != 1:
        raise AnswerError(f"{label} takes one value")
    answer = answers[0]
    if attribute.datatype == "singlevaluelist":
        keys = {v.key for v in attribute.values}
        if answer not in keys:
            raise AnswerError(f"{label}: {answer!r} is not one of {', '.join(sorted(keys))}")
        return answer
    if attribute.datatype == "number":
        try:
            number = float(answer)
        except ValueError:
            raise AnswerError(f"{label} must be a number") from None
        if not 0 <= number <= _MAX_NUMBER:
            raise AnswerError(f"{label} must be between 0 and {_MAX_NUMBER}")
        return int(number) if number.is_integer() else number
    if attribute.datatype == "datetime":
        try:
            moment = datetime.fromisoformat(answer)
        except ValueError:
            raise AnswerError(f"{label} must be an ISO 8601 date and time") from None
        return moment.isoformat()
    if len(answer) > _MAX_LENGTH[attribute.datatype]:
        raise AnswerError(f"{label} is longer than {_MAX_LENGTH[attribute.datatype]} characters")
    return answer


def check_attributes(code: str, given: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """The answers to ``code``'s attributes, checked; AnswerError for a missing required
    answer, an unknown attribute or an answer of the wrong kind."""
    known = {a.code: a for a in ATTRIBUTES.get(code, ())}
    for name in given:
        if name not in known:
            raise AnswerError(
                f"attribute[{name}] is not an attribute of {code}"
                + (f"; known: {', '.join(known)}" if known else "; this service has none")
            )
    answers: dict[str, Any] = {}
    for attribute in known.values():
        raw = [v for v in given.get(attribute.code, ()) if v.strip()]
        if not raw:
            if attribute.required:
                raise AnswerError(f"attribute[{attribute.code}] is required: {attribute.description}")
            continue
        answers[attribute.code] = _check(attribute, raw)
    return answers


def describe_answers(code: str, answers: Mapping[str, Any]) -> str:
    """The answers as one line for the description: ``【补充信息】患者是否清醒：否；…``."""
    if not answers:
        return ""
    parts = []
    for attribute in ATTRIBUTES.get(code, ()):
        if attribute.code not in answers:
            continue
        question = attribute.description.split(" / ")[0]
        names = {v.key: v.name.split(" / ")[0] for v in attribute.values}
        value = answers[attribute.code]
        shown = "、".join(str(names.get(v, v)) for v in value) if isinstance(value, list) else names.get(value, value)
        parts.append(f"{question}：{shown}")
    return "【补充信息】" + "；".join(str(p) for p in parts)
