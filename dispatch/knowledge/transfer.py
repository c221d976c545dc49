"""Knowledge-base import and export, CSV (UTF-8, BOM accepted and written, for Excel) and JSON.

A row is an entry's fields: ``title`` and ``answer`` required; ``category``, ``agency``,
``keywords`` (in CSV separated by ``;``, ``、`` or ``|``), ``valid_from``, ``valid_to``,
``last_reviewed`` optional. Every row is validated as ``POST /api/v1/kb`` validates a body
before anything is written; an import is one transaction: all rows or none. A row whose title
is that of an entry in force updates it (a new version when something changed), any other row
creates an entry.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Final, Literal

import asyncpg
import orjson
from pydantic import ValidationError

from dispatch.api.kb import EntryCreate, entry_fields
from dispatch.api.responses import validation_details
from dispatch.errors import ValidationFailed
from dispatch.store import kb as store
from dispatch.store.users import Principal

Format = Literal["csv", "json"]
CSV_COLUMNS: Final = (
    "id",
    "version",
    "title",
    "answer",
    "category",
    "agency",
    "keywords",
    "valid_from",
    "valid_to",
    "last_reviewed",
)
_KEYWORD_SEPARATORS: Final = re.compile(r"[;；、|]")
STARTER_FILE: Final = "starter.json"


@dataclass(frozen=True, slots=True)
class ImportOutcome:
    created: int
    updated: int
    unchanged: int


def _csv_rows(text: str) -> list[dict[str, Any]]:
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff")))
    rows = []
    for raw in reader:
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if key is None or key.strip() in ("id", "version", ""):
                continue
            value = (value or "").strip()
            if key.strip() == "keywords":
                row["keywords"] = [k.strip() for k in _KEYWORD_SEPARATORS.split(value) if k.strip()]
            elif value:
                row[key.strip()] = value
        rows.append(row)
    return rows


def parse(data: bytes, fmt: Format) -> list[EntryCreate]:
    """The entries in a CSV or JSON document (a list of objects, or ``{"items": [...]}`` as
    the export and ``GET /api/v1/kb`` write); 422 naming the row and field of the first error."""
    if fmt == "csv":
        rows = _csv_rows(data.decode("utf-8-sig"))
    else:
        try:
            document = orjson.loads(data)
        except orjson.JSONDecodeError as exc:
            raise ValidationFailed(f"not JSON: {exc}") from None
        if isinstance(document, dict) and isinstance(document.get("items"), list):
            document = document["items"]
        if not isinstance(document, list):
            raise ValidationFailed('a JSON import is a list of entries, or {"items": [...]}')
        rows = [
            {k: v for k, v in row.items() if k in EntryCreate.model_fields} if isinstance(row, dict) else row
            for row in document
        ]
    entries = []
    for number, row in enumerate(rows, start=1):
        try:
            entries.append(EntryCreate.model_validate(row))
        except ValidationError as exc:
            details = [{"row": number, **d} for d in validation_details(exc)]
            first = details[0]
            raise ValidationFailed(f"row {number}: {first['field']}: {first['message']}", details=details) from None
    return entries


async def import_entries(
    conn: asyncpg.Connection, entries: list[EntryCreate], principal: Principal | None = None, *, note: str = ""
) -> ImportOutcome:
    """Create or update every entry in one transaction."""
    created = updated = unchanged = 0
    async with conn.transaction():
        for entry in entries:
            existing = await store.find_by_title(conn, entry.title)
            if existing is None:
                await store.create_entry(conn, principal, entry_fields(entry), note=note or entry.note)
                created += 1
                continue
            before = await conn.fetchval("SELECT version FROM kb_entries WHERE id = $1", existing)
            fields = entry_fields(entry)
            # An import states the whole entry: what it leaves out is cleared.
            cleared = frozenset(n for n in store.ENTRY_FIELDS if getattr(fields, n) in (None, []))
            after = await store.update_entry(
                conn,
                existing,
                principal,
                store.EntryFields(**{n: getattr(fields, n) for n in store.ENTRY_FIELDS}, cleared=cleared),
                note=note or entry.note,
            )
            if after["version"] == before:
                unchanged += 1
            else:
                updated += 1
    return ImportOutcome(created, updated, unchanged)


def render(entries: list[dict[str, Any]], fmt: Format) -> bytes:
    """Entries (as ``store.kb`` returns them) as CSV with a BOM, or as ``{"items": [...]}``."""
    if fmt == "json":
        items = [{k: e[k] for k in CSV_COLUMNS} for e in entries]
        return orjson.dumps({"items": items}, option=orjson.OPT_INDENT_2) + b"\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for entry in entries:
        row = {k: entry[k] for k in CSV_COLUMNS}
        row["keywords"] = ";".join(entry["keywords"])
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def starter_entries() -> list[EntryCreate]:
    """The starter knowledge base shipped with the service (general guidance written for the demo)."""
    data = resources.files("dispatch.knowledge").joinpath(STARTER_FILE).read_bytes()
    return parse(data, "json")


async def load_starter(conn: asyncpg.Connection) -> ImportOutcome:
    """Import the starter entries (idempotent: a second load changes nothing)."""
    return await import_entries(conn, starter_entries(), note="starter knowledge base")
