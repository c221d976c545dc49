"""The manifest an archive directory carries beside its files (``manifest.json``): which month,
how many rows of each table, the SHA-256 of each file as written and of the CSV inside it, the
columns, the schema version (the last migration applied) and the version of the command.

The manifest's own SHA-256 names the archive: a delete records it in ``archived_months``, and a
resumed delete or a restore checks that it is the same archive.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from dispatch.errors import ArchiveError

MANIFEST: Final = "manifest.json"
FORMAT: Final = 1
CHUNK: Final = 1 << 20


@dataclass(frozen=True, slots=True)
class TableFile:
    """One table's file in an archive."""

    table: str
    file: str
    rows: int
    sha256: str
    content_sha256: str
    columns: list[str]
    # The highest id the archive holds in this table (None: no rows, or no single id column);
    # a delete refuses rows newer than this for the archived tickets.
    max_id: int | None


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything an archive directory says about itself."""

    format: int
    month: str
    time_zone: str
    period_start: str
    period_end: str
    schema_version: str
    dispatch_version: str
    exported_at: str
    tickets: int
    held_back: list[str]
    tables: list[TableFile]

    def table(self, name: str) -> TableFile:
        for entry in self.tables:
            if entry.table == name:
                return entry
        raise ArchiveError(f"the manifest lists no table {name}")

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def write_manifest(directory: Path, manifest: Manifest) -> str:
    """Write ``manifest.json`` (through a temporary name, so a half-written one never exists)
    and return its SHA-256."""
    data = manifest.to_json()
    partial = directory / (MANIFEST + ".partial")
    partial.write_bytes(data)
    partial.replace(directory / MANIFEST)
    return hashlib.sha256(data).hexdigest()


def read_manifest(directory: Path) -> tuple[Manifest, str]:
    """The archive's manifest and its SHA-256; a missing or unreadable one is an ArchiveError."""
    path = directory / MANIFEST
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArchiveError(f"{directory} holds no archive ({MANIFEST} is missing)") from None
    try:
        raw: dict[str, Any] = json.loads(data)
        if raw.get("format") != FORMAT:
            raise ArchiveError(f"{path}: archive format {raw.get('format')!r}, this version reads {FORMAT}")
        tables = [TableFile(**t) for t in raw.pop("tables")]
        manifest = Manifest(**raw, tables=tables)
    except (ValueError, TypeError, KeyError) as exc:
        raise ArchiveError(f"{path} is not a manifest this version reads ({exc})") from None
    return manifest, hashlib.sha256(data).hexdigest()


def digest_file(path: Path) -> tuple[str, str]:
    """The SHA-256 of a compressed file and of what it decompresses to."""
    outer, inner = hashlib.sha256(), hashlib.sha256()
    with path.open("rb") as raw:
        for chunk in iter(lambda: raw.read(CHUNK), b""):
            outer.update(chunk)
    try:
        for chunk in read_decompressed(path):
            inner.update(chunk)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ArchiveError(f"{path} is not a complete gzip file ({exc}): it was changed") from None
    return outer.hexdigest(), inner.hexdigest()


def read_decompressed(path: Path) -> Iterator[bytes]:
    """A file's decompressed bytes, a chunk at a time."""
    with gzip.open(path, "rb") as stream:
        yield from iter(lambda: stream.read(CHUNK), b"")


def check_files(directory: Path, manifest: Manifest) -> None:
    """Every file the manifest lists is there, unchanged; an ArchiveError names the first that
    is not."""
    for entry in manifest.tables:
        path = directory / entry.file
        if not path.is_file():
            raise ArchiveError(f"{path} is missing from the archive")
        outer, inner = digest_file(path)
        if outer != entry.sha256 or inner != entry.content_sha256:
            raise ArchiveError(f"{path} was changed since the export: its SHA-256 is not the manifest's")
