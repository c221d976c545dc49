"""What callers say, made uniform: phone numbers to one form, free text without control characters."""

from __future__ import annotations

import re
import unicodedata

import phonenumbers
from phonenumbers import shortnumberinfo

# What no accepted text may carry, so that every stored text can be written as JSON, as XML 1.0
# and into PostgreSQL: control characters except tab and newline (C0, DEL, C1), the Unicode
# line/paragraph separators and BOM, lone surrogates, and the 66 noncharacters (U+FDD0-U+FDEF
# and the last two code points of every plane, U+FFFE/U+FFFF among them).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\ufeff\ud800-\udfff{_NONCHARACTERS}]")


# A local number dialled without its area code is a Zhumadian (驻马店) landline: 0396.
LOCAL_AREA_CODE = "0396"
_SEPARATORS = re.compile(r"[\s\-().（）]")


def normalise_phone(raw: str) -> str:
    """A caller's number in one form: E.164 for subscribers, bare digits for service numbers.

    Accepts the ways people write numbers: mobiles ``138 0000 0000``, ``+86 13800000000``,
    ``0086-138-0000-0000``; landlines with their area code ``0396-1234567``, ``(0396)2345678``,
    or without it (7 or 8 digits not starting with 0 or 1: a local 0396 number, e.g.
    ``2345678`` → ``+863962345678``); and short service numbers such as ``12345``, ``95598``
    or ``10086``, kept as their digits. Raises ValueError for anything that cannot be called
    back: too short, malformed, or an emergency number (110, 119, 120, 122).
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or len(text) > 32:
        raise ValueError("a phone number has 3 to 32 characters")
    digits = _SEPARATORS.sub("", text)
    if digits.isascii() and digits.isdigit():
        if 3 <= len(digits) <= 6:
            return _short_number(digits)
        if len(digits) in (7, 8) and digits[0] not in "01":
            text = LOCAL_AREA_CODE + digits
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    # The numbering tables know 0396's numbers as 7 digits; 8-digit local numbers are taken as
    # given (a new exchange is not refused because the tables are older than it).
    national = str(number.national_number)
    if number.country_code == 86 and national.startswith("396") and len(national) == 11:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number (mobile 1xx xxxx xxxx, or area code and number)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _short_number(digits: str) -> str:
    number = phonenumbers.parse(digits, "CN")
    if shortnumberinfo.is_emergency_number(digits, "CN"):
        raise ValueError("an emergency number is not a caller's number")
    if not shortnumberinfo.is_valid_short_number_for_region(number, "CN"):
        raise ValueError("not a known service number (e.g. 12345, 95598, 10086)")
    return digits


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


# Everything XML 1.0 cannot carry (its Char production: tab, newline, carriage return,
# U+0020-U+D7FF, U+E000-U+FFFD, U+10000-U+10FFFF), noncharacters too.
_NOT_XML = re.compile(f"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]|[{_NONCHARACTERS}]")


def xml_text(value: str) -> str:
    """``value`` with every character XML 1.0 forbids removed: what the XML writers (Open311,
    CAP, PIDF-LO) put in a document, so that no stored text can make one unreadable, even text
    stored before the cleaner removed what it removes now."""
    return _NOT_XML.sub("", value)
