"""What each view promises, attached to the handler itself, so that the OpenAPI document is
built from the same routes the server dispatches (``dispatch/api/openapi.py``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])
SPEC_ATTRIBUTE = "__dispatch_openapi__"


@dataclass(frozen=True, slots=True)
class OperationSpec:
    """The documented shape of one operation."""

    summary: str
    tag: str
    responses: dict[int, type[BaseModel] | None]
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    operation: str | None = None  # the permission name; None: no token needed
    headers: dict[str, str] = field(default_factory=dict)  # request header → description


def describe(
    summary: str,
    *,
    tag: str,
    responses: dict[int, type[BaseModel] | None],
    body: type[BaseModel] | None = None,
    query: type[BaseModel] | None = None,
    operation: str | None = None,
    headers: dict[str, str] | None = None,
) -> Callable[[F], F]:
    """Attach an :class:`OperationSpec` to a handler."""

    def attach(handler: F) -> F:
        setattr(
            handler,
            SPEC_ATTRIBUTE,
            OperationSpec(summary, tag, responses, body, query, operation, headers or {}),
        )
        return handler

    return attach


def spec_of(handler: object) -> OperationSpec | None:
    """The handler's spec, if it has one."""
    spec: OperationSpec | None = getattr(handler, SPEC_ATTRIBUTE, None)
    return spec
