"""``dispatch archive``: a month of finished tickets out of the database into files and back,
through the real command against real PostgreSQL."""

from __future__ import annotations

import asyncio
import gzip
import json
import signal
import subprocess
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from dispatch.archive.tables import TABLES
from dispatch.runtime.settings import Settings
from tests.api_helpers import call
from tests.cli_helpers import DISPATCH, clean_env, run_dispatch
from tests.conftest import UserFactory
from tests.public.conftest import create, resolve_all

MONTH = "2023-11"


def _env(settings: Settings) -> dict[str, str]:
    return clean_env(DISPATCH_DATABASE_URL=settings.database_url)


def _archive(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return run_dispatch("archive", *args, env=_env(settings), timeout=120)


def _start(settings: Settings, *args: str) -> subprocess.Popen[bytes]:
    """Start ``dispatch archive ARGS`` without waiting for it."""
    return subprocess.Popen(
        [*DISPATCH, "archive", *args], env=_env(settings), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )


async def _closed(http: aiohttp.ClientSession, taker: str, supervisor: str) -> dict[str, Any]:
    ticket = await create(http, taker)
    await resolve_all(http, supervisor, ticket)
    async with http.post(
        f"/api/v1/public/tickets/{ticket['number']}/feedback",
        params={"token": ticket["tracking_token"]},
        json={"satisfied": True, "rating": 5, "comment": "修好了"},
    ) as response:
        assert response.status == 200, await response.text()
    return ticket


async def _month_of_tickets(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool
) -> tuple[list[dict[str, Any]], str]:
    """Four finished tickets of November 2023 (three closed after the citizen's feedback, one
    merged into another), one closed ticket of December 2023; the supervisor's token."""
    _, taker = await make_user("call_taker")
    _, supervisor = await make_user("supervisor")
    first = await _closed(http, taker, supervisor)
    target = await create(http, taker)
    duplicate = await create(http, taker)
    status, body = await call(
        http, "POST", f"/api/v1/tickets/{duplicate['id']}/merge", supervisor, {"into": target["id"]}
    )
    assert status == 200, body
    await resolve_all(http, supervisor, target)
    async with http.post(
        f"/api/v1/public/tickets/{target['number']}/feedback",
        params={"token": target["tracking_token"]},
        json={"satisfied": True, "rating": 4, "comment": ""},
    ) as response:
        assert response.status == 200
    last = await _closed(http, taker, supervisor)
    december = await _closed(http, taker, supervisor)
    november = [first, target, duplicate, last]
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE tickets SET created_at = timestamptz '2023-11-15 10:00+08' + id * interval '1 minute'"
            " WHERE id = ANY($1::bigint[])",
            [t["id"] for t in november],
        )
        await conn.execute(
            "UPDATE tickets SET created_at = timestamptz '2023-12-02 09:00+08' WHERE id = $1", december["id"]
        )
        # The relay publishes what was created; an archived month's outbox rows are long published.
        for _ in range(200):
            if not await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                break
            await asyncio.sleep(0.05)
    return november, supervisor


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list[dict[str, Any]]]:
    async with pool.acquire() as conn:
        return {t.name: [dict(r) for r in await conn.fetch(f"SELECT * FROM {t.name} ORDER BY {t.key}")] for t in TABLES}


async def _ticket_count(pool: asyncpg.Pool, tickets: list[dict[str, Any]]) -> int:
    async with pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM tickets WHERE id = ANY($1::bigint[])", [t["id"] for t in tickets]
        )
        return count


async def _state(pool: asyncpg.Pool) -> str | None:
    async with pool.acquire() as conn:
        state: str | None = await conn.fetchval("SELECT state FROM archived_months WHERE month = '2023-11-01'")
        return state


async def test_export_verify_delete_restore_gives_back_every_row(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    november, _ = await _month_of_tickets(http, make_user, pool)
    # An address only November's first ticket has: it leaves the addresses search matches with
    # the month, and comes back with it.
    await pool.execute("UPDATE tickets SET address = '确山县健康路3号' WHERE id = $1", november[0]["id"])
    only_november = "SELECT count(*) FROM ticket_addresses WHERE address = '确山县健康路3号'"
    before = await _snapshot(pool)
    archive = tmp_path / MONTH

    exported = _archive(settings, "export", "--month", MONTH, "--to", str(archive))
    assert exported.returncode == 0, exported.stderr
    assert "exported 4 ticket(s) of 2023-11" in exported.stdout
    manifest = json.loads((archive / "manifest.json").read_text())
    assert manifest["tickets"] == 4 and manifest["held_back"] == []
    async with pool.acquire() as conn:
        last = await conn.fetchval("SELECT name FROM schema_migrations ORDER BY version DESC LIMIT 1")
    assert manifest["schema_version"] == last and manifest["dispatch_version"]
    counts = {t["table"]: t["rows"] for t in manifest["tables"]}
    assert counts["tickets"] == 4 and counts["events"] > 8 and counts["feedback"] == 3 and counts["outbox"] > 0
    assert {t["table"] for t in manifest["tables"]} == {t.name for t in TABLES}
    assert all((archive / t["file"]).is_file() for t in manifest["tables"])

    verified = _archive(settings, "verify", str(archive))
    assert verified.returncode == 0, verified.stderr
    assert "the database holds the same rows" in verified.stdout

    deleted = _archive(settings, "delete", "--month", MONTH, "--from", str(archive))
    assert deleted.returncode == 0, deleted.stderr
    assert "deleted 4 ticket(s) of 2023-11" in deleted.stdout
    assert await _ticket_count(pool, november) == 0
    assert await _state(pool) == "archived"
    after_delete = await _snapshot(pool)
    assert len(after_delete["tickets"]) == 1  # December's ticket stays
    assert {r["ticket_id"] for r in after_delete["events"]} == {after_delete["tickets"][0]["id"]}
    assert await pool.fetchval(only_november) == 0
    assert await pool.fetchval("SELECT count(*) FROM ticket_addresses") == 1  # December's

    again = _archive(settings, "delete", "--month", MONTH, "--from", str(archive))
    assert again.returncode == 0 and "archived already" in again.stdout
    refused = _archive(settings, "export", "--month", MONTH, "--to", str(tmp_path / "again"))
    assert refused.returncode == 2 and refused.stderr.strip() == (
        "dispatch: 2023-11 is already archived: its tickets are no longer in the database"
    )

    restored = _archive(settings, "restore", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert await _snapshot(pool) == before
    assert await pool.fetchval(only_november) == 1
    assert await _state(pool) is None
    assert _archive(settings, "verify", str(archive)).returncode == 0


async def test_a_changed_file_is_refused_by_verify_delete_and_restore(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    november, _ = await _month_of_tickets(http, make_user, pool)
    archive = tmp_path / MONTH
    assert _archive(settings, "export", "--month", MONTH, "--to", str(archive)).returncode == 0
    events = next(archive.glob("events-*.csv.gz"))
    text = gzip.decompress(events.read_bytes()).replace(b"police", b"polise", 1)
    events.write_bytes(gzip.compress(text))

    for args in (
        ("verify", str(archive)),
        ("delete", "--month", MONTH, "--from", str(archive)),
        ("restore", str(archive)),
    ):
        result = _archive(settings, *args)
        assert result.returncode == 2
        assert result.stderr.strip() == (
            f"dispatch: {events} was changed since the export: its SHA-256 is not the manifest's"
        )
    assert await _ticket_count(pool, november) == 4
    assert await _state(pool) is None


async def test_delete_refuses_a_month_changed_since_its_export(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    november, _ = await _month_of_tickets(http, make_user, pool)
    archive = tmp_path / MONTH
    assert _archive(settings, "export", "--month", MONTH, "--to", str(archive)).returncode == 0
    async with pool.acquire() as conn:  # anonymised after the export: the archive is stale
        await conn.execute("UPDATE tickets SET caller_name = NULL WHERE id = $1", november[0]["id"])

    result = _archive(settings, "delete", "--month", MONTH, "--from", str(archive))
    assert result.returncode == 2
    assert result.stderr.startswith("dispatch: the database's 2023-11 no longer matches the archive in tickets")
    assert await _ticket_count(pool, november) == 4 and await _state(pool) is None

    no_archive = _archive(settings, "delete", "--month", MONTH, "--from", str(tmp_path / "nothing"))
    assert no_archive.returncode == 2
    assert "holds no archive" in no_archive.stderr and await _ticket_count(pool, november) == 4


async def test_open_and_reopened_tickets_are_never_taken(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    november, _ = await _month_of_tickets(http, make_user, pool)
    archive = tmp_path / MONTH
    assert _archive(settings, "export", "--month", MONTH, "--to", str(archive)).returncode == 0
    async with pool.acquire() as conn:  # reopened after the export (as unsatisfied feedback does)
        await conn.execute("UPDATE tickets SET status = 'in_progress' WHERE id = $1", november[0]["id"])

    deleted = _archive(settings, "delete", "--month", MONTH, "--from", str(archive))
    assert deleted.returncode == 2
    assert deleted.stderr.strip() == (
        f"dispatch: 2023-11 has 1 open ticket(s) ({november[0]['number']}): an archive takes finished work only;"
        " close or cancel them first"
    )
    assert await _ticket_count(pool, november) == 4
    exported = _archive(settings, "export", "--month", MONTH, "--to", str(tmp_path / "second"))
    assert exported.returncode == 2 and "1 open ticket(s)" in exported.stderr
    assert not (tmp_path / "second" / "manifest.json").exists()


@pytest.mark.parametrize("then", ["delete again", "restore"])
async def test_a_killed_delete_is_finished_or_undone_when_run_again(
    http: aiohttp.ClientSession,
    make_user: UserFactory,
    pool: asyncpg.Pool,
    settings: Settings,
    tmp_path: Path,
    then: str,
) -> None:
    november, _ = await _month_of_tickets(http, make_user, pool)
    before = await _snapshot(pool)
    archive = tmp_path / MONTH
    assert _archive(settings, "export", "--month", MONTH, "--to", str(archive)).returncode == 0
    # The delete goes newest first, a ticket a batch (with the tickets that refer to it: the
    # merge target goes with its duplicate): holding the oldest one stops it before the last batch.
    held = min(t["id"] for t in november)
    blocker = await pool.acquire()
    transaction = blocker.transaction()
    await transaction.start()
    await blocker.execute("SELECT 1 FROM tickets WHERE id = $1 FOR UPDATE", held)
    process = _start(settings, "delete", "--month", MONTH, "--from", str(archive), "--batch", "1", "--no-vacuum")
    try:
        for _ in range(600):
            # Another connection: inside a transaction, pg_stat_activity stays as first read.
            waiting = await pool.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
            )
            if waiting:
                break
            assert process.poll() is None, process.communicate()
            await asyncio.sleep(0.05)
        else:
            process.kill()
            pytest.fail(f"the delete never reached the held ticket: {process.communicate()}")
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        # The server ends the dead client's transaction (it would once the lock came free).
        await pool.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
    finally:
        await transaction.rollback()
        await pool.release(blocker)
        if process.poll() is None:
            process.kill()
        process.communicate()

    assert await _state(pool) == "deleting"
    assert await _ticket_count(pool, november) == 1  # the batches before it done, the rest whole
    verified = _archive(settings, "verify", str(archive))
    assert verified.returncode == 0 and "run dispatch archive delete again" in verified.stdout
    refused = _archive(settings, "export", "--month", MONTH, "--to", str(tmp_path / "again"))
    assert refused.returncode == 2 and "is being deleted" in refused.stderr

    if then == "restore":  # the half-deleted month back whole, and archivable again
        restored = _archive(settings, "restore", str(archive))
        assert restored.returncode == 0, restored.stderr
        assert await _snapshot(pool) == before and await _state(pool) is None
        assert _archive(settings, "verify", str(archive)).stdout.endswith("the database holds the same rows\n")
        return
    resumed = _archive(settings, "delete", "--month", MONTH, "--from", str(archive))
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.startswith("resumed: deleted 1 ticket(s) of 2023-11")
    assert await _ticket_count(pool, november) == 0 and await _state(pool) == "archived"

    assert _archive(settings, "restore", str(archive)).returncode == 0
    assert await _snapshot(pool) == before


async def test_a_ticket_another_month_refers_to_is_held_back(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    november, supervisor = await _month_of_tickets(http, make_user, pool)
    target = november[0]  # closed in November; a December call about it is merged into it
    _, taker = await make_user("call_taker")
    later = await create(http, taker)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE tickets SET status = 'resolved' WHERE id = $1", target["id"])
    status, body = await call(http, "POST", f"/api/v1/tickets/{later['id']}/merge", supervisor, {"into": target["id"]})
    assert status == 200, body
    async with pool.acquire() as conn:
        await conn.execute("UPDATE tickets SET status = 'closed' WHERE id = $1", target["id"])
        await conn.execute(
            "UPDATE tickets SET created_at = timestamptz '2023-12-20 09:00+08' WHERE id = $1", later["id"]
        )

    archive = tmp_path / MONTH
    exported = _archive(settings, "export", "--month", MONTH, "--to", str(archive))
    assert exported.returncode == 0, exported.stderr
    assert "exported 3 ticket(s)" in exported.stdout and target["number"] in exported.stdout
    assert json.loads((archive / "manifest.json").read_text())["held_back"] == [target["number"]]
    assert _archive(settings, "delete", "--month", MONTH, "--from", str(archive)).returncode == 0
    async with pool.acquire() as conn:
        kept = await conn.fetchval("SELECT merged_into FROM tickets WHERE id = $1", later["id"])
        assert kept == target["id"] and await conn.fetchval("SELECT count(*) FROM tickets WHERE id = $1", kept) == 1
    assert await _ticket_count(pool, november) == 1


async def test_an_archived_month_leaves_open311_and_citizen_lookup_and_comes_back(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    november, _ = await _month_of_tickets(http, make_user, pool)
    async with pool.acquire() as conn:  # as a partner's app files them: Open311 lists those
        await conn.execute(
            "UPDATE tickets SET channel = 'open311' WHERE id = ANY($1::bigint[])", [t["id"] for t in november]
        )
    ticket = november[0]
    lookup = f"/api/v1/public/tickets/{ticket['number']}?token={ticket['tracking_token']}"
    listing = "/open311/v2/requests.json?start_date=2023-11-01T00:00:00%2B08:00&end_date=2023-12-01T00:00:00%2B08:00"

    async def visible() -> tuple[int, set[str]]:
        async with http.get(lookup) as response:
            status = response.status
        async with http.get(listing) as response:
            assert response.status == 200
            listed = {item["service_request_id"] for item in await response.json()}
        return status, listed

    numbers = {t["number"] for t in november}
    status, listed = await visible()
    assert status == 200 and numbers <= listed
    archive = tmp_path / MONTH
    assert _archive(settings, "export", "--month", MONTH, "--to", str(archive)).returncode == 0
    assert _archive(settings, "delete", "--month", MONTH, "--from", str(archive)).returncode == 0
    status, listed = await visible()
    assert status == 404 and not numbers & listed
    assert _archive(settings, "restore", str(archive)).returncode == 0
    status, listed = await visible()
    assert status == 200 and numbers <= listed


async def test_restore_refuses_an_archive_of_another_schema_version(
    http: aiohttp.ClientSession, make_user: UserFactory, pool: asyncpg.Pool, settings: Settings, tmp_path: Path
) -> None:
    november, _ = await _month_of_tickets(http, make_user, pool)
    archive = tmp_path / MONTH
    assert _archive(settings, "export", "--month", MONTH, "--to", str(archive)).returncode == 0
    assert _archive(settings, "delete", "--month", MONTH, "--from", str(archive)).returncode == 0
    path = archive / "manifest.json"
    manifest = json.loads(path.read_text())
    real = manifest["schema_version"]
    manifest["schema_version"] = "0009_escalation_level.sql"
    path.write_text(json.dumps(manifest))

    result = _archive(settings, "restore", str(archive))
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"dispatch: the archive was written at schema 0009_escalation_level.sql, the database is at {real}:"
        " restore it into a database at the archive's version"
    )
    assert await _ticket_count(pool, november) == 0


@pytest.mark.parametrize("month", ["2099-01", "current"])
def test_a_month_not_over_is_refused_before_anything_starts(settings: Settings, tmp_path: Path, month: str) -> None:
    from datetime import datetime

    from dispatch.archive.month import LOCAL_ZONE

    if month == "current":
        month = datetime.now(LOCAL_ZONE).strftime("%Y-%m")
    result = _archive(settings, "export", "--month", month, "--to", str(tmp_path / "a"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"dispatch: {month} has not ended yet: a month is archived once it is over"
    assert not (tmp_path / "a").exists()


def test_every_archive_command_and_argument_has_help(settings: Settings) -> None:
    from dispatch.cli import build_parser

    parser = build_parser()
    for action in ("export", "verify", "delete", "restore", "list"):
        result = run_dispatch("archive", action, "--help", env=_env(settings))
        assert result.returncode == 0 and result.stdout
    archive = next(a for a in parser._actions if a.dest == "command").choices["archive"]  # type: ignore[attr-defined]
    for child in next(a for a in archive._actions if a.dest == "action").choices.values():
        for argument in child._actions:
            assert argument.help, (child.prog, argument.dest)
