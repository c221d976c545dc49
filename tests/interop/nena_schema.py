"""NENA's EIDO schema (vendored in tests/interop/nena, see its README) as a JSON Schema validator.

The schema is an OpenAPI 3.0 document whose component schemas reference each other and the
NIEM components in other files. Nothing is relaxed: the root is the standard's
``EmergencyIncidentDataObjectType``, every ``$ref`` resolves to the vendored files (loaded when
first referenced), keywords follow Draft 4 as OpenAPI 3.0 schema objects do (``$ref`` beside
other keywords is all that counts, ``$id`` is a property name, not a keyword), and the formats
the standard uses are checked (``date-time`` by rfc3339-validator, ``uri`` by rfc3986-validator).
"""

from __future__ import annotations

import functools
import json
import posixpath
from pathlib import Path
from typing import Any

import jsonschema
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

NENA = Path(__file__).parent / "nena"
SCHEMA_DIR = NENA / "Schema"
SAMPLE = NENA / "Samples" / "Sample call transfer EIDO.json"
BASE = "urn:nena:eido-json:"
ROOT = f"{BASE}openapi.yaml#/components/schemas/EmergencyIncidentDataObjectType"


def _repair(node: Any) -> Any:
    """The one repair (README): ``minItems: "1,"`` read as the 1 it means."""
    if isinstance(node, dict):
        return {key: (1 if key == "minItems" and value == "1," else _repair(value)) for key, value in node.items()}
    if isinstance(node, list):
        return [_repair(item) for item in node]
    return node


@functools.cache
def _document(relative: str) -> dict[str, Any]:
    text = (SCHEMA_DIR / relative).read_text(encoding="utf-8")
    loaded: dict[str, Any] = _repair(yaml.load(text, Loader=yaml.CSafeLoader))
    return loaded


def _retrieve(uri: str) -> Resource[Any]:
    relative = posixpath.normpath(uri.removeprefix(BASE))  # 'NIEMComponents//j.yaml' is one of them
    if relative.startswith("..") or not relative.endswith(".yaml"):
        raise LookupError(uri)
    return Resource.from_contents(_document(relative), default_specification=DRAFT4)


@functools.cache
def validator() -> jsonschema.Draft4Validator:
    """A validator of whole EIDO documents against the standard's schema."""
    registry: Registry[Any] = Registry(retrieve=_retrieve)  # type: ignore[call-arg]
    checker = jsonschema.FormatChecker()
    for needed in ("date-time", "uri"):
        assert needed in checker.checkers, f"format {needed} would go unchecked: install its validator"
    return jsonschema.Draft4Validator({"$ref": ROOT}, registry=registry, format_checker=checker)


def errors(document: Any) -> list[str]:
    """Every way ``document`` fails the schema, as ``path: message`` lines (empty when valid)."""
    found = sorted(validator().iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in found]


def sample() -> dict[str, Any]:
    """NENA's own sample EIDO (a call transfer)."""
    loaded: dict[str, Any] = json.loads(SAMPLE.read_text(encoding="utf-8"))
    return loaded
