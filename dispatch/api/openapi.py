"""``GET /api/v1/openapi.json``: the OpenAPI 3.1 document, generated from the routes and
the pydantic models, never written by hand."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from dispatch import __version__
from dispatch.access.permissions import roles_for
from dispatch.api.responses import json_response
from dispatch.api.schemas import ErrorOut
from dispatch.api.spec import OperationSpec, spec_of
from dispatch.bounds import MAX_BIGINT

DOCUMENT_KEY = web.AppKey("openapi_document", dict)

_ERROR_TEXT = {
    400: "malformed request (not JSON, bad header or cursor)",
    401: "missing, unknown, expired or revoked token",
    403: "the role may not do this",
    404: "no such thing, or not visible to this user",
    405: "method not allowed",
    409: "conflict with the current state",
    413: "request body too large",
    422: "the request does not fit the schema; details name the fields",
    429: "too many requests",
    503: "a dependency is unavailable; retry after Retry-After seconds",
}


def _models(specs: list[OperationSpec]) -> list[tuple[type[BaseModel], Any]]:
    seen: dict[tuple[type[BaseModel], str], None] = {(ErrorOut, "serialization"): None}
    for spec in specs:
        for model in (spec.body,):
            if model is not None:
                seen[(model, "validation")] = None
        for response_model in spec.responses.values():
            if response_model is not None:
                seen[(response_model, "serialization")] = None
    return list(seen)


def _query_parameters(model: type[BaseModel]) -> list[dict[str, Any]]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    parameters = []
    for name, prop in schema.get("properties", {}).items():
        prop = dict(prop)
        prop.pop("title", None)
        description = prop.pop("description", None)
        parameter: dict[str, Any] = {"name": name, "in": "query", "required": False, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def build_document(app: web.Application) -> dict[str, Any]:
    """The OpenAPI document of every described route of ``app``."""
    routes = []
    for route in app.router.routes():
        spec = spec_of(route.handler)
        if spec is not None and route.resource is not None:
            routes.append((route.resource.canonical, route.method.lower(), spec))
    keyed, definitions = models_json_schema(
        _models([spec for _, _, spec in routes]), ref_template="#/components/schemas/{model}"
    )
    schemas = definitions.get("$defs", {})

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        result: dict[str, Any] = keyed[(model, mode)]  # type: ignore[index]
        return result

    paths: dict[str, dict[str, Any]] = {}
    for path, method, spec in sorted(routes, key=lambda r: (r[0], r[1])):
        operation: dict[str, Any] = {
            "summary": spec.summary,
            "tags": [spec.tag],
            "operationId": f"{method}_{path.strip('/').replace('/', '_').replace('{', '').replace('}', '')}",
            "responses": {},
        }
        parameters: list[dict[str, Any]] = []
        for segment in path.split("/"):
            if segment.startswith("{"):
                name = segment.strip("{}")
                schema: dict[str, Any] = (
                    {"type": "integer", "minimum": 1, "maximum": MAX_BIGINT}
                    if name == "id" or name.endswith("_id")
                    else {"type": "string", "minLength": 1, "maxLength": 64}
                )
                parameters.append({"name": name, "in": "path", "required": True, "schema": schema})
        if spec.query is not None:
            parameters += _query_parameters(spec.query)
        for header, description in spec.headers.items():
            parameters.append(
                {
                    "name": header,
                    "in": "header",
                    "required": False,
                    "description": description,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 200},
                }
            )
        if parameters:
            operation["parameters"] = parameters
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref(spec.body, "validation")}},
            }
        statuses = dict(spec.responses)
        if spec.operation is not None:
            operation["security"] = [{"bearer": []}]
            operation["description"] = "Roles: " + ", ".join(roles_for(spec.operation))
            statuses.setdefault(401, None)
            statuses.setdefault(403, None)
        if spec.body is not None:
            statuses.setdefault(400, None)
            statuses.setdefault(413, None)
            statuses.setdefault(422, None)
        if spec.query is not None:
            statuses.setdefault(400, None)
            statuses.setdefault(422, None)
        if parameters and any(p["in"] == "path" for p in parameters):
            statuses.setdefault(404, None)
        if spec.operation is not None:
            statuses.setdefault(503, None)
        for status, model in sorted(statuses.items()):
            if status >= 400:
                operation["responses"][str(status)] = {
                    "description": _ERROR_TEXT.get(status, "error"),
                    "content": {"application/json": {"schema": ref(ErrorOut, "serialization")}},
                }
            elif model is None:
                operation["responses"][str(status)] = {"description": "OK"}
            else:
                operation["responses"][str(status)] = {
                    "description": "OK",
                    "content": {"application/json": {"schema": ref(model, "serialization")}},
                }
        paths.setdefault(path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "民生110 dispatch service",
            "version": __version__,
            "description": "Intake, routing and live dispatch of citizens' requests to agency desks.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "description": "API token"}},
        },
    }


async def openapi_document(request: web.Request) -> web.Response:
    """The OpenAPI document (built once per process)."""
    cache = request.app[DOCUMENT_KEY]
    if not cache:
        cache.update(build_document(request.app))
    return json_response(cache)


def setup(app: web.Application) -> None:
    app[DOCUMENT_KEY] = {}  # filled on first request, once every route is registered
    app.router.add_get("/api/v1/openapi.json", openapi_document)
