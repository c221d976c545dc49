"""Personal data, kept to those who need it (个人信息保护法: minimum necessary).

Callers' phone numbers and names are shown in full to call-takers, supervisors, admins and
the lead agency's desks; assisting agencies, the live feed and logs get masked forms;
``dispatch purge`` (dispatch/privacy/retention.py) removes them after the retention period.
"""

from __future__ import annotations

import re
from typing import Any, Final

REDACTED: Final = "〔已删除〕"
# What identifies a person in free text typed by operators or citizens. Each pattern stands
# alone between non-digits, so ticket numbers, dates, amounts and counts are left as they are.
_PERSONAL: Final = re.compile(
    "|".join(
        (
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}",  # e-mail
            # resident identity card (身份证): region, birth date, serial, check digit
            r"(?<![0-9])[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx](?![0-9A-Za-z])",
            r"(?<![0-9])[0-9]{4}(?:[ -]?[0-9]{4}){3}(?:[ -]?[0-9]{1,3})?(?![0-9])",  # bank card, 16 to 19 digits
            r"(?<![0-9+])(?:\+?86[ -]?)?1[3-9][0-9](?:[ -]?[0-9]{4}){2}(?![0-9])",  # mobile
            r"(?<![0-9])(?:\+?86[ -]?)?0[1-9][0-9]{1,2}[ -]?[1-9][0-9]{6,7}(?![0-9])",  # landline with area code
        )
    )
)
# Keys of event data that hold free text (a reason, a resolution, a note, a citizen's comment).
# "callbacks": the callback numbers an imported EIDO carried (a list of URIs).
FREE_TEXT_KEYS: Final = frozenset({"text", "reason", "resolution", "comment", "description", "callbacks"})


def mask_phone(phone: str | None) -> str | None:
    """``+8613812345678`` → ``+86138****5678``: enough to recognise a repeat caller."""
    if not phone:
        return phone
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:-8] + "****" + phone[-4:]


def mask_name(name: str | None) -> str | None:
    """``李建国`` → ``李**``; ``Wang`` → ``W***``."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def scrub_text(text: str) -> str:
    """``text`` with phone numbers, identity card and bank card numbers and e-mail addresses
    replaced by 〔已删除〕."""
    return _PERSONAL.sub(REDACTED, text)


def scrub_event_data(data: dict[str, Any]) -> dict[str, Any]:
    """Event data with its free-text values scrubbed (a new dict; codes and numbers kept)."""

    def scrub(key: str, value: Any) -> Any:
        if key not in FREE_TEXT_KEYS:
            return value
        if isinstance(value, str):
            return scrub_text(value)
        if isinstance(value, list):
            return [scrub_text(item) if isinstance(item, str) else item for item in value]
        return value

    return {key: scrub(key, value) for key, value in data.items()}


def mask_caller(ticket: dict[str, Any]) -> dict[str, Any]:
    """The ticket with its caller masked (a shallow copy; the input is not changed)."""
    caller = ticket.get("caller") or {}
    masked = {"phone": mask_phone(caller.get("phone")), "name": mask_name(caller.get("name"))}
    if "no_phone_reason" in caller:
        masked["no_phone_reason"] = caller["no_phone_reason"]  # a reason, not personal data
    return ticket | {"caller": masked}
