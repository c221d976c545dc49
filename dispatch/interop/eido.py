"""EIDO (NENA-STA-021.1b, Emergency Incident Data Object) in JSON: a ticket as an incident that a
neighbouring centre can take over, and such an incident as the facts of a ticket.

What we send validates against NENA's published schema (``Schema/openapi.yaml`` of the
NENA911/EIDO-JSON repository; the tests hold a copy): every data component has ``$id``,
``lastUpdateTimeStamp`` and ``updatedByAgencyReference``, references are ``{"$ref": <$id>}``, the
document's ``$id`` is the incident tracking identifier, and registry elements carry registry
values (``dispatch.interop.eido_registry``). What we read is anything that schema accepts.
docs/interop.md lists every field mapped each way. Pure functions: dicts in, dicts out.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml

import agencies
from dispatch.interop import eido_registry as registry
from dispatch.interop.public_text import local_iso
from dispatch.lifecycle import CLOSED_STATES
from dispatch.normalise import clean_text, normalise_phone, xml_text

EIDO_VERSION = "1.0"
MAX_NOTES = 500
MAX_NOTE_LENGTH = 4000
MAX_DESCRIPTION = 4000
MAX_PIDF = 20_000
# An incident whose type maps to no category waits in the call-takers' queue with this priority
# unless the EIDO gives one.
QUEUE_PRIORITY = "P2"

# NENA priorities run 0 (lowest) to 10 (highest).
PRIORITY_NUMBERS = {"P1": 9, "P2": 7, "P3": 5, "P4": 2}

NS = {
    "pidf": "urn:ietf:params:xml:ns:pidf",
    "gp": "urn:ietf:params:xml:ns:pidf:geopriv10",
    "ca": "urn:ietf:params:xml:ns:pidf:geopriv10:civicAddr",
    "gml": "http://www.opengis.net/gml",
}
_COMMENT_NS = "urn:ietf:params:xml:ns:EmergencyCallData:Comment"
_CJK = re.compile(r"[\u3400-\u9fff]")


class EidoError(ValueError):
    """An EIDO that cannot become a ticket; ``field`` names where."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


# Export -------------------------------------------------------------------------------------


def tracking_id(number: str, domain: str) -> str:
    """The incident tracking identifier of our ticket ``number`` (NENA-STA-010 form)."""
    return f"urn:emergency:uid:incidentid:{number}:{domain}"


def _ref(component_id: str) -> dict[str, str]:
    return {"$ref": component_id}


def _stamp(moment: datetime | None) -> str | None:
    return local_iso(moment)


def _pidf(number: str, domain: str, location: Mapping[str, Any]) -> str:
    """A PIDF-LO document (RFC 4119, civic RFC 5139, point GML) of the ticket's location."""
    district = agencies.DISTRICTS_BY_CODE.get(location.get("district") or "")
    civic = [("country", "CN"), ("A1", "河南省"), ("A2", "驻马店市")]
    if district is not None:
        civic.append(("A3", district.name_zh))
    if location.get("address"):
        civic.append(("LOC", location["address"]))
    civic_xml = "".join(f"<ca:{tag}>{escape(xml_text(str(value)))}</ca:{tag}>" for tag, value in civic)
    point = ""
    if location.get("lat") is not None and location.get("lon") is not None:
        point = (
            '<gml:Point srsName="urn:ogc:def:crs:EPSG::4326">'
            f"<gml:pos>{float(location['lat'])} {float(location['lon'])}</gml:pos></gml:Point>"
        )
    entity = quoteattr(xml_text(f"pres:{number}@{domain}"))
    return (
        f'<presence xmlns="{NS["pidf"]}" xmlns:gp="{NS["gp"]}" xmlns:ca="{NS["ca"]}" xmlns:gml="{NS["gml"]}"'
        f' entity={entity}><tuple id="incident-location"><status><gp:geopriv>'
        f'<gp:location-info><ca:civicAddress xml:lang="zh-CN">{civic_xml}</ca:civicAddress>{point}'
        "</gp:location-info><gp:usage-rules/></gp:geopriv></status></tuple></presence>"
    )


def _jcard(name: str) -> str:
    """A jCard (RFC 7095) naming an agency, as agencyJcard carries it."""
    return json.dumps(["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", name]]], ensure_ascii=False)


def _html(text: str) -> str:
    """Plain text as the HTML fragment notesActionComments carries."""
    return html.escape(text, quote=False).replace("\n", "<br>")


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


def common_type(ticket: Mapping[str, Any]) -> str:
    """The incident type registry value we send for the ticket's category."""
    category = ticket.get("category")
    if not category:
        return registry.UNCATEGORISED_TYPE
    if category == "transport.accident" and any(a["agency"] == "health" for a in ticket.get("assignments") or []):
        return registry.INJURY_ACCIDENT_TYPE
    return registry.CATEGORY_TYPES.get(category, registry.UNCATEGORISED_TYPE)


def _common_status(status: str, live: bool) -> list[str]:
    if status == "cancelled":
        return ["Cancelled"]
    if status in ("resolved", "closed", "merged"):
        return ["Closed"]
    return ["Active", "ResourcesAssigned"] if live else ["Active"]


def _person_name(name: str) -> dict[str, Any]:
    # NIEM nc:PersonType (the schema's ncPersonComponent): name / personFullName / value.
    return {"name": [{"personFullName": [{"value": name}]}]}


def export_ticket(ticket: Mapping[str, Any], *, domain: str) -> dict[str, Any]:
    """The ticket (as ``store.tickets.get_ticket`` returns it, with its timeline) as an EIDO.

    The document describes the ticket as it stands: exported twice without a change in
    between, it is the same document (its ``lastUpdateTimeStamp`` is the ticket's).
    """
    number = ticket["number"]
    serial = re.sub(r"[^0-9A-Za-z]", "", number)
    updated = _stamp(ticket["updated_at"])
    created = _stamp(ticket["created_at"])
    centre = domain  # our agency identifier
    by_centre = {"updatedByAgencyReference": _ref(centre)}

    def component(kind: str, key: Any = "") -> str:
        return f"urn:emergency:uid:eidodatacomponent:{serial}{kind}{key}:{domain}"

    location_id = component("location")
    live = sorted(
        (a for a in ticket["assignments"] if a["state"] not in CLOSED_STATES), key=lambda a: a["role"] != "lead"
    )
    live_agencies = list(dict.fromkeys(a["agency"] for a in live))
    lead = next((a["agency"] for a in live if a["role"] == "lead"), None)
    category = agencies.CATEGORIES.get(ticket["category"] or "")

    notes: list[dict[str, Any]] = []

    def note(note_id: str, at: str | None, text: str) -> str:
        notes.append(
            {"$id": note_id, "lastUpdateTimeStamp": at or updated, **by_centre, "notesActionComments": _html(text)}
        )
        return note_id

    description_note = note(component("note", "description"), created, ticket["description"])

    # The first call, and every further call about the incident (a report), as call components.
    caller = ticket.get("caller") or {}
    people: list[dict[str, Any]] = []
    callbacks: list[dict[str, Any]] = []
    calls: list[dict[str, Any]] = []

    def call(key: str, at: str | None, channel: str, text_note: str, phone: str | None, name: str | None) -> None:
        call_id = f"urn:emergency:uid:callid:{serial}{key}:{domain}"
        entry: dict[str, Any] = {
            "$id": call_id,
            "lastUpdateTimeStamp": at or updated,
            **by_centre,
            "standardPrimaryCallType": "emergency",
            "localCallType": channel,
            "direction": "incoming",
            "callStartTimestamp": at or updated,
            "callStateRegistryText": "callEnd",
            "locationReference": [_ref(location_id)],
            "notesReference": [_ref(text_note)],
        }
        if phone or name:
            person: dict[str, Any] = {
                "$id": component("person", key),
                "lastUpdateTimeStamp": at or updated,
                **by_centre,
                "personIncidentRoleRegistryText": ["Caller"],
                "callIdentifier": [call_id],
            }
            if name:
                person["ncPersonComponent"] = _person_name(name)
            if phone:
                callback_id = component("callback", key)
                callbacks.append(
                    {
                        "$id": callback_id,
                        "lastUpdateTimeStamp": at or updated,
                        **by_centre,
                        "callBackInformationUri": [f"tel:{phone}"],
                    }
                )
                entry["callBackReference"] = _ref(callback_id)
                person["callBackReference"] = _ref(callback_id)
            people.append(person)
            entry["personReference"] = [_ref(person["$id"])]
        calls.append(entry)

    call("call", created, ticket["channel"], description_note, caller.get("phone"), caller.get("name"))
    for report in ticket.get("reports") or []:
        at = _stamp(report["created_at"])
        report_note = note(
            component("note", f"report{report['id']}"), at, f"补充反映 / further report: {report['description']}"
        )
        call(
            f"report{report['id']}",
            at,
            report["channel"],
            report_note,
            report.get("caller_phone"),
            report.get("caller_name"),
        )
    timeline_notes = [
        note(component("note", f"event{event['id']}"), _stamp(event["at"]), _event_note(event))
        for event in ticket.get("timeline") or []
    ]

    agency_components: list[dict[str, Any]] = [
        {
            "$id": centre,
            "lastUpdateTimeStamp": updated,
            **by_centre,
            "agencyJcard": json.dumps(
                [
                    "vcard",
                    [["version", {}, "text", "4.0"], ["fn", {}, "text", "驻马店市民生110 / Zhumadian Minsheng 110"]],
                ],
                ensure_ascii=False,
            ),
            "agencyRoleDescriptionRegistryText": ["CallReceiving", "Dispatching"],
            "incidentOwningAgencyIndicator": lead is None,
            "agencyType": ["psap"],
        }
    ]
    for code in live_agencies:
        profile = agencies.AGENCIES[code]
        roles = ["Dispatched"] if code == lead else ["Dispatched", "Assisting"]
        agency_components.append(
            {
                "$id": f"{code}.{domain}",
                "lastUpdateTimeStamp": updated,
                **by_centre,
                "agencyJcard": _jcard(f"{profile.name_zh} / {profile.name_en}"),
                "agencyRoleDescriptionRegistryText": roles,
                "incidentOwningAgencyIndicator": code == lead,
                "agencyType": list(registry.AGENCY_RESPONDER_TYPES.get(code, ())),
            }
        )
    dispatches = []
    for a in live:
        at = _stamp(a.get("updated_at") or a["created_at"])
        state_note = note(
            component("note", f"dispatch{a['id']}"),
            at,
            f"{a['agency']} · {a['role']} · {a['state']} · 签收时限 acknowledge by {_stamp(a['ack_due'])}"
            f" · 办结时限 resolve by {_stamp(a['resolve_due'])}",
        )
        dispatches.append(
            {
                "$id": component("dispatch", a["id"]),
                "lastUpdateTimeStamp": at,
                **by_centre,
                "agencyReference": _ref(f"{a['agency']}.{domain}"),
                "notesReference": [_ref(state_note)],
            }
        )

    location = ticket["location"]
    incident: dict[str, Any] = {
        "$id": component("incident"),
        "lastUpdateTimeStamp": updated,
        **by_centre,
        "incidentTypeCommonRegistryText": common_type(ticket),
        "incidentStatusInternalText": [ticket["status"]],
        "incidentStatusCommonRegistryText": _common_status(ticket["status"], bool(live)),
        "internalIncidentId": number,
        "incidentPriorityInternalText": ticket["priority"],
        "incidentCommonPriorityNumber": PRIORITY_NUMBERS[ticket["priority"]],
        "locationReference": [_ref(location_id)],
        "personReference": [_ref(p["$id"]) for p in people],
        "notesReference": [_ref(n) for n in timeline_notes],
    }
    if category is not None:
        incident["incidentTypeInternalCode"] = category.code
        incident["incidentTypeInternalText"] = category.name_zh
    location_component: dict[str, Any] = {
        "$id": location_id,
        "lastUpdateTimeStamp": updated,
        **by_centre,
        "locationTypeDescriptionRegistryText": "CurrentIncident",
        "locationByValue": _pidf(number, domain, location),
    }
    if location.get("address"):
        location_component["locationDescriptionText"] = location["address"]
    document: dict[str, Any] = {
        "$id": tracking_id(number, domain),
        "lastUpdateTimeStamp": updated,
        **by_centre,
        "eidoVersion": EIDO_VERSION,
        "issuingElementIdentification": f"dispatch.{domain}",
        "incidentComponent": incident,
        "callComponent": calls,
        "agencyComponent": agency_components,
        "dispatchComponent": dispatches,
        "notesComponent": notes,
        "locationComponent": [location_component],
        "personComponent": people,
    }
    if callbacks:
        document["callbackComponent"] = callbacks
    return document


# Import -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Note:
    """A note to keep on the ticket's timeline: its EIDO ``$id`` (or a key made from its text),
    text and when the sender noted it."""

    key: str
    text: str
    noted_at: str | None


@dataclass(slots=True)
class Incident:
    """The facts of a ticket, read from an EIDO."""

    description: str
    tracking_id: str | None
    source: str | None
    incident_type: str | None  # the registry value as sent
    registered_type: bool  # whether it is a value of the registry
    category: str | None
    priority: str | None
    agencies: list[str]
    address: str
    district: str | None
    lat: float | None
    lon: float | None
    caller_phone: str | None
    caller_name: str | None
    callbacks: list[str] = field(default_factory=list)
    location_references: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    updated_at: str | None = None


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
            found.append(target.removeprefix("#"))  # older senders (and this service once) wrote '#id'
    return found


def _stamp_of(component: Mapping[str, Any]) -> str | None:
    # The standard spells it lastUpdateTimeStamp; some senders (and this service once) did not.
    return _str(component.get("lastUpdateTimeStamp"), 64) or _str(component.get("lastUpdateTimestamp"), 64)


def _note_text(note: Mapping[str, Any]) -> str | None:
    raw = note.get("notesActionComments")
    if not isinstance(raw, str):
        return None
    text = re.sub(r"<br\s*/?>", "\n", raw, flags=re.IGNORECASE)
    text = html.unescape(re.sub(r"<[^>]{0,2000}>", " ", text))
    text = re.sub(r"[ \t]{2,}", " ", text)
    return clean_text(text)[:MAX_NOTE_LENGTH] or None


def _by_id(components: Sequence[Any]) -> dict[str, dict[str, Any]]:
    return {c["$id"]: c for c in components if isinstance(c, dict) and isinstance(c.get("$id"), str)}


def _xml(document: str) -> Element | None:
    """A parsed XML document, or None when it is not well-formed or declares a DTD or entities."""
    if len(document) > MAX_PIDF:
        return None
    try:
        root: Element = parse_xml(document.strip(), forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError):
        return None
    return root


def _local(tag: Any) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _civic_address(parts: Mapping[str, str]) -> str:
    """A civic address (RFC 5139 elements) as one line, in the way its country writes it."""
    if parts.get("LOC") and not any(parts.get(k) for k in ("RD", "A6", "HNO")):
        return parts["LOC"]
    chinese = parts.get("country", "").upper() == "CN" or _CJK.search("".join(parts.values())) is not None
    if chinese:
        keys = ("A1", "A2", "A3", "A4", "A5", "A6", "PRD", "RD", "STS", "POD", "HNO", "HNS", "LMK", "NAM", "LOC")
        return "".join(parts.get(k, "") for k in keys)
    street = " ".join(parts[k] for k in ("HNO", "HNS", "PRD", "RD", "STS", "POD") if parts.get(k))
    lines = [street, parts.get("NAM", ""), parts.get("LOC", ""), parts.get("A3", ""), parts.get("A1", "")]
    lines.append(parts.get("country", ""))
    return ", ".join(p for p in lines if p)


def parse_pidf(document: str) -> tuple[str | None, str | None, float | None, float | None]:
    """Address (from the civic form), district name (A3), latitude, longitude of a PIDF-LO.

    Reads the civic and the point (or circle) forms in any namespace prefixes, with comments
    and processing instructions anywhere; refuses DTDs and entity declarations (what an XML
    bomb or an external entity needs) by reading nothing from such a document.
    """
    root = _xml(document)
    if root is None:
        return None, None, None, None
    lat = lon = None
    address = district = None
    for element in root.iter():
        name = _local(element.tag)
        if name == "pos" and lat is None and element.text:
            parts = element.text.split()
            if len(parts) >= 2:
                try:
                    lat, lon = float(parts[0]), float(parts[1])
                except ValueError:
                    lat = lon = None
        elif name == "civicAddress" and address is None:
            civic = {
                _local(child.tag): " ".join((child.text or "").split())
                for child in element
                if _local(child.tag) and (child.text or "").strip()
            }
            address = _civic_address(civic) or None
            district = civic.get("A3") or None
    return address, district, lat, lon


def _additional_comments(components: Iterable[Any]) -> list[Note]:
    """EmergencyCallData.Comment blocks (RFC 7852) sent by value, as notes."""
    found: list[Note] = []
    for component in components:
        if not isinstance(component, dict) or not isinstance(component.get("additionalDataByValue"), str):
            continue
        root = _xml(component["additionalDataByValue"])
        if root is None:
            continue
        for element in root.iter(f"{{{_COMMENT_NS}}}Comment"):
            text = _str(element.text, MAX_NOTE_LENGTH)
            if text:
                key = f"{_str(component.get('$id'), 400) or ''}#comment{len(found)}"
                found.append(Note(key, text, _stamp_of(component)))
    return found


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
    for kind in _list(component.get("agencyType")) if isinstance(component.get("agencyType"), list) else []:
        if isinstance(kind, str):
            label = kind.removeprefix("urn:emergency:service:responder.").split(".", 1)[0].lower()
            if label in registry.RESPONDER_AGENCIES:
                return registry.RESPONDER_AGENCIES[label]
    return None


def _incident_type(incident: Mapping[str, Any]) -> tuple[str | None, bool, str | None]:
    """(registry value as sent, whether it is in the registry, our category or None)."""
    internal = incident.get("incidentTypeInternalCode")
    common = incident.get("incidentTypeCommonRegistryText")
    sent = _str(common, 100) if isinstance(common, str) else None
    known, category = registry.incident_category(sent) if sent else (False, None)
    if isinstance(internal, str) and internal in agencies.CATEGORIES:
        return sent, known, internal  # one of our own codes: exact, whoever sends it
    return sent, known, category


def _priority(incident: Mapping[str, Any]) -> str | None:
    internal = incident.get("incidentPriorityInternalText")
    if isinstance(internal, str) and internal.strip().upper() in PRIORITY_NUMBERS:
        return internal.strip().upper()
    number = incident.get("incidentCommonPriorityNumber")
    if isinstance(number, int | float) and not isinstance(number, bool) and 0 <= number <= 10:
        return "P1" if number >= 8 else "P2" if number >= 6 else "P3" if number >= 3 else "P4"
    return None


def _jcard_caller(card_text: Any) -> tuple[str | None, str | None]:
    try:
        card = json.loads(card_text) if isinstance(card_text, str) else None
        properties = card[1] if isinstance(card, list) and len(card) > 1 else []
    except (ValueError, TypeError):
        return None, None
    name = phone = None
    for prop in properties if isinstance(properties, list) else []:
        if isinstance(prop, list) and len(prop) >= 4 and isinstance(prop[3], str):
            if prop[0] == "fn":
                name = _str(prop[3], 100)
            elif prop[0] == "tel":
                phone = prop[3]
    return name, phone


def _niem_name(person: Any) -> str | None:
    if not isinstance(person, dict):
        return None
    for name in _list(person.get("name")):
        if not isinstance(name, dict):
            continue
        for key in ("personFullName",):
            for part in _list(name.get(key)):
                if isinstance(part, dict) and _str(part.get("value"), 100):
                    return _str(part.get("value"), 100)
        pieces: list[str] = [
            part["value"]
            for key in ("personSurName", "personGivenName")
            for part in _list(name.get(key))
            if isinstance(part, dict) and isinstance(part.get("value"), str)
        ]
        if pieces:
            joined = "".join(pieces) if _CJK.search("".join(pieces)) else " ".join(reversed(pieces))
            return _str(joined, 100)
    return None


def _phone(uri: str) -> str | None:
    """A callback URI's number in E.164, when it is a phone number we can dial."""
    text = uri.strip()
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0]
    elif text.lower().startswith("sip:") and "user=phone" in text.lower():
        text = text[4:].split("@", 1)[0]
    else:
        return None
    try:
        return normalise_phone(text)
    except ValueError:
        return None


def _callback_uris(component: Mapping[str, Any]) -> list[str]:
    uris = [u for u in _list_of_str(component.get("callBackInformationUri"))]
    for updated in _list(component.get("updatedCbn")):
        if isinstance(updated, dict) and isinstance(updated.get("updatedCbnIdentifierUri"), str):
            uris.append(updated["updatedCbnIdentifierUri"])
    return [u for u in (_str(uri, 300) for uri in uris) if u]


def _list_of_str(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _caller(document: Mapping[str, Any]) -> tuple[str | None, str | None, list[str]]:
    """The caller's phone (E.164 when one of the callback numbers is dialable), name, and every
    callback URI of the incident, the caller's first."""
    callbacks = _by_id(_list(document.get("callbackComponent")))
    people = [p for p in _list(document.get("personComponent")) if isinstance(p, dict)]
    calls = [c for c in _list(document.get("callComponent")) if isinstance(c, dict)]

    def is_caller(person: Mapping[str, Any]) -> bool:
        roles = _list_of_str(person.get("personIncidentRoleRegistryText")) + _list_of_str(
            person.get("personRoleRegistryText")
        )
        return any(r.lower() in ("caller", "reportingparty") for r in roles)

    ordered = [p for p in people if is_caller(p)] + [p for p in people if not is_caller(p)]
    uris: list[str] = []
    name = None
    for person in ordered:
        for ref in _ids(person.get("callBackReference")):
            if ref in callbacks:
                uris.extend(_callback_uris(callbacks[ref]))
        card_name, card_phone = _jcard_caller(person.get("personJcard"))
        if card_phone:
            uris.append(card_phone)
        name = name or _niem_name(person.get("ncPersonComponent")) or card_name
    for call in calls:
        for ref in _ids(call.get("callBackReference")):
            if ref in callbacks:
                uris.extend(_callback_uris(callbacks[ref]))
    for callback in callbacks.values():
        uris.extend(_callback_uris(callback))
    uris = list(dict.fromkeys(uris))
    phone = next((p for p in (_phone(u) for u in uris) if p), None)
    return phone, name, uris


def _description(
    incident: Mapping[str, Any], notes: Mapping[str, dict[str, Any]], calls: Sequence[Mapping[str, Any]]
) -> tuple[str, set[str]]:
    """The caller's account and the ids of the notes it was made of: the notes the first call
    points to, else the first note, else the incident type in words."""
    used: list[str] = []
    for call in calls[:1]:
        used.extend(i for i in _ids(call.get("notesReference")) if i in notes)
    if not used and notes:
        used = [next(iter(notes))]
    used = list(dict.fromkeys(used))
    parts = [t for t in (_note_text(notes[i]) for i in used) if t]
    text = "\n".join(parts)
    if not text:
        text = _str(incident.get("incidentTypeInternalText"), 500) or ""
    if not text:
        common = incident.get("incidentTypeCommonRegistryText")
        if isinstance(common, str) and common.strip():
            entry = registry.INCIDENT_TYPES.get(common.strip().upper())
            text = f"{common.strip()}: {entry[0]}" if entry else common.strip()
            text = clean_text(text)[:500]
    if not text:
        text = "EIDO 移交事件，未附文字说明 / incident handed over by EIDO without a narrative"
    return text[:MAX_DESCRIPTION], set(used) if parts else set()


def import_incident(document: Mapping[str, Any]) -> Incident:
    """The facts of a ticket from an EIDO (any document NENA's schema accepts)."""
    raw_incident = document.get("incidentComponent")
    if isinstance(raw_incident, list):  # older senders wrapped the one incident in a list
        raw_incident = raw_incident[0] if raw_incident else None
    incident: Mapping[str, Any] = raw_incident if isinstance(raw_incident, dict) else {}
    notes = _by_id(_list(document.get("notesComponent"))[:MAX_NOTES])
    calls = [c for c in _list(document.get("callComponent")) if isinstance(c, dict)]
    description, used = _description(incident, notes, calls)
    timeline = [
        Note(clean_text(note_id)[:500], text, _stamp_of(note))
        for note_id, note in notes.items()
        if note_id not in used and (text := _note_text(note))
    ]
    timeline.extend(_additional_comments(_list(document.get("additionalDataComponent"))))

    locations = _by_id(_list(document.get("locationComponent")))
    preferred = _ids(incident.get("locationReference")) + [i for c in calls for i in _ids(c.get("locationReference"))]
    ordered = [locations[i] for i in dict.fromkeys(preferred) if i in locations]
    ordered += [loc for loc in locations.values() if loc not in ordered]
    address = district_name = None
    lat = lon = None
    # Locations by reference are kept as links; the service fetches nothing from outside.
    references = [url for url in (_str(loc.get("locationByReferenceUrl"), 1000) for loc in ordered) if url]
    for location in ordered:
        by_value = location.get("locationByValue")
        found = parse_pidf(by_value) if isinstance(by_value, str) else (None, None, None, None)
        text = _str(location.get("locationDescriptionText"), 500) or _str(found[0], 500)
        if text or found[2] is not None:
            address, district_name, lat, lon = text, found[1], found[2], found[3]
            break
    district = agencies.find_district(district_name) if district_name else None
    lat, lon = _coordinate(lat, -90, 90), _coordinate(lon, -180, 180)
    if lat is None or lon is None:
        lat = lon = None

    owning: list[str] = []
    others: list[str] = []
    for component in _list(document.get("agencyComponent")):
        if not isinstance(component, dict):
            continue
        code = _agency_code(component)
        if code is not None:
            (owning if component.get("incidentOwningAgencyIndicator") is True else others).append(code)
    phone, name, callbacks = _caller(document)
    sent_type, known, category = _incident_type(incident)
    # The document's $id is the incident tracking identifier; this service once sent it apart.
    tracking = _str(document.get("incidentTrackingIdentifier"), 500) or _str(document.get("$id"), 500)
    return Incident(
        description=description,
        tracking_id=tracking,
        source=_str(document.get("issuingElementIdentification"), 200),
        incident_type=sent_type,
        registered_type=known,
        category=category,
        priority=_priority(incident),
        agencies=list(dict.fromkeys(owning + others))[:5],
        address=address or "",
        district=district.code if district else None,
        lat=lat,
        lon=lon,
        caller_phone=phone,
        caller_name=name,
        callbacks=callbacks[:20],
        location_references=references[:5],
        notes=timeline,
        updated_at=_stamp_of(document),
    )
