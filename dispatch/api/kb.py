"""Knowledge-base views (知识库): list and search, suggestions for a call's text, one entry with
its versions, and create, edit and retire for supervisors and admins (docs/api.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from dispatch.access.auth import authenticate
from dispatch.api.params import path_id, query
from dispatch.api.responses import json_response, read_model
from dispatch.api.schemas import AgencyCode, CategoryCode, RequiredText, Strict, Text
from dispatch.api.spec import describe
from dispatch.runtime.app_keys import DB
from dispatch.store import kb as store

Keyword = Annotated[RequiredText, Field(max_length=50)]


class EntryCreate(Strict):
    """A new entry. Required: ``title`` and ``answer``; the rest is optional."""

    title: Annotated[RequiredText, Field(max_length=200, description="what the caller asks, e.g. 居住证办理材料")]
    answer: Annotated[RequiredText, Field(max_length=8000, description="the text the call-taker reads out")]
    category: CategoryCode | None = Field(default=None, description="the category a ticket answered from it gets")
    agency: AgencyCode | None = Field(default=None, description="the agency whose business it is")
    keywords: list[Keyword] = Field(default=[], max_length=30, description="words a caller uses for it")
    valid_from: date | None = Field(default=None, description="in force from this day (China time)")
    valid_to: date | None = Field(default=None, description="in force until this day, included")
    last_reviewed: date | None = Field(default=None, description="when its content was last checked")
    note: Annotated[Text, Field(max_length=500)] = Field(default="", description="why: kept with the version")


class EntryUpdate(Strict):
    """An edit: only the fields given change (``null`` clears an optional one); a new version.
    ``version`` is the version the edit started from: a 409 if someone saved in between."""

    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="expected current version")
    title: Annotated[RequiredText, Field(max_length=200)] | None = None
    answer: Annotated[RequiredText, Field(max_length=8000)] | None = None
    category: CategoryCode | None = None
    agency: AgencyCode | None = None
    keywords: list[Keyword] | None = Field(default=None, max_length=30)
    valid_from: date | None = None
    valid_to: date | None = None
    last_reviewed: date | None = None
    note: Annotated[Text, Field(max_length=500)] = ""

    @model_validator(mode="after")
    def _required_stay(self) -> EntryUpdate:
        for name in ("title", "answer"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be cleared")
        return self


class RetireRequest(Strict):
    version: int | None = Field(default=None, ge=1, le=2**31 - 1, description="expected current version")
    note: Annotated[Text, Field(max_length=500)] = ""


class EntryQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    q: str | None = Field(default=None, min_length=1, max_length=200, description="search text: best match first")
    category: CategoryCode | None = None
    agency: AgencyCode | None = None
    state: Literal["live", "retired", "all"] = Field(default="live", description="live: in force today")
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)


class SuggestQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")

    # 500 characters: the first part of a call says what it is about, and the query string stays
    # within the request line HTTP servers accept (8 KiB) even when every character is 4 bytes.
    text: str = Field(min_length=1, max_length=500, description="the start of the call's description as typed so far")
    limit: int = Field(default=5, ge=1, le=20)


class _EntryContent(BaseModel):
    """What every version of an entry says, shared by an entry and each of its versions."""

    version: int
    title: str
    answer: str
    category: str | None
    agency: str | None
    keywords: list[str]
    valid_from: date | None
    valid_to: date | None
    last_reviewed: date | None
    retired: bool


class EntryVersionOut(_EntryContent):
    note: str
    created_at: datetime
    created_by: str


class EntryOut(_EntryContent):
    id: int
    retired_at: datetime | None
    created_at: datetime
    updated_at: datetime
    updated_by: str | None
    score: int | None = Field(default=None, description="with a search or suggestion: how well it matches")
    versions: list[EntryVersionOut] | None = Field(default=None, description="one entry: every version, newest first")


class EntryPage(BaseModel):
    items: list[EntryOut]
    next_cursor: str | None


class SuggestOut(BaseModel):
    items: list[EntryOut]


def entry_fields(body: EntryCreate | EntryUpdate) -> store.EntryFields:
    """The store's fields of a create or edit body; on an edit, fields given as null are cleared."""
    given = body.model_fields_set
    cleared = frozenset(name for name in store.ENTRY_FIELDS if name in given and getattr(body, name) is None)
    values: dict[str, Any] = {name: getattr(body, name) for name in store.ENTRY_FIELDS}
    return store.EntryFields(**values, cleared=cleared)


@describe(
    "Knowledge-base entries: search (q, best first) or list (newest first, with a cursor)",
    tag="kb",
    query=EntryQuery,
    responses={200: EntryPage},
    operation="kb.read",
)
async def list_entries(request: web.Request) -> web.Response:
    """GET /api/v1/kb: entries in force (or retired, or all), searched or listed."""
    await authenticate(request, "kb.read")
    params = query(request, EntryQuery)
    filters = store.EntryFilter(text=params.q, category=params.category, agency=params.agency, state=params.state)
    async with request.app[DB].acquire() as conn:
        items, next_cursor = await store.list_entries(conn, filters, cursor=params.cursor, limit=params.limit)
    return json_response({"items": items, "next_cursor": next_cursor})


@describe(
    "Entries in force that a call's text is likely asking about (while the call-taker types)",
    tag="kb",
    query=SuggestQuery,
    responses={200: SuggestOut},
    operation="kb.read",
)
async def suggest(request: web.Request) -> web.Response:
    """GET /api/v1/kb/suggest?text=: up to ``limit`` entries, best first (may be none)."""
    await authenticate(request, "kb.read")
    params = query(request, SuggestQuery)
    async with request.app[DB].acquire() as conn:
        items = await store.suggest(conn, params.text, limit=params.limit)
    return json_response({"items": items})


@describe("One knowledge-base entry with every version", tag="kb", responses={200: EntryOut}, operation="kb.read")
async def get_entry(request: web.Request) -> web.Response:
    """GET /api/v1/kb/{id}: the entry's current version and its history."""
    await authenticate(request, "kb.read")
    async with request.app[DB].acquire() as conn:
        return json_response(await store.get_entry(conn, path_id(request)))


@describe(
    "Create a knowledge-base entry (version 1)",
    tag="kb",
    body=EntryCreate,
    responses={201: EntryOut},
    operation="kb.write",
)
async def create_entry(request: web.Request) -> web.Response:
    """POST /api/v1/kb: a new entry."""
    principal = await authenticate(request, "kb.write")
    body = await read_model(request, EntryCreate)
    async with request.app[DB].acquire() as conn:
        entry = await store.create_entry(conn, principal, entry_fields(body), note=body.note)
    return json_response(entry, status=201, headers={"Location": f"/api/v1/kb/{entry['id']}"})


@describe(
    "Edit a knowledge-base entry: a new version (the old ones are kept)",
    tag="kb",
    body=EntryUpdate,
    responses={200: EntryOut, 409: None},
    operation="kb.write",
)
async def update_entry(request: web.Request) -> web.Response:
    """PATCH /api/v1/kb/{id}: change the fields given."""
    principal = await authenticate(request, "kb.write")
    entry_id = path_id(request)
    body = await read_model(request, EntryUpdate)
    async with request.app[DB].acquire() as conn:
        entry = await store.update_entry(
            conn, entry_id, principal, entry_fields(body), expected_version=body.version, note=body.note
        )
    return json_response(entry)


@describe(
    "Retire a knowledge-base entry: out of search and suggestions, kept for the tickets answered from it",
    tag="kb",
    body=RetireRequest,
    responses={200: EntryOut, 409: None},
    operation="kb.write",
)
async def retire_entry(request: web.Request) -> web.Response:
    """POST /api/v1/kb/{id}/retire."""
    principal = await authenticate(request, "kb.write")
    entry_id = path_id(request)
    body = await read_model(request, RetireRequest)
    async with request.app[DB].acquire() as conn:
        entry = await store.retire_entry(conn, entry_id, principal, expected_version=body.version, note=body.note)
    return json_response(entry)


def setup(app: web.Application) -> None:
    app.router.add_get("/api/v1/kb", list_entries)
    app.router.add_post("/api/v1/kb", create_entry)
    app.router.add_get("/api/v1/kb/suggest", suggest)
    app.router.add_get("/api/v1/kb/{id}", get_entry)
    app.router.add_patch("/api/v1/kb/{id}", update_entry)
    app.router.add_post("/api/v1/kb/{id}/retire", retire_entry)
