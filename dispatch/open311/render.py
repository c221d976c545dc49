"""The GeoReport v2 documents in JSON and XML, and its error format.

XML follows the spec's element names: a list of services is ``<services><service>…``,
requests ``<service_requests><request>…``, errors ``<errors><error><code>…``. Booleans are
``true``/``false``; a null is an empty element. Both formats are UTF-8.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import orjson
from aiohttp import web

from dispatch.normalise import xml_text

Format = Literal["json", "xml"]
FORMATS: tuple[Format, ...] = ("json", "xml")
CONTENT_TYPES: dict[Format, str] = {"json": "application/json", "xml": "text/xml"}

# The element of each item of a list, by the list's own element name.
_ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return xml_text(str(value))  # nothing XML 1.0 forbids, whatever was stored


def _fill(element: ET.Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, child in value.items():
            _fill(ET.SubElement(element, key), child)
    elif isinstance(value, list | tuple):
        item_tag = _ITEM_TAGS.get(element.tag, "item")
        for child in value:
            _fill(ET.SubElement(element, item_tag), child)
    else:
        element.text = _text(value)


def xml_document(root: str, value: Any) -> bytes:
    """``value`` as the XML document ``<root>…</root>`` with the UTF-8 declaration."""
    element = ET.Element(root)
    _fill(element, value)
    body: bytes = ET.tostring(element, encoding="utf-8", xml_declaration=False)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + body


def respond(
    fmt: Format, root: str, value: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """A spec document as JSON (``value`` as is) or XML (under ``root``)."""
    body = xml_document(root, value) if fmt == "xml" else orjson.dumps(value)
    return web.Response(body=body, status=status, headers=headers, content_type=CONTENT_TYPES[fmt], charset="utf-8")


def errors(
    fmt: Format, status: int, descriptions: Sequence[str], *, headers: dict[str, str] | None = None
) -> web.Response:
    """The spec's error document: ``[{"code", "description"}]`` or ``<errors><error>…``."""
    items = [{"code": status, "description": description} for description in descriptions]
    return respond(fmt, "errors", items, status=status, headers=headers)
