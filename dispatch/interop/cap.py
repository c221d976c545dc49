"""A ticket as a CAP 1.2 public warning (OASIS Common Alerting Protocol), valid against the
schema shipped in ``dispatch/interop/schemas/CAP-v1.2.xsd``.

The alert says what and where, never who: no caller, no description as typed (it may name
people), only the category, the place (with personal data removed), the time and advice.
One ``info`` block in Chinese (zh-CN), one in English.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from typing import Any

import agencies
from dispatch.interop.public_text import local_iso, redact
from dispatch.normalise import xml_text

CAP_NAMESPACE = "urn:oasis:names:tc:emergency:cap:1.2"
CONTENT_TYPE = "application/cap+xml"


def schema_text() -> str:
    """The shipped CAP 1.2 XML schema."""
    return resources.files("dispatch.interop").joinpath("schemas/CAP-v1.2.xsd").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Announcement:
    """How a category is announced: CAP category, advice, what people should do, radius."""

    cap_category: str
    response: str
    advice_zh: str
    advice_en: str
    radius_km: float = 1.0


_DEFAULT = Announcement("Other", "Monitor", "请关注官方发布的后续信息。", "Follow official updates.")
WARNINGS: dict[str, Announcement] = {
    "emergency.fire": Announcement(
        "Fire",
        "Avoid",
        "请远离火场，勿围观，为消防车辆让行。",
        "Keep away from the fire and make way for fire engines.",
    ),
    "emergency.gas_leak": Announcement(
        "Safety", "Evacuate", "请勿使用明火和电器开关，尽快撤离。", "No flames or switches; leave the area.", 0.5
    ),
    "emergency.hazmat": Announcement(
        "CBRNE", "Shelter", "请关闭门窗，留在室内，远离泄漏区域。", "Close windows, stay indoors, keep away.", 2.0
    ),
    "emergency.natural_disaster": Announcement(
        "Met", "Avoid", "请避开积水和低洼路段，注意安全。", "Avoid flooded and low-lying roads.", 3.0
    ),
    "emergency.collapse": Announcement(
        "Rescue", "Avoid", "请远离坍塌区域，为救援让出通道。", "Keep away and leave room for rescuers.", 0.5
    ),
    "emergency.hazard": Announcement(
        "Safety", "Avoid", "请注意安全，绕行该区域。", "Take care and go around the area."
    ),
    "transport.accident": Announcement(
        "Transport",
        "Avoid",
        "前方发生交通事故，请减速慢行或绕行。",
        "Traffic accident: slow down or take another route.",
    ),
    "transport.obstruction": Announcement(
        "Transport", "Avoid", "道路受阻，请绕行。", "The road is obstructed; take another route."
    ),
    "transport.road_damage": Announcement(
        "Transport", "Avoid", "路面受损，请减速慢行。", "The road is damaged; drive slowly."
    ),
    "transport.signal": Announcement(
        "Transport", "Monitor", "信号灯故障，请按交警指挥通行。", "Signals are out; follow police directions."
    ),
    "health.food_safety": Announcement("Health", "Monitor", "如有不适请及时就医。", "See a doctor if you feel unwell."),
    "health.epidemic": Announcement(
        "Health", "Monitor", "请做好个人防护，关注卫生部门通知。", "Protect yourself; follow health notices.", 2.0
    ),
    "health.emergency": Announcement("Health", "Monitor", "请为急救车辆让行。", "Make way for ambulances.", 0.5),
    "urban.utilities": Announcement(
        "Infra", "Prepare", "该区域供水、供电或供气可能中断。", "Water, power or gas may be interrupted here.", 2.0
    ),
    "urban.facility": Announcement(
        "Infra", "Avoid", "市政设施损坏，请注意安全。", "Damaged public facility; take care.", 0.3
    ),
    "urban.street_light": Announcement(
        "Infra", "Monitor", "路灯故障，夜间出行请注意安全。", "Street lights out; take care at night.", 0.3
    ),
    "urban.construction_noise": Announcement("Env", "Monitor", "施工影响，请注意。", "Construction works nearby.", 0.5),
    "urban.sanitation": Announcement(
        "Env", "Monitor", "环境卫生问题处理中。", "A sanitation problem is being handled.", 0.3
    ),
}
# Police matters are announced as security events (no details).
_POLICE = Announcement(
    "Security", "Monitor", "警方正在处置，请配合现场工作。", "Police are on scene; follow their directions.", 0.5
)

# priority → (urgency, severity, certainty)
_SCALE = {
    "P1": ("Immediate", "Severe", "Observed"),
    "P2": ("Expected", "Moderate", "Observed"),
    "P3": ("Expected", "Minor", "Likely"),
    "P4": ("Future", "Minor", "Likely"),
}
_FINISHED = frozenset({"resolved", "closed", "merged", "cancelled"})


def warning_for(category: str | None) -> Announcement:
    """How a category is announced."""
    if category and category.startswith("police."):
        return _POLICE
    return WARNINGS.get(category or "", _DEFAULT)


def _sub(parent: ET.Element, tag: str, text: str | None = None) -> ET.Element:
    element = ET.SubElement(parent, f"{{{CAP_NAMESPACE}}}{tag}")
    if text is not None:
        element.text = xml_text(text)  # nothing XML 1.0 forbids, whatever was stored
    return element


def _token(text: str) -> str:
    # identifier and sender: no spaces, commas, '<' or '&' (CAP 1.2, 3.2.1)
    return "".join(ch for ch in text if not ch.isspace() and ch not in ",<&")


def _message(ticket: Mapping[str, Any], domain: str, moment: datetime) -> tuple[str, str]:
    """(sent, identifier) of the message about ``ticket`` as it stood at ``moment``."""
    sent = local_iso(moment)
    assert sent is not None
    return sent, _token(f"{domain}.{ticket['number']}.{int(moment.timestamp() * 1000)}")


def render_alert(ticket: Mapping[str, Any], *, domain: str) -> bytes:
    """The ticket (as ``store.tickets.get_ticket`` returns it) as a CAP 1.2 alert, UTF-8 XML."""
    category = agencies.CATEGORIES.get(ticket["category"] or "")
    warning = warning_for(ticket["category"])
    finished = ticket["status"] in _FINISHED
    urgency, severity, certainty = _SCALE[ticket["priority"]]
    if finished:
        urgency = "Past"
    caller = ticket.get("caller") or {}
    location = ticket["location"]
    district = agencies.DISTRICTS_BY_CODE.get(location.get("district") or "")
    place = redact(location.get("address") or "", phone=caller.get("phone"), name=caller.get("name"))
    area_zh = "，".join(p for p in (f"驻马店市{district.name_zh}" if district else "驻马店市", place) if p)
    area_en = ", ".join(p for p in (place, district.name_en if district else None, "Zhumadian") if p)
    # The first warning about the ticket is an Alert sent when the ticket was created; what
    # follows (a change, the all-clear once it is over) is an Update that references it.
    sender = _token(f"dispatch@{domain}")
    first_sent, first_id = _message(ticket, domain, ticket["created_at"])
    sent, identifier = _message(ticket, domain, ticket["updated_at"])
    original = identifier == first_id and not finished
    if not original and identifier == first_id:
        identifier += ".update"  # finished within the millisecond it was created

    alert = ET.Element(f"{{{CAP_NAMESPACE}}}alert")
    _sub(alert, "identifier", first_id if original else identifier)
    _sub(alert, "sender", sender)
    _sub(alert, "sent", first_sent if original else sent)
    _sub(alert, "status", "Actual")
    _sub(alert, "msgType", "Alert" if original else "Update")
    _sub(alert, "scope", "Public")
    if not original:
        _sub(alert, "references", f"{sender},{first_id},{first_sent}")
    _sub(alert, "incidents", _token(ticket["number"]))
    name_zh = category.name_zh if category else "突发事件"
    name_en = category.name_en if category else "Incident"
    texts = (
        (
            "zh-CN",
            name_zh,
            f"{name_zh}：{area_zh}" + ("（已处置完毕）" if finished else ""),
            f"{first_sent[:16].replace('T', ' ')}，{area_zh}发生{name_zh}。"
            + ("现已处置完毕。" if finished else "相关部门正在处置。"),
            warning.advice_zh,
            "驻马店市民生110",
        ),
        (
            "en-US",
            name_en,
            f"{name_en}: {area_en}" + (" (over)" if finished else ""),
            f"{name_en} at {area_en}, reported {first_sent[:16].replace('T', ' ')} (UTC+8). "
            + ("It has been dealt with." if finished else "The authorities are dealing with it."),
            warning.advice_en,
            "Zhumadian Minsheng 110",
        ),
    )
    for language, event, headline, description, instruction, sender_name in texts:
        info = _sub(alert, "info")
        _sub(info, "language", language)
        _sub(info, "category", warning.cap_category)
        _sub(info, "event", event)
        _sub(info, "responseType", "AllClear" if finished else warning.response)
        _sub(info, "urgency", urgency)
        _sub(info, "severity", severity)
        _sub(info, "certainty", certainty)
        _sub(info, "senderName", sender_name)
        _sub(info, "headline", headline[:160])
        _sub(info, "description", description)
        _sub(info, "instruction", instruction)
        _sub(info, "contact", "110")
        area = _sub(info, "area")
        _sub(area, "areaDesc", area_zh if language == "zh-CN" else area_en)
        if location.get("lat") is not None and location.get("lon") is not None:
            _sub(area, "circle", f"{location['lat']:.6f},{location['lon']:.6f} {warning.radius_km:g}")
    body: bytes = ET.tostring(alert, encoding="utf-8", default_namespace=CAP_NAMESPACE)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + body
