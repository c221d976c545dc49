"""An OpenAPI description of Open311 GeoReport v2 and the console's sign-in form, as far as
the fuzzer needs it: every path and query parameter and every form field, with its bounds.
Responses are left open (only "no 5xx" is checked)."""

from __future__ import annotations

import copy
from typing import Any

_TEXT = {"type": "string", "maxLength": 200}
_ANY = {"default": {"description": "any answer but a 5xx"}}


def _query(*names: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "query", "required": False, "schema": _TEXT} for name in names]


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1, "maxLength": 80}}


def _form(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {"type": "object", "properties": properties, "required": required}
            }
        },
    }


_REQUEST_FORM = {
    "service_code": {"type": "string", "enum": ["urban.street_light", "transport.accident", "police.noise"]},
    "lat": {"type": "number", "minimum": -90, "maximum": 90},
    "long": {"type": "number", "minimum": -180, "maximum": 180},
    "address_string": {"type": "string", "maxLength": 500},
    "address_id": _TEXT,
    "description": {"type": "string", "maxLength": 4000},
    "email": _TEXT,
    "phone": {"type": "string", "maxLength": 32},
    "first_name": {"type": "string", "maxLength": 50},
    "last_name": {"type": "string", "maxLength": 50},
    "device_id": _TEXT,
    "account_id": _TEXT,
    "media_url": {"type": "string", "maxLength": 1000},
    "attribute[lamp_id]": _TEXT,
}


def open311_schema(api_key: str) -> dict[str, Any]:
    """The document, with the partner's key as the one ``api_key`` (so that filing gets past the
    key check and reaches the form's validation)."""
    document = copy.deepcopy(_DOCUMENT)
    form = {"api_key": {"type": "string", "enum": [api_key]}, **_REQUEST_FORM}
    document["paths"]["/open311/v2/requests.json"]["post"]["requestBody"] = _form(form, ["api_key", "service_code"])
    return document


_DOCUMENT: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Open311 GeoReport v2 and console sign-in (fuzzing)", "version": "1"},
    "paths": {
        "/open311/v2/discovery.json": {"get": {"responses": _ANY}},
        "/open311/v2/services.xml": {"get": {"responses": _ANY}},
        "/open311/v2/services/{code}.json": {"get": {"parameters": [_path("code")], "responses": _ANY}},
        "/open311/v2/requests.json": {
            "get": {
                "parameters": _query("service_request_id", "service_code", "start_date", "end_date", "status"),
                "responses": _ANY,
            },
            "post": {
                "parameters": [
                    {"name": "Idempotency-Key", "in": "header", "required": False, "schema": _TEXT},
                ],
                "responses": _ANY,
            },
        },
        "/open311/v2/requests.xml": {
            "get": {"parameters": _query("start_date", "end_date", "status"), "responses": _ANY},
        },
        "/open311/v2/requests/{id}.xml": {"get": {"parameters": [_path("id")], "responses": _ANY}},
        "/open311/v2/tokens/{token}.json": {"get": {"parameters": [_path("token")], "responses": _ANY}},
        "/api/v1/public/tickets/{number}": {
            "get": {"parameters": [_path("number"), *_query("token")], "responses": _ANY},
        },
        "/console/session": {
            "post": {
                "requestBody": _form({"token": _TEXT, "next": _TEXT}, ["token"]),
                "responses": _ANY,
            },
        },
        "/console/{page}": {
            "get": {
                "parameters": [
                    {"name": "page", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 40}},
                    {"name": "dispatch_session", "in": "cookie", "required": False, "schema": _TEXT},
                ],
                "responses": _ANY,
            },
        },
    },
}
