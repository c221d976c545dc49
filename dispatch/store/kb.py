"""The knowledge base in PostgreSQL: entries, their versions, search and suggestions.

Every create, edit and retirement writes a new row of ``kb_versions`` and moves the entry's
current copy in ``kb_entries`` (what search reads) to it, in one transaction; versions are
never changed. An edit names the version it started from (optional): if someone else saved in
between, it is refused with 409 instead of overwriting their change.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

import asyncpg

from dispatch.errors import BadRequest, Conflict, NotFound, ValidationFailed
from dispatch.knowledge.terms import normalised_keyword, query_text, terms, terms_of_all
from dispatch.store.events import actor_label
from dispatch.store.users import Principal

ENTRY_FIELDS: Final = (
    "title",
    "answer",
    "category",
    "agency",
    "keywords",
    "valid_from",
    "valid_to",
    "last_reviewed",
)
_COLUMNS: Final = """
    k.id, k.version, k.title, k.answer, k.category, k.agency, k.keywords, k.valid_from, k.valid_to,
    k.last_reviewed, k.retired_at, k.created_at, k.updated_at,
    (SELECT name FROM users u WHERE u.id = k.updated_by) AS updated_by
"""
# In force today (China time): not retired and inside its validity.
_LIVE: Final = """
    k.retired_at IS NULL
    AND (k.valid_from IS NULL OR k.valid_from <= (now() AT TIME ZONE 'Asia/Shanghai')::date)
    AND (k.valid_to IS NULL OR k.valid_to >= (now() AT TIME ZONE 'Asia/Shanghai')::date)
"""
# How a match is scored: a whole keyword found in the text counts most, then shared terms of
# the title, the keywords and the answer. $1 the query's terms, $2 its normal form.
_SCORE: Final = """
    10 * (SELECT count(*) FROM unnest(k.keywords) kw WHERE kw <> '' AND strpos($2, kw) > 0)
    + 3 * cardinality(ARRAY(SELECT unnest(k.title_terms) INTERSECT SELECT unnest($1::text[])))
    + 2 * cardinality(ARRAY(SELECT unnest(k.keyword_terms) INTERSECT SELECT unnest($1::text[])))
    + cardinality(ARRAY(SELECT unnest(k.answer_terms) INTERSECT SELECT unnest($1::text[])))
"""
# A suggestion (unasked, while the call-taker types) needs a whole keyword in the text or two
# title terms; a search the call-taker typed into the KB box needs any shared term.
SUGGEST_MIN_SCORE: Final = 6


@dataclass(frozen=True, slots=True)
class EntryFields:
    """What an entry says; on an edit, None means "unchanged" for every field but the ones in
    ``cleared`` (set to null on purpose)."""

    title: str | None = None
    answer: str | None = None
    category: str | None = None
    agency: str | None = None
    keywords: list[str] | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    last_reviewed: date | None = None
    cleared: frozenset[str] = field(default_factory=frozenset)


def _keywords(values: list[str]) -> list[str]:
    return list(dict.fromkeys(k for k in (normalised_keyword(v) for v in values) if k))


def _entry_dict(row: asyncpg.Record, score: int | None = None) -> dict[str, Any]:
    entry = {
        "id": row["id"],
        "version": row["version"],
        "title": row["title"],
        "answer": row["answer"],
        "category": row["category"],
        "agency": row["agency"],
        "keywords": list(row["keywords"]),
        "valid_from": row["valid_from"],
        "valid_to": row["valid_to"],
        "last_reviewed": row["last_reviewed"],
        "retired": row["retired_at"] is not None,
        "retired_at": row["retired_at"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "updated_by": row["updated_by"],
    }
    if score is not None:
        entry["score"] = score
    return entry


async def _write_version(
    conn: asyncpg.Connection, entry_id: int, principal: Principal | None, note: str, *, retired: bool
) -> None:
    await conn.execute(
        """
        INSERT INTO kb_versions (entry_id, version, title, answer, category, agency, keywords, valid_from,
                                 valid_to, last_reviewed, retired, note, created_by, created_by_name)
        SELECT id, version, title, answer, category, agency, keywords, valid_from, valid_to, last_reviewed,
               $2, $3, $4, $5
        FROM kb_entries WHERE id = $1
        """,
        entry_id,
        retired,
        note,
        principal.id if principal else None,
        actor_label(principal),
    )


def _search_columns(title: str, answer: str, keywords: list[str]) -> tuple[list[str], list[str], list[str], list[str]]:
    title_terms = terms(title)
    keyword_terms = terms_of_all(keywords)
    answer_terms = terms(answer)
    return title_terms, keyword_terms, answer_terms, list(dict.fromkeys(title_terms + keyword_terms + answer_terms))


def _check_validity(valid_from: date | None, valid_to: date | None) -> None:
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        raise ValidationFailed(
            "valid_to is before valid_from / 有效期截止日期早于开始日期",
            details=[{"field": "valid_to", "message": "must not be before valid_from"}],
        )


async def create_entry(
    conn: asyncpg.Connection, principal: Principal | None, fields: EntryFields, *, note: str = ""
) -> dict[str, Any]:
    """Create an entry (version 1); return it as ``get_entry`` does, without versions."""
    assert fields.title and fields.answer, "the schema requires a title and an answer"
    keywords = _keywords(fields.keywords or [])
    _check_validity(fields.valid_from, fields.valid_to)
    title_terms, keyword_terms, answer_terms, all_terms = _search_columns(fields.title, fields.answer, keywords)
    async with conn.transaction():
        entry_id: int = await conn.fetchval(
            """
            INSERT INTO kb_entries (title, answer, category, agency, keywords, valid_from, valid_to, last_reviewed,
                                    title_terms, keyword_terms, answer_terms, terms, created_by, updated_by)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
            RETURNING id
            """,
            fields.title,
            fields.answer,
            fields.category,
            fields.agency,
            keywords,
            fields.valid_from,
            fields.valid_to,
            fields.last_reviewed,
            title_terms,
            keyword_terms,
            answer_terms,
            all_terms,
            principal.id if principal else None,
        )
        await _write_version(conn, entry_id, principal, note, retired=False)
    return await get_entry(conn, entry_id, versions=False)


async def _lock(conn: asyncpg.Connection, entry_id: int) -> asyncpg.Record:
    row = await conn.fetchrow("SELECT * FROM kb_entries WHERE id = $1 FOR UPDATE", entry_id)
    if row is None:
        raise NotFound(f"no knowledge-base entry {entry_id} / 没有该知识条目", code="kb_entry_not_found")
    return row


def _check_version(row: asyncpg.Record, expected: int | None) -> None:
    if expected is not None and expected != row["version"]:
        raise Conflict(
            f"entry {row['id']} is at version {row['version']}, not {expected}: someone saved it meanwhile; "
            "reload and edit again / 该条目已被他人修改，请刷新后重新编辑",
            code="kb_version_conflict",
            details=[{"entry_id": row["id"], "version": row["version"], "expected": expected}],
        )


async def update_entry(
    conn: asyncpg.Connection,
    entry_id: int,
    principal: Principal | None,
    fields: EntryFields,
    *,
    expected_version: int | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Save an edit as a new version; 409 if the entry is retired or moved past
    ``expected_version``. An edit that changes nothing writes no version."""
    async with conn.transaction():
        row = await _lock(conn, entry_id)
        if row["retired_at"] is not None:
            raise Conflict(
                f"entry {entry_id} is retired; create a new entry instead / 该条目已停用",
                code="kb_entry_retired",
            )
        _check_version(row, expected_version)
        new: dict[str, Any] = {}
        for name in ENTRY_FIELDS:
            given = getattr(fields, name)
            if name in fields.cleared:
                new[name] = [] if name == "keywords" else None
            elif given is not None:
                new[name] = _keywords(given) if name == "keywords" else given
            else:
                new[name] = list(row[name]) if name == "keywords" else row[name]
        _check_validity(new["valid_from"], new["valid_to"])
        if all(new[name] == (list(row[name]) if name == "keywords" else row[name]) for name in ENTRY_FIELDS):
            return await get_entry(conn, entry_id, versions=False)
        title_terms, keyword_terms, answer_terms, all_terms = _search_columns(
            new["title"], new["answer"], new["keywords"]
        )
        await conn.execute(
            """
            UPDATE kb_entries SET version = version + 1, title = $2, answer = $3, category = $4, agency = $5,
                   keywords = $6, valid_from = $7, valid_to = $8, last_reviewed = $9, title_terms = $10,
                   keyword_terms = $11, answer_terms = $12, terms = $13, updated_at = now(), updated_by = $14
            WHERE id = $1
            """,
            entry_id,
            *(new[name] for name in ENTRY_FIELDS),
            title_terms,
            keyword_terms,
            answer_terms,
            all_terms,
            principal.id if principal else None,
        )
        await _write_version(conn, entry_id, principal, note, retired=False)
    return await get_entry(conn, entry_id, versions=False)


async def retire_entry(
    conn: asyncpg.Connection,
    entry_id: int,
    principal: Principal | None,
    *,
    expected_version: int | None = None,
    note: str = "",
) -> dict[str, Any]:
    """Take an entry out of search and suggestions (a new version marks it retired); it stays
    readable, with its versions, for the tickets answered from it. Retiring twice is a 409."""
    async with conn.transaction():
        row = await _lock(conn, entry_id)
        if row["retired_at"] is not None:
            raise Conflict(f"entry {entry_id} is already retired / 该条目已停用", code="kb_entry_retired")
        _check_version(row, expected_version)
        await conn.execute(
            """UPDATE kb_entries SET version = version + 1, retired_at = now(), updated_at = now(), updated_by = $2
               WHERE id = $1""",
            entry_id,
            principal.id if principal else None,
        )
        await _write_version(conn, entry_id, principal, note, retired=True)
    return await get_entry(conn, entry_id, versions=False)


async def get_entry(conn: asyncpg.Connection, entry_id: int, *, versions: bool = True) -> dict[str, Any]:
    """One entry (current version), with every version newest first when ``versions``."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM kb_entries k WHERE k.id = $1", entry_id)
    if row is None:
        raise NotFound(f"no knowledge-base entry {entry_id} / 没有该知识条目", code="kb_entry_not_found")
    entry = _entry_dict(row)
    if versions:
        rows = await conn.fetch(
            """
            SELECT version, title, answer, category, agency, keywords, valid_from, valid_to, last_reviewed,
                   retired, note, created_at, created_by_name AS created_by
            FROM kb_versions WHERE entry_id = $1 ORDER BY version DESC
            """,
            entry_id,
        )
        entry["versions"] = [dict(r) | {"keywords": list(r["keywords"])} for r in rows]
    return entry


async def get_version(conn: asyncpg.Connection, entry_id: int, version: int | None = None) -> dict[str, Any]:
    """One version of an entry (the current one when ``version`` is None), with ``retired``."""
    if version is None:
        version = await conn.fetchval("SELECT version FROM kb_entries WHERE id = $1", entry_id)
    row = (
        await conn.fetchrow(
            """SELECT entry_id, version, title, answer, category, agency, retired
               FROM kb_versions WHERE entry_id = $1 AND version = $2""",
            entry_id,
            version,
        )
        if version is not None
        else None
    )
    if row is None:
        raise NotFound(f"no knowledge-base entry {entry_id} / 没有该知识条目", code="kb_entry_not_found")
    return dict(row)


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """Filters of the entry list; ``state`` live (in force today), retired, or all."""

    text: str | None = None
    category: str | None = None
    agency: str | None = None
    state: str = "live"


def encode_cursor(entry_id: int) -> str:
    return base64.urlsafe_b64encode(f"k:{entry_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = raw.partition(":")
        if kind != "k":
            raise ValueError
        return int(value)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadRequest("the cursor is not one this service gave out", code="bad_cursor") from None


async def list_entries(
    conn: asyncpg.Connection, filters: EntryFilter, *, cursor: str | None, limit: int
) -> tuple[list[dict[str, Any]], str | None]:
    """Entries matching the filters. With ``text``: best match first, one page (no cursor);
    without: newest first with a cursor."""
    # With text, $1 and $2 are the query's terms and normal form (what _SCORE reads).
    args: list[Any] = [terms(filters.text), query_text(filters.text)] if filters.text else []

    def arg(value: Any) -> str:
        args.append(value)
        return f"${len(args)}"

    where = ["true"]
    if filters.state == "live":
        where.append(_LIVE)
    elif filters.state == "retired":
        where.append("k.retired_at IS NOT NULL")
    if filters.category:
        where.append(f"k.category = {arg(filters.category)}")
    if filters.agency:
        where.append(f"k.agency = {arg(filters.agency)}")
    if filters.text:
        where.append(
            "(k.terms && $1::text[] OR EXISTS (SELECT 1 FROM unnest(k.keywords) kw WHERE strpos($2, kw) > 0)"
            " OR strpos(lower(k.title), lower($2)) > 0)"
        )
        rows = await conn.fetch(
            f"""
            SELECT * FROM (SELECT {_COLUMNS}, ({_SCORE})::int AS score FROM kb_entries k
                           WHERE {" AND ".join(where)}) ranked
            WHERE score > 0 ORDER BY score DESC, id DESC LIMIT {arg(limit)}
            """,
            *args,
        )
        return [_entry_dict(r, r["score"]) for r in rows], None
    if cursor:
        where.append(f"k.id < {arg(decode_cursor(cursor))}")
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM kb_entries k WHERE {' AND '.join(where)} ORDER BY k.id DESC LIMIT {arg(limit + 1)}",
        *args,
    )
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1]["id"]) if len(rows) > limit else None
    return [_entry_dict(r) for r in page], next_cursor


async def suggest(conn: asyncpg.Connection, text: str, *, limit: int = 5) -> list[dict[str, Any]]:
    """Entries in force that a call's description is likely asking about, best first: a whole
    keyword appears in the text, or the title shares at least two terms with it."""
    query_terms = terms(text)
    normal = query_text(text)
    if not query_terms:
        return []
    rows = await conn.fetch(
        f"""
        SELECT * FROM (SELECT {_COLUMNS}, ({_SCORE})::int AS score FROM kb_entries k
                       WHERE {_LIVE} AND (k.terms && $1::text[]
                             OR EXISTS (SELECT 1 FROM unnest(k.keywords) kw WHERE strpos($2, kw) > 0))) ranked
        WHERE score >= $3 ORDER BY score DESC, id DESC LIMIT $4
        """,
        query_terms,
        normal,
        SUGGEST_MIN_SCORE,
        limit,
    )
    return [_entry_dict(r, r["score"]) for r in rows]


async def all_entries(conn: asyncpg.Connection, *, include_retired: bool = False) -> list[dict[str, Any]]:
    """Every entry, oldest first (for export)."""
    where = "true" if include_retired else "k.retired_at IS NULL"
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM kb_entries k WHERE {where} ORDER BY k.id")
    return [_entry_dict(r) for r in rows]


async def find_by_title(conn: asyncpg.Connection, title: str) -> int | None:
    """The id of the live entry with exactly this title, if any (imports update it)."""
    entry_id: int | None = await conn.fetchval(
        "SELECT id FROM kb_entries WHERE title = $1 AND retired_at IS NULL ORDER BY id LIMIT 1", title
    )
    return entry_id
