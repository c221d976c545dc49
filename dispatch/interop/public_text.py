"""What the public may read about a ticket: plain-language status and timeline texts (Chinese,
then English) and the redaction of personal data from free text.

Nothing here reads reasons, notes, desk or user names: a timeline line is built from the
event's type and the agency it concerns, never from what someone typed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import agencies

CHINA = timezone(timedelta(hours=8), "CST")

# Seven or more digits, possibly broken by spaces, dots, dashes or brackets: phone numbers and
# ID-card numbers alike. Ticket numbers (MS20261124-000123) have shorter digit runs.
_DIGIT_RUN = re.compile(r"(?<![0-9A-Za-z])\+?[0-9０-９](?:[\s().\-－]{0,2}[0-9０-９]){6,}[0-9０-９Xx]?")
REDACTED = "***"


def redact(text: str, *, phone: str | None = None, name: str | None = None) -> str:
    """``text`` without phone-like numbers and without the caller's name."""
    if not text:
        return text
    cleaned = _DIGIT_RUN.sub(REDACTED, text)
    if phone:
        national = phone.removeprefix("+86")
        for variant in {phone, national}:
            if len(variant) >= 5:
                cleaned = cleaned.replace(variant, REDACTED)
    if name and len(name.strip()) >= 2:
        cleaned = cleaned.replace(name.strip(), REDACTED)
    return cleaned


@dataclass(frozen=True, slots=True)
class Text:
    """One sentence in both languages."""

    zh: str
    en: str

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}

    def joined(self) -> str:
        return f"{self.zh} / {self.en}"


STATUS_TEXT: dict[str, Text] = {
    "new": Text("已受理，正在分派", "received, being routed"),
    "dispatched": Text("已派单，等待处置单位签收", "dispatched, waiting for the agency to accept"),
    "acknowledged": Text("处置单位已签收", "accepted by the agency"),
    "in_progress": Text("正在处置", "being handled"),
    "resolved": Text("已办结，等待您的评价", "resolved, waiting for your feedback"),
    "closed": Text("已办结归档", "closed"),
    "merged": Text("已与同一事件的工单合并处理", "merged with another report of the same incident"),
    "cancelled": Text("已撤销", "cancelled"),
    "answered": Text("已直接答复办结", "answered at first contact"),
}


def status_text(status: str) -> Text:
    """The plain-language meaning of a ticket status."""
    return STATUS_TEXT.get(status, Text("处理中", "in progress"))


def agency_names(code: str | None) -> Text:
    """An agency's name in both languages (the code itself when unknown)."""
    profile = agencies.AGENCIES.get(code or "")
    if profile is None:
        return Text(code or "相关单位", code or "the agency")
    return Text(profile.name_zh, profile.name_en)


def category_names(code: str | None) -> Text | None:
    """A category's name in both languages, or None."""
    category = agencies.CATEGORIES.get(code or "")
    return Text(category.name_zh, category.name_en) if category else None


def priority_names(priority: str) -> Text:
    names = agencies.PRIORITY_NAMES.get(priority)  # type: ignore[call-overload]
    return Text(names[0], names[1]) if names else Text(priority, priority)


def _event_text(event_type: str, data: Mapping[str, Any]) -> Text | None:
    agency = agency_names(data.get("agency"))
    if event_type == "ticket.created":
        return Text("已受理您的诉求", "your request was received")
    if event_type == "assignment.created":
        if data.get("role") == "assist":
            return Text(f"{agency.zh}协助办理", f"{agency.en} assists")
        return Text(f"已派至{agency.zh}办理", f"assigned to {agency.en}")
    if event_type == "assignment.acknowledged":
        return Text(f"{agency.zh}已签收", f"{agency.en} accepted the case")
    if event_type == "assignment.started":
        return Text(f"{agency.zh}正在处置", f"{agency.en} is working on it")
    if event_type == "assignment.resolved":
        return Text(f"{agency.zh}已办结", f"{agency.en} resolved it")
    if event_type == "assignment.returned":
        return Text("工单正在重新分派", "being routed again")
    if event_type == "assignment.transferred":
        target = agency_names(data.get("to_agency"))
        return Text(f"已转交{target.zh}办理", f"transferred to {target.en}")
    if event_type == "assignment.released":
        return Text(f"{agency.zh}协办结束", f"{agency.en} no longer assists")
    if event_type == "assignment.reopened":
        return Text(f"根据您的评价，{agency.zh}重新办理", f"reopened: {agency.en} works on it again")
    if event_type == "ticket.feedback":
        return Text("已收到您的评价", "your feedback was received")
    if event_type == "ticket.closed":
        return Text("工单已办结归档", "the ticket was closed")
    if event_type == "ticket.merged":
        return Text("已与同一事件的其他工单合并处理", "merged with another report of the same incident")
    if event_type == "ticket.answered":
        return Text("您的咨询已直接答复办结", "your question was answered at first contact")
    if event_type == "ticket.report_added":
        return Text("收到关于同一事件的补充反映", "another report about the same incident was received")
    if "escalat" in event_type:
        return Text("已督办", "escalated to supervisors")
    return None  # anything else (notes, imports, internal events) is not for the public


def public_timeline(events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The events a citizen may see, as ``{"at", "type", "text": {"zh", "en"}}``, in order.

    Escalations are shown once per assignment and deadline, not per level.
    """
    lines: list[dict[str, Any]] = []
    escalated: set[tuple[Any, Any]] = set()
    for event in events:
        data = event.get("data") or {}
        text = _event_text(event["type"], data)
        if text is None:
            continue
        if "escalat" in event["type"]:
            key = (event.get("assignment_id"), data.get("kind"))
            if key in escalated:
                continue
            escalated.add(key)
        lines.append({"at": event["at"], "type": event["type"], "text": text.as_dict()})
    return lines


def local_iso(moment: datetime | None) -> str | None:
    """ISO 8601 in China time with offset and whole seconds (Open311 and CAP want this form)."""
    if moment is None:
        return None
    return moment.astimezone(CHINA).replace(microsecond=0).isoformat()
