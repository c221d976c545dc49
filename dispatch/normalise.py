"""What callers say, made uniform: phone numbers to E.164, free text without control characters."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers

# What no accepted text may carry, so that every stored text can be written as JSON, as XML 1.0
# and into PostgreSQL: control characters except tab and newline (C0, DEL, C1), the Unicode
# line/paragraph separators and BOM, lone surrogates, and the 66 noncharacters (U+FDD0-U+FDEF
# and the last two code points of every plane, U+FFFE/U+FFFF among them).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff{_NONCHARACTERS}]")


def normalise_phone(raw: str) -> str:
    """A Chinese (or international, with +) phone number as E.164, e.g. ``+8613800000000``.

    Accepts the ways people write numbers: ``138 0000 0000``, ``+86 13800000000``,
    ``0086-138-0000-0000``, ``0396-1234567``, ``(0396)2345678``. Raises ValueError for
    anything that cannot be a subscriber's number (too short, service codes like 110).
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or len(text) > 32:
        raise ValueError("a phone number has 5 to 32 characters")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number (mobile 1xx xxxx xxxx, or area code and number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def strip_unsafe(raw: str) -> str:
    """``raw`` without the characters no stored text may carry (see ``_CONTROL``), nothing
    else changed: what every string of a request body and query goes through first."""
    return _CONTROL.sub("", raw)


def clean_text(raw: str) -> str:
    """Text fit for JSON, XML 1.0 and PostgreSQL: NFC-normalised and trimmed, any script kept.

    Removes control characters (tab and newline stay), line/paragraph separators, the BOM,
    lone surrogates and Unicode noncharacters. This is the one cleaner for every text the
    service accepts, whatever the channel (REST, Open311, EIDO, consoles).
    """
    return unicodedata.normalize("NFC", strip_unsafe(raw)).strip()
