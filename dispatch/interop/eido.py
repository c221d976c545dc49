"""EIDO (NENA-STA-021, Emergency Incident Data Object) in JSON: a ticket as an incident that a
neighbouring centre can take over, and such an incident as the facts of a new ticket.

No package ships the EIDO JSON schema; the structure follows the published component model
(incident, call, location, agency, dispatch, notes, person components, each with ``$id``
and ``lastUpdateTimestamp``, linked by ``{"$ref": "#id"}``). docs/interop.md lists every
field mapped each way. Pure functions: dicts in, dicts out.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.sax.saxutils import escape

import agencies
from dispatch.interop.public_text import local_iso
from dispatch.lifecycle import CLOSED_STATES
from dispatch.normalise import clean_text, normalise_phone

EIDO_VERSION = "1.0"
MAX_NOTES = 500
MAX_NOTE_LENGTH = 4000
MAX_DESCRIPTION = 4000

# Our categories in terms of the common incident types other centres understand. Receivers
# should prefer incidentTypeInternalCode, which carries our code exactly.
COMMON_TYPES: dict[str, str] = {
    "police.violence": "Law.Assault",
    "police.theft": "Law.Theft",
    "police.fraud": "Law.Fraud",
    "police.missing_person": "Law.MissingPerson",
    "police.dispute": "Law.Disturbance",
    "police.public_order": "Law.Disturbance",
    "transport.accident": "Traffic.Crash",
    "transport.signal": "Traffic.Hazard",
    "transport.road_damage": "Traffic.Hazard",
    "transport.obstruction": "Traffic.Hazard",
    "transport.transit": "PublicService",
    "health.emergency": "Medical",
    "health.food_safety": "Medical.Poisoning",
    "health.epidemic": "PublicHealth",
    "health.service": "PublicService",
    "emergency.fire": "Fire",
    "emergency.gas_leak": "Hazmat.GasLeak",
    "emergency.hazmat": "Hazmat",
    "emergency.natural_disaster": "Rescue.Flood",
    "emergency.collapse": "Rescue.Collapse",
    "emergency.hazard": "PublicService",
}
# A common type from elsewhere, by its first words, to a category (None: let the router decide).
_FROM_COMMON: tuple[tuple[str, str], ...] = (
    ("traffic.crash", "transport.accident"),
    ("traffic", "transport.obstruction"),
    ("medical.poisoning", "health.food_safety"),
    ("medical", "health.emergency"),
    ("ems", "health.emergency"),
    ("fire", "emergency.fire"),
    ("hazmat.gas", "emergency.gas_leak"),
    ("hazmat", "emergency.hazmat"),
    ("rescue.flood", "emergency.natural_disaster"),
    ("rescue.collapse", "emergency.collapse"),
    ("law.assault", "police.violence"),
    ("law.theft", "police.theft"),
    ("law.fraud", "police.fraud"),
    ("law.missingperson", "police.missing_person"),
    ("law.disturbance", "police.dispute"),
)
# NENA priorities run 0 (lowest) to 10 (highest).
PRIORITY_NUMBERS = {"P1": 9, "P2": 7, "P3": 5, "P4": 2}
RESPONDER_TYPES = {
    "police": "urn:emergency:service:responder.police",
    "health": "urn:emergency:service:responder.ems",
    "emergency": "urn:emergency:service:responder.fire",
}
_FROM_RESPONDER = {"police": "police", "ems": "health", "ambulance": "health", "fire": "emergency"}

NS = {
    "pidf": "urn:ietf:params:xml:ns:pidf",
    "gp": "urn:ietf:params:xml:ns:pidf:geopriv10",
    "ca": "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr",
    "gml": "http://www.opengis.net/gml",
}


class EidoError(ValueError):
    """An EIDO that cannot become a ticket; ``field`` names where."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


def _ref(component_id: str) -> dict[str, str]:
    return {"$ref": f"#{component_id}"}


def _stamp(moment: datetime | None) -> str | None:
    return local_iso(moment)


def _jcard(name: str, phone: str | None = None) -> str:
    properties: list[list[Any]] = [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]
    if phone:
        properties.append(["tel", {"type": "voice"}, "uri", f"tel:{phone}"])
    return json.dumps(["vcard", properties], ensure_ascii=False)


def _pidf(number: str, domain: str, location: Mapping[str, Any]) -> str:
    district = agencies.DISTRICTS_BY_CODE.get(location.get("district") or "")
    civic = [("country", "CN"), ("A1", "河南省"), ("A2", "驻马店市")]
    if district is not None:
        civic.append(("A3", district.name_zh))
    if location.get("address"):
        civic.append(("LOC", location["address"]))
    civic_xml = "".join(f"<ca:{tag}>{escape(str(value))}</ca:{tag}>" for tag, value in civic)
    point = ""
    if location.get("lat") is not None and location.get("lon") is not None:
        point = (
            '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
            f"<gml:pos>{location['lat']} {location['lon']}</gml:pos></gml:Point>"
        )
    return (
        f'<presence xmlns="{NS["pidf"]}" xmlns:gp="{NS["gp"]}" xmlns:ca="{NS["ca"]}" xmlns:gml="{NS["gml"]}"'
        f' entity="pres:{escape(number)}@{escape(domain)}"><tuple id="incident-location"><status><gp:geopriv>'
        f'<gp:location-info><ca:civicAddress xml:lang="zh-CN">{civic_xml}</ca:civicAddress>{point}'
        "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>"
    )


def _event_note(event: Mapping[str, Any]) -> str:
    """One timeline event as a note: ``[time] type · agency · text``; no user names."""
    data = event.get("data") or {}
    parts = [f"[{_stamp(event['at'])}] {event['type']}"]
    if data.get("agency"):
        parts.append(str(data["agency"]))
    if data.get("to_agency"):
        parts.append(f"→ {data['to_agency']}")
    for key in ("reason", "resolution", "comment", "text"):
        if data.get(key):
            parts.append(str(data[key]))
    actor = str(event.get("actor") or "")
    parts.append(f"({actor.split(':', 1)[0]})" if actor else "")
    return " · ".join(p for p in parts if p)


def export_ticket(ticket: Mapping[str, Any], *, domain: str, now: datetime) -> dict[str, Any]:
    """The ticket (as ``store.tickets.get_ticket`` returns it, with its timeline) as an EIDO."""
    number = ticket["number"]
    updated = _stamp(ticket["updated_at"])
    centre_id = f"dispatch.{domain}"
    incident_id = f"urn:emergency:uid:incidentid:{number}:{domain}"
    location_id = "location-incident"
    live = [a for a in ticket["assignments"] if a["state"] not in CLOSED_STATES]
    live_agencies = list(dict.fromkeys(a["agency"] for a in sorted(live, key=lambda a: a["role"] != "lead")))
    lead = next((a["agency"] for a in live if a["role"] == "lead"), None)
    category = agencies.CATEGORIES.get(ticket["category"] or "")

    notes: list[dict[str, Any]] = [
        {
            "$id": "note-description",
            "lastUpdateTimestamp": _stamp(ticket["created_at"]),
            "updatedByAgencyReference": _ref(centre_id),
            "notesActionComments": html.escape(ticket["description"], quote=False),
        }
    ]
    for report in ticket.get("reports") or []:
        notes.append(
            {
                "$id": f"note-report-{report['id']}",
                "lastUpdateTimestamp": _stamp(report["created_at"]),
                "updatedByAgencyReference": _ref(centre_id),
                "notesActionComments": html.escape(f"补充反映 / further report: {report['description']}", quote=False),
            }
        )
    for event in ticket.get("timeline") or []:
        notes.append(
            {
                "$id": f"note-event-{event['id']}",
                "lastUpdateTimestamp": _stamp(event["at"]),
                "updatedByAgencyReference": _ref(centre_id),
                "notesActionComments": html.escape(_event_note(event), quote=False),
            }
        )

    agency_components: list[dict[str, Any]] = [
        {
            "$id": centre_id,
            "lastUpdateTimestamp": updated,
            "agencyJcard": _jcard("驻马店市民生110 / Zhumadian Minsheng 110"),
            "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatching"],
            "incidentOwningAgencyIndicator": False,
            "agencyType": ["urn:emergency:service:responder"],
        }
    ]
    for code in live_agencies:
        profile = agencies.AGENCIES[code]
        agency_components.append(
            {
                "$id": f"{code}.{domain}",
                "lastUpdateTimestamp": updated,
                "agencyJcard": _jcard(f"{profile.name_zh} / {profile.name_en}"),
                "agencyRoleDescriptionRegistryText": ["Responding"],
                "incidentOwningAgencyIndicator": code == lead,
                "agencyType": [RESPONDER_TYPES.get(code, "urn:emergency:service:responder")],
            }
        )
    dispatches = [
        {
            "$id": f"dispatch-{a['id']}",
            "lastUpdateTimestamp": _stamp(a.get("updated_at") or a["created_at"]),
            "updatedByAgencyReference": _ref(centre_id),
            "agencyReference": _ref(f"{a['agency']}.{domain}"),
            "dispatchTimestamp": _stamp(a["created_at"]),
            "dispatchRoleText": a["role"],
            "dispatchStatusInternalText": a["state"],
            "acknowledgeDueTimestamp": _stamp(a["ack_due"]),
            "resolveDueTimestamp": _stamp(a["resolve_due"]),
        }
        for a in live
    ]
    person: list[dict[str, Any]] = []
    caller = ticket.get("caller") or {}
    if caller.get("phone") or caller.get("name"):
        person.append(
            {
                "$id": "person-caller",
                "lastUpdateTimestamp": _stamp(ticket["created_at"]),
                "updatedByAgencyReference": _ref(centre_id),
                "personRoleRegistryText": ["Caller"],
                "personJcard": _jcard(caller.get("name") or "", caller.get("phone")),
            }
        )
    location = ticket["location"]
    incident: dict[str, Any] = {
        "$id": "incident",
        "lastUpdateTimestamp": updated,
        "updatedByAgencyReference": _ref(centre_id),
        "incidentTrackingIdentifier": incident_id,
        "internalIncidentId": number,
        "incidentTypeInternalCode": ticket["category"],
        "incidentTypeInternalText": category.name_zh if category else None,
        "incidentTypeCommonRegistryText": COMMON_TYPES.get(ticket["category"] or "", "PublicService"),
        "incidentStatusInternalText": [ticket["status"]],
        "incidentStatusCommonRegistryText": [
            "Closed" if ticket["status"] in ("closed", "merged", "cancelled") else "Active"
        ],
        "incidentPriorityInternalText": ticket["priority"],
        "incidentCommonPriorityNumber": PRIORITY_NUMBERS[ticket["priority"]],
        "locationReference": [_ref(location_id)],
        "notesReference": [_ref(n["$id"]) for n in notes[1:]],
        "personReference": [_ref(p["$id"]) for p in person],
    }
    return {
        "$id": f"urn:emergency:uid:eido:{number}:{int(now.timestamp())}:{domain}",
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": f"dispatch.{domain}",
        "lastUpdateTimestamp": _stamp(now),
        "incidentTrackingIdentifier": incident_id,
        "incidentComponent": incident,
        "callComponent": [
            {
                "$id": "call-first",
                "lastUpdateTimestamp": _stamp(ticket["created_at"]),
                "updatedByAgencyReference": _ref(centre_id),
                "standardPrimaryCallType": "Emergency",
                "localCallType": ticket["channel"],
                "callStartTimestamp": _stamp(ticket["created_at"]),
                "locationReference": [_ref(location_id)],
                "notesReference": [_ref("note-description")],
                "personReference": [_ref(p["$id"]) for p in person],
            }
        ],
        "locationComponent": [
            {
                "$id": location_id,
                "lastUpdateTimestamp": updated,
                "updatedByAgencyReference": _ref(centre_id),
                "locationTypeDescriptionRegistryText": "CurrentIncident",
                "locationByValue": _pidf(number, domain, location),
                "locationDescriptionText": location.get("address") or None,
            }
        ],
        "agencyComponent": agency_components,
        "dispatchComponent": dispatches,
        "notesComponent": notes,
        "personComponent": person,
    }


# Import -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Note:
    text: str
    noted_at: str | None


@dataclass(slots=True)
class Incident:
    """The facts of a new ticket, read from an EIDO."""

    description: str
    tracking_id: str | None
    source: str | None
    category: str | None
    priority: str | None
    agencies: list[str]
    address: str
    district: str | None
    lat: float | None
    lon: float | None
    caller_phone: str | None
    caller_name: str | None
    notes: list[Note] = field(default_factory=list)


def _str(value: Any, limit: int = 500) -> str | None:
    if not isinstance(value, str):
        return None
    text = clean_text(value)[:limit]
    return text or None


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if isinstance(value, dict) else []


def _ids(references: Any) -> list[str]:
    found = []
    for reference in _list(references):
        target = reference.get("$ref") if isinstance(reference, dict) else None
        if isinstance(target, str):
            found.append(target.removeprefix("#"))
    return found


def _note_text(note: Mapping[str, Any]) -> str | None:
    raw = note.get("notesActionComments")
    if not isinstance(raw, str):
        return None
    text = html.unescape(re.sub(r"<[^>]{0,2000}>", " ", raw))
    return clean_text(text)[:MAX_NOTE_LENGTH] or None


def _by_id(components: Sequence[Any]) -> dict[str, dict[str, Any]]:
    return {c["$id"]: c for c in components if isinstance(c, dict) and isinstance(c.get("$id"), str)}


def _parse_pidf(document: str) -> tuple[str | None, str | None, float | None, float | None]:
    """Address (LOC or the civic parts), district name (A3), latitude, longitude of a PIDF-LO."""
    if "<!" in document or len(document) > 20_000:  # no DTDs or entities from outside
        return None, None, None, None
    try:
        root = ET.fromstring(document)
    except ET.ParseError:
        return None, None, None, None
    lat = lon = None
    for element in root.iter():
        if element.tag.endswith("}pos") and element.text:
            parts = element.text.split()
            if len(parts) >= 2:
                try:
                    lat, lon = float(parts[0]), float(parts[1])
                except ValueError:
                    lat = lon = None
                break
    civic = {e.tag.split("}")[-1]: (e.text or "").strip() for e in root.iter() if e.tag.startswith(f"{{{NS['ca']}}}")}
    address = civic.get("LOC") or "".join(civic.get(k, "") for k in ("A3", "A4", "A6", "RD", "STS", "HNO", "NAM"))
    return address or None, civic.get("A3") or None, lat, lon


def _coordinate(value: float | None, low: float, high: float) -> float | None:
    if value is None or value != value or not low <= value <= high:  # value != value: NaN
        return None
    return value


def _agency_code(component: Mapping[str, Any]) -> str | None:
    component_id = component.get("$id")
    if isinstance(component_id, str):
        first = component_id.split(".", 1)[0].split(":")[-1]
        if first in agencies.AGENCIES:
            return first
    for kind in _list(component.get("agencyType")):
        if isinstance(kind, str):
            mapped = _FROM_RESPONDER.get(kind.rsplit(".", 1)[-1].lower())
            if mapped:
                return mapped
    return None


def _category(incident: Mapping[str, Any]) -> str | None:
    internal = incident.get("incidentTypeInternalCode")
    if isinstance(internal, str) and internal in agencies.CATEGORIES:
        return internal
    common = incident.get("incidentTypeCommonRegistryText")
    for text in _list(common) if not isinstance(common, str) else [common]:
        if not isinstance(text, str):
            continue
        key = text.strip().lower().replace(" ", "")
        for prefix, category in _FROM_COMMON:
            if key.startswith(prefix):
                return category
    return None


def _priority(incident: Mapping[str, Any]) -> str | None:
    internal = incident.get("incidentPriorityInternalText")
    if isinstance(internal, str) and internal.strip().upper() in PRIORITY_NUMBERS:
        return internal.strip().upper()
    number = incident.get("incidentCommonPriorityNumber")
    if isinstance(number, int | float) and not isinstance(number, bool) and 0 <= number <= 10:
        return "P1" if number >= 8 else "P2" if number >= 6 else "P3" if number >= 3 else "P4"
    return None


def _caller(people: Sequence[Any]) -> tuple[str | None, str | None]:
    for person in people:
        if not isinstance(person, dict) or not isinstance(person.get("personJcard"), str):
            continue
        try:
            card = json.loads(person["personJcard"])
            properties = card[1] if isinstance(card, list) and len(card) > 1 else []
        except (ValueError, TypeError):
            continue
        name = phone = None
        for prop in properties if isinstance(properties, list) else []:
            if not isinstance(prop, list) or len(prop) < 4 or not isinstance(prop[3], str):
                continue
            if prop[0] == "fn":
                name = _str(prop[3], 100)
            elif prop[0] == "tel":
                try:
                    phone = normalise_phone(prop[3].removeprefix("tel:"))
                except ValueError:
                    phone = None
        if name or phone:
            return phone, name
    return None, None


def import_incident(document: Mapping[str, Any]) -> Incident:
    """The facts of a new ticket from an EIDO; EidoError when it carries no description at all."""
    incidents = _list(document.get("incidentComponent"))
    if not incidents or not isinstance(incidents[0], dict):
        raise EidoError("the EIDO has no incidentComponent", "incidentComponent")
    incident: dict[str, Any] = incidents[0]
    notes = _by_id(_list(document.get("notesComponent"))[:MAX_NOTES])
    calls = [c for c in _list(document.get("callComponent")) if isinstance(c, dict)]

    # The caller's account: the notes the first call points to; else the first note.
    description_ids = _ids(calls[0].get("notesReference")) if calls else []
    description_parts = [t for t in (_note_text(notes[i]) for i in description_ids if i in notes) if t]
    if not description_parts and notes and not description_ids:
        first_id = next(iter(notes))
        description_parts = [t for t in [_note_text(notes[first_id])] if t]
        description_ids = [first_id]
    description = "\n".join(description_parts) or _str(incident.get("incidentTypeInternalText"), 500) or ""
    if not description:
        description = _str(incident.get("incidentTypeCommonRegistryText"), 200) or ""
    if not description:
        raise EidoError("the EIDO carries no description: no notes and no incident type text", "notesComponent")

    timeline = [
        Note(text, _str(note.get("lastUpdateTimestamp"), 64))
        for note_id, note in notes.items()
        if note_id not in description_ids and (text := _note_text(note))
    ]

    locations = _by_id(_list(document.get("locationComponent")))
    location_ids = _ids(incident.get("locationReference")) or list(locations)
    location: dict[str, Any] = next((locations[i] for i in location_ids if i in locations), {})
    address = district_name = None
    lat = lon = None
    by_value = location.get("locationByValue")
    if isinstance(by_value, str):
        address, district_name, lat, lon = _parse_pidf(by_value)
    address = _str(location.get("locationDescriptionText"), 500) or _str(address, 500) or ""
    district = agencies.find_district(district_name) if district_name else None
    lat, lon = _coordinate(lat, -90, 90), _coordinate(lon, -180, 180)
    if lat is None or lon is None:
        lat = lon = None
    if not address and lat is None:
        raise EidoError("the EIDO locates nothing: no address and no coordinates", "locationComponent")

    owning: list[str] = []
    others: list[str] = []
    for component in _list(document.get("agencyComponent")):
        if not isinstance(component, dict):
            continue
        code = _agency_code(component)
        if code is None:
            continue
        (owning if component.get("incidentOwningAgencyIndicator") is True else others).append(code)
    chosen = list(dict.fromkeys(owning + others))[:5]
    phone, name = _caller([p for p in _list(document.get("personComponent"))])
    tracking = _str(document.get("incidentTrackingIdentifier"), 500) or _str(
        incident.get("incidentTrackingIdentifier"), 500
    )
    return Incident(
        description=description[:MAX_DESCRIPTION],
        tracking_id=tracking,
        source=_str(document.get("issuingElementIdentification"), 200),
        category=_category(incident),
        priority=_priority(incident),
        agencies=chosen,
        address=address,
        district=district.code if district else None,
        lat=lat,
        lon=lon,
        caller_phone=phone,
        caller_name=name,
        notes=timeline,
    )
