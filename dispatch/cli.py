"""The ``dispatch`` command: one entry point, one sub-command per job.

Errors the user can act on print one line on stderr and exit 2; nothing is half-done.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dispatch.errors import DispatchError
from dispatch.logconfig import configure_logging
from dispatch.settings import Settings, load_settings

if TYPE_CHECKING:
    import routing


def _with_database(settings: Settings, job: Callable[[Any], Coroutine[Any, Any, int]]) -> int:
    """Run ``job(conn)`` on a migrated database (embedded if none is configured)."""
    from dispatch.db import connect
    from dispatch.runtime import resolved_services
    from dispatch.server import prepare_database

    async def run(dsn: str) -> int:
        await prepare_database(dsn)
        conn = await connect(dsn)
        try:
            return await job(conn)
        finally:
            await conn.close()

    with resolved_services(settings, redis=False) as resolved:
        assert resolved.database_url
        return asyncio.run(run(resolved.database_url))


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.server import serve

    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    serve(
        load_settings(**overrides) if overrides else settings,
        demo=args.demo,
        workers=workers,
        reuse_port=args.reuse_port,
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.db import connect
    from dispatch.migrator import migrate
    from dispatch.runtime import resolved_services
    from dispatch.store.reference import sync_reference_data

    async def run(dsn: str) -> list[str]:
        conn = await connect(dsn)
        try:
            applied = await migrate(conn)
            await sync_reference_data(conn)
            return applied
        finally:
            await conn.close()

    with resolved_services(settings, redis=False) as resolved:
        assert resolved.database_url
        applied = asyncio.run(run(resolved.database_url))
    print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
    return 0


def _read_password(name: str) -> str:
    """A new password for ``name``: asked twice on a terminal, else the first line of stdin."""
    import getpass

    from dispatch.passwords import check_policy

    if sys.stdin.isatty():
        password = getpass.getpass(f"新密码 / new password for {name}: ")
        if getpass.getpass("再输入一次 / again: ") != password:
            raise DispatchError("the two passwords differ / 两次输入的密码不一致")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    check_policy(password)
    return password


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.passwords import hash_password
    from dispatch.store.users import add_user, set_password

    expires_at = datetime.now(UTC) + timedelta(days=args.expires_days) if args.expires_days else None
    encoded = hash_password(_read_password(args.name)) if args.password else None

    async def job(conn: Any) -> int:
        async with conn.transaction():
            principal, token = await add_user(
                conn,
                args.name,
                args.role,
                agency=args.agency,
                district=args.district,
                desk_code=args.desk,
                expires_at=expires_at,
            )
            if encoded is not None:
                await set_password(conn, principal.name, encoded)
        scope = " ".join(f"{k}={v}" for k, v in (("agency", principal.agency), ("district", principal.district)) if v)
        scope = f", {scope}" if scope else ""
        print(f"created user {principal.name} (id {principal.id}, role {principal.role}{scope})")
        print(token)
        return 0

    return _with_database(settings, job)


def cmd_user_passwd(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.passwords import hash_password
    from dispatch.store.users import set_password

    encoded = hash_password(_read_password(args.name))

    async def job(conn: Any) -> int:
        if not await set_password(conn, args.name, encoded):
            print(f"dispatch: no live user named {args.name!r}", file=sys.stderr)
            return 2
        print(f"set the password of {args.name}; their console sessions signed before have ended")
        return 0

    return _with_database(settings, job)


def cmd_kb_add(args: argparse.Namespace, settings: Settings) -> int:
    from pydantic import ValidationError

    from dispatch.api.kb import EntryCreate, entry_fields
    from dispatch.store.kb import create_entry

    raw: dict[str, Any] = {"title": args.title, "answer": args.answer}
    for name in ("category", "agency", "valid_from", "valid_to", "last_reviewed", "note"):
        if getattr(args, name):
            raw[name] = getattr(args, name)
    if args.keywords:
        raw["keywords"] = [k.strip() for k in args.keywords.replace("，", ",").split(",") if k.strip()]
    try:
        body = EntryCreate.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        print(f"dispatch: {'.'.join(map(str, first['loc']))}: {first['msg']}", file=sys.stderr)
        return 2

    async def job(conn: Any) -> int:
        entry = await create_entry(conn, None, entry_fields(body), note=body.note)
        print(f"created knowledge-base entry {entry['id']} (version {entry['version']}): {entry['title']}")
        print(entry["id"])
        return 0

    return _with_database(settings, job)


def _kb_format(explicit: str | None, path: str | None) -> str:
    if explicit:
        return explicit
    return "csv" if path and path.lower().endswith(".csv") else "json"


def cmd_kb_import(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.knowledge.transfer import import_entries, parse, starter_entries

    if args.starter == bool(args.file):
        print("dispatch: give a FILE (or - for stdin), or --starter", file=sys.stderr)
        return 2
    if args.starter:
        entries = starter_entries()
    else:
        data = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
        entries = parse(data, _kb_format(args.format, args.file))  # type: ignore[arg-type]

    async def job(conn: Any) -> int:
        outcome = await import_entries(conn, entries, note=args.note or "")
        print(
            f"imported {len(entries)} entries: {outcome.created} created, {outcome.updated} updated, "
            f"{outcome.unchanged} unchanged"
        )
        return 0

    return _with_database(settings, job)


def cmd_kb_export(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.knowledge.transfer import render
    from dispatch.store.kb import all_entries

    fmt = _kb_format(args.format, args.output)
    entries: list[dict[str, Any]] = []

    async def job(conn: Any) -> int:
        entries.extend(await all_entries(conn, include_retired=args.all))
        return 0

    code = _with_database(settings, job)
    data = render(entries, fmt)  # type: ignore[arg-type]
    if args.output:
        Path(args.output).write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return code


def cmd_user_revoke(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.users import revoke_user

    async def job(conn: Any) -> int:
        if not await revoke_user(conn, args.name):
            print(f"dispatch: no live user named {args.name!r}", file=sys.stderr)
            return 2
        print(f"revoked the token of {args.name}")
        return 0

    return _with_database(settings, job)


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    import orjson

    import routing
    from dispatch.classifier import classify_lines, current_model
    from dispatch.store.gazetteer import SHIPPED_PATH

    source = open(args.file, encoding="utf-8") if args.file else sys.stdin  # noqa: SIM115
    lines: Any = source
    if sys.stderr.isatty():
        from tqdm import tqdm

        lines = tqdm(source, unit=" lines", file=sys.stderr)
    out = sys.stdout.buffer
    failed = 0
    try:
        if settings.database_url:
            # With a database configured, classify as the service does: with its newest model
            # and its gazetteer; without, with the shipped ones.
            gazetteer = asyncio.run(_load_stored_model(settings.database_url))
        else:
            gazetteer = routing.Gazetteer(routing.parse_csv(SHIPPED_PATH.read_text(encoding="utf-8")))
        model = current_model()
        for result in classify_lines(lines, model, gazetteer):
            failed += "error" in result
            out.write(orjson.dumps(result) + b"\n")
    finally:
        if args.file:
            source.close()
        out.flush()
    return 1 if failed else 0


async def _load_stored_model(dsn: str) -> routing.Gazetteer:
    from dispatch.classifier import IN_SERVICE
    from dispatch.db import connect
    from dispatch.store.gazetteer import gazetteer_in_service

    conn = await connect(dsn)
    try:
        await IN_SERVICE.refresh(conn)
        return await gazetteer_in_service(conn)
    finally:
        await conn.close()


def cmd_classifier_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.classifier import retrain

    async def job(conn: Any) -> int:
        result = await retrain(conn, base_corpus=args.corpus or None, store=not args.dry_run)
        print(f"corrections used: {result['corrections']}")
        for name in result["after"]:
            print(f"{name:<20} before {result['before'][name]:.4f}  after {result['after'][name]:.4f}")
        if result["model_id"]:
            print(f"stored as model {result['model_id']}: every server picks it up within seconds")
        return 0

    return _with_database(settings, job)


def cmd_desks_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.desks import list_desks

    async def job(conn: Any) -> int:
        for desk in await list_desks(conn, args.agency):
            scope = "市级 city" if desk["city_level"] else ",".join(desk["districts"]) or "-"
            print(f"{desk['code']:<24} {desk['agency']:<10} {scope:<30} {desk['name']}")
        return 0

    return _with_database(settings, job)


def cmd_gazetteer_import(args: argparse.Namespace, settings: Settings) -> int:
    import routing
    from dispatch.store.gazetteer import import_places

    try:
        with open(args.file, encoding="utf-8-sig") as source:
            places = routing.parse_csv(source.read())
    except (OSError, UnicodeDecodeError) as exc:
        print(f"dispatch: cannot read {args.file}: {exc}", file=sys.stderr)
        return 2
    except routing.GazetteerError as exc:
        for row, message in exc.problems:
            print(f"dispatch: {args.file}: row {row}: {message}", file=sys.stderr)
        return 2

    async def job(conn: Any) -> int:
        result = await import_places(conn, places, source=os.path.basename(args.file), replace=args.replace)
        print(f"imported {result['imported']} places ({result['removed']} removed), {result['total']} in the gazetteer")
        return 0

    return _with_database(settings, job)


def cmd_gazetteer_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.gazetteer import list_places

    async def job(conn: Any) -> int:
        for place in await list_places(conn):
            print(f"{place.name:<24} {place.kind:<13} {place.district:<10} {place.lat:.5f},{place.lon:.5f}")
        return 0

    return _with_database(settings, job)


def cmd_gazetteer_export(args: argparse.Namespace, settings: Settings) -> int:
    import routing
    from dispatch.store.gazetteer import list_places

    async def job(conn: Any) -> int:
        text = routing.to_csv(await list_places(conn))
        if args.file:
            Path(args.file).write_text(text, encoding="utf-8")  # noqa: ASYNC240 (a command-line tool)
        else:
            sys.stdout.write(text)
        return 0

    return _with_database(settings, job)


def cmd_desks_set(args: argparse.Namespace, settings: Settings) -> int:
    import agencies
    from dispatch.store.desks import put_desk

    districts = []
    for name in filter(None, (p.strip() for p in (args.districts or "").split(","))):
        district = agencies.find_district(name)
        if district is None:
            print(f"dispatch: unknown district {name!r}", file=sys.stderr)
            return 2
        districts.append(district.code)
    if args.agency not in agencies.AGENCIES:
        print(f"dispatch: unknown agency {args.agency!r}", file=sys.stderr)
        return 2

    async def job(conn: Any) -> int:
        desk = await put_desk(
            conn, args.code, agency=args.agency, name=args.name, districts=districts, city_level=args.city_level
        )
        print(f"desk {desk['code']} ({desk['agency']}) serves {', '.join(desk['districts']) or 'no district'}")
        return 0

    return _with_database(settings, job)


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.redis_client import UNAVAILABLE
    from dispatch.retention import purge_closed, trim_bus

    async def job(conn: Any, client: Any) -> int:
        count = await purge_closed(conn, older_than_days=args.older_than)
        print(
            f"anonymised the callers of {count} ticket(s) closed more than {args.older_than} days ago"
            " and struck personal numbers out of their text"
        )
        try:
            removed = await trim_bus(conn, client, older_than_days=args.older_than)
        except UNAVAILABLE as exc:
            print(
                f"dispatch: Redis is unavailable ({exc}); the streams were not trimmed: run it again", file=sys.stderr
            )
            return 1
        print(f"removed {removed} event(s) older than {args.older_than} days from the Redis streams")
        return 0

    return _with_database_and_redis(settings, job)


def cmd_desk(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.desk_client import run_terminal

    return run_terminal(args.url, args.token)


def _positive_days(value: str) -> float:
    days = float(value)
    if not 0 < days <= 365:
        raise argparse.ArgumentTypeError("days are more than 0 and at most 365")
    return days


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def _positive_float(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if not 0 < number < math.inf:
        raise argparse.ArgumentTypeError("must be a number above 0")
    return number


def cmd_close_resolved(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.feedback import close_resolved

    days = args.days if args.days is not None else settings.feedback_grace_days

    async def job(conn: Any) -> int:
        closed = await close_resolved(conn, timedelta(days=days))
        print(f"closed {closed} ticket(s) resolved more than {days:g} days ago")
        return 0

    return _with_database(settings, job)


def cmd_sla_set(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.service_levels import set_service_level

    async def job(conn: Any) -> int:
        level, inserted = await set_service_level(
            conn,
            priority=args.priority,
            category=args.category,
            agency=args.agency,
            ack_seconds=args.ack,
            resolve_seconds=args.resolve,
            updated_by="cli",
        )
        scope = " ".join(f"{k}={level[k]}" for k in ("priority", "category", "agency") if level[k])
        verb = "added" if inserted else "changed"
        print(
            f"{verb} service level {scope}: acknowledge {level['ack_seconds']} s, resolve {level['resolve_seconds']} s"
        )
        return 0

    return _with_database(settings, job)


def cmd_sla_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.service_levels import list_service_levels

    async def job(conn: Any) -> int:
        print("priority category agency ack_seconds resolve_seconds updated_by")
        for level in await list_service_levels(conn):
            row = [level[k] or "-" for k in ("priority", "category", "agency", "ack_seconds", "resolve_seconds")]
            print(*row, level["updated_by"] or "-")
        return 0

    return _with_database(settings, job)


def cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.reports import build_report, parse_bound, render

    start, end = parse_bound(args.start, end=False), parse_bound(args.end, end=True)
    fmt = args.format or (args.output.rsplit(".", 1)[-1].lower() if args.output else "csv")
    if fmt not in ("csv", "xlsx", "json"):
        fmt = "csv"
    if fmt == "xlsx" and not args.output:
        print("dispatch: an xlsx report needs --output FILE", file=sys.stderr)
        return 2

    async def job(conn: Any) -> int:
        data = render(await build_report(conn, start, end), fmt)  # type: ignore[arg-type]
        if args.output:
            await asyncio.to_thread(Path(args.output).write_bytes, data)
            print(f"wrote {fmt} report {args.output}", file=sys.stderr)
        else:
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        return 0

    return _with_database(settings, job)


def cmd_bench_escalation(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.deadlines.bench import main as bench_main
    from dispatch.runtime import resolved_services

    with resolved_services(settings, redis=False) as resolved:
        assert resolved.database_url
        return asyncio.run(bench_main(resolved, assignments=args.assignments, spread=args.spread, lead_in=args.lead_in))


def cmd_bench(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.bench import run_bench

    if args.history or args.history_measure_only:
        from dispatch_tools.bench.history_cli import main_from_args

        return main_from_args(args, settings)

    desks = {}
    for item in args.desk_token or []:
        agency, _, token = item.partition("=")
        desks[agency] = token
    return run_bench(
        url=args.url,
        call_taker_token=args.call_taker_token,
        desk_tokens=desks,
        tickets=args.tickets,
        concurrency=args.concurrency,
        rate=args.rate,
        as_json=args.json,
        server_workers=args.server_workers or (os.cpu_count() or 1),
        resume_events=args.resume,
        fanout_clients=args.clients,
        duration=args.duration,
    )


def _with_database_and_redis(settings: Settings, job: Callable[[Any, Any], Coroutine[Any, Any, int]]) -> int:
    """Run ``job(conn, redis)`` on a migrated database and the configured Redis."""
    from dispatch import redis_client
    from dispatch.db import connect
    from dispatch.runtime import resolved_services
    from dispatch.server import prepare_database

    async def run(dsn: str, url: str) -> int:
        await prepare_database(dsn)
        conn = await connect(dsn)
        client = redis_client.connect(url, socket_timeout=30, socket_connect_timeout=5)
        try:
            return await job(conn, client)
        finally:
            await redis_client.close(client)
            await conn.close()

    with resolved_services(settings, attach_redis=True) as resolved:
        assert resolved.database_url and resolved.redis_url
        return asyncio.run(run(resolved.database_url, resolved.redis_url))


def cmd_webhook_add(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.webhooks import add_webhook

    async def job(conn: Any) -> int:
        hook, secret = await add_webhook(conn, args.agency, args.url, desk_code=args.desk)
        scope = f"desk {hook['desk']}" if hook["desk"] else f"agency {hook['agency']}"
        print(f"added webhook {hook['id']} for {scope}: {hook['url']} (events after cursor {hook['start_seq']})")
        print("签名密钥只显示这一次 / the signing secret is shown only this once:")
        print(secret)
        return 0

    return _with_database(settings, job)


def cmd_webhook_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.webhooks import list_webhooks

    async def job(conn: Any) -> int:
        print("id agency desk active delivered dead last_delivered_at last_error url")
        for hook in await list_webhooks(conn, agency=args.agency):
            last = hook["last_delivered_at"].isoformat(timespec="seconds") if hook["last_delivered_at"] else "-"
            error = (hook["last_error"] or "-").replace(" ", "_")[:60]
            print(
                hook["id"],
                hook["agency"],
                hook["desk"] or "-",
                "yes" if hook["active"] else "no",
                hook["delivered_count"],
                hook["dead_count"],
                last,
                error,
                hook["url"],
            )
        return 0

    return _with_database(settings, job)


def cmd_webhook_remove(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.webhooks import deactivate_webhook

    async def job(conn: Any) -> int:
        if not await deactivate_webhook(conn, args.id):
            print(f"dispatch: no active webhook {args.id}", file=sys.stderr)
            return 2
        print(f"removed webhook {args.id}: nothing more is delivered to it")
        return 0

    return _with_database(settings, job)


def cmd_deliveries_list(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.delivery.dead import list_dead

    async def job(conn: Any, client: Any) -> int:
        items = await list_dead(client, agency=args.agency, limit=args.limit)
        print("id webhook type cursor ticket attempts failed_at error")
        for item in items:
            print(
                item["id"],
                item["webhook_id"],
                item["type"] or "-",
                item["cursor"],
                item["ticket_id"] or "-",
                item["attempts"],
                item["failed_at"],
                item["error"],
            )
        print(f"{len(items)} dead letter(s)", file=sys.stderr)
        return 0

    return _with_database_and_redis(settings, job)


def cmd_deliveries_replay(args: argparse.Namespace, settings: Settings) -> int:
    import aiohttp

    from dispatch.delivery.dead import replay

    if bool(args.ids) == args.all:
        print("dispatch: name dead letters to replay, or give --all", file=sys.stderr)
        return 2

    async def job(conn: Any, client: Any) -> int:
        async with aiohttp.ClientSession() as http:
            results = await replay(
                client, conn, http, ids=args.ids or None, agency=args.agency, timeout_s=settings.delivery_timeout_s
            )
        for result in results:
            outcome = f"delivered ({result.status})" if result.delivered else f"failed: {result.error}"
            print(f"{result.id} {outcome}")
        failed = sum(not r.delivered for r in results)
        print(f"replayed {len(results) - failed} of {len(results)} dead letter(s)")
        return 1 if failed else 0

    return _with_database_and_redis(settings, job)


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0 to 65535")
    return port


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="dispatch", description="民生110 dispatch service")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the service: migrations, HTTP, websockets, background jobs")
    serve.add_argument("--host", help="listen address (default DISPATCH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="listen port (default DISPATCH_PORT or 8110)")
    serve.add_argument("--demo", action="store_true", help="create demo users and print their tokens")
    serve.add_argument("--workers", type=int, help="server processes sharing the port (default: the number of cores)")
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=cmd_migrate)

    user = sub.add_parser("user", help="manage users and their API tokens")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser("add", help="create a user; prints its API token alone on the last line")
    add.add_argument("name")
    add.add_argument("--role", required=True, help="call_taker, desk, supervisor, admin or partner")
    add.add_argument("--agency", help="agency code (required for desk users)")
    add.add_argument("--district", help="district code or name, e.g. yicheng or 驿城区")
    add.add_argument("--desk", help="desk code this user works at, e.g. police.city")
    add.add_argument("--expires-days", type=int, help="the token stops working after this many days")
    add.add_argument(
        "--password",
        action="store_true",
        help="also set a console password: asked twice on a terminal, else read as one line from stdin",
    )
    add.set_defaults(func=cmd_user_add)
    passwd = user_sub.add_parser("passwd", help="set or reset a user's console password (ends their sessions)")
    passwd.add_argument("name")
    passwd.set_defaults(func=cmd_user_passwd)
    revoke = user_sub.add_parser("revoke", help="revoke a user's token")
    revoke.add_argument("name")
    revoke.set_defaults(func=cmd_user_revoke)

    kb = sub.add_parser("kb", help="the knowledge base (知识库) consultations are answered from")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True, metavar="ACTION")
    kb_add = kb_sub.add_parser("add", help="create an entry; prints its id alone on the last line")
    kb_add.add_argument("--title", required=True, help="what callers ask, e.g. 居住证办理材料")
    kb_add.add_argument("--answer", required=True, help="the text the call-taker reads out")
    kb_add.add_argument("--category", help="category code, e.g. urban.utilities")
    kb_add.add_argument("--agency", help="agency code, e.g. police")
    kb_add.add_argument("--keywords", help="comma-separated words callers use, e.g. 居住证,暂住证")
    kb_add.add_argument("--valid-from", help="in force from this day, YYYY-MM-DD")
    kb_add.add_argument("--valid-to", help="in force until this day, included")
    kb_add.add_argument("--last-reviewed", help="when the content was last checked, YYYY-MM-DD")
    kb_add.add_argument("--note", help="why, kept with the version")
    kb_add.set_defaults(func=cmd_kb_add)
    kb_import = kb_sub.add_parser(
        "import",
        help="create or update entries from CSV or JSON, all or nothing (same title as an entry in force: update)",
    )
    kb_import.add_argument("file", nargs="?", help="a .csv or .json file, or - for stdin")
    kb_import.add_argument("--format", choices=("csv", "json"), help="default: from the file's extension, else json")
    kb_import.add_argument("--starter", action="store_true", help="the starter knowledge base shipped with the service")
    kb_import.add_argument("--note", help="why, kept with each new version")
    kb_import.set_defaults(func=cmd_kb_import)
    kb_export = kb_sub.add_parser("export", help="write the entries in force as CSV (with BOM, for Excel) or JSON")
    kb_export.add_argument("--format", choices=("csv", "json"), help="default: from --output's extension, else json")
    kb_export.add_argument("--output", help="file to write (default: standard output)")
    kb_export.add_argument("--all", action="store_true", help="retired entries too")
    kb_export.set_defaults(func=cmd_kb_export)

    classify = sub.add_parser("classify", help="classify JSON lines (text, address, district, id) from FILE or stdin")
    classify.add_argument("file", nargs="?", help="a JSON-lines file (default: standard input)")
    classify.set_defaults(func=cmd_classify)

    classifier = sub.add_parser("classifier", help="the request classifier")
    classifier_sub = classifier.add_subparsers(dest="classifier_command", required=True, metavar="ACTION")
    retrain = classifier_sub.add_parser("retrain", help="retrain with call-takers' corrections; report held-out scores")
    retrain.add_argument("--corpus", nargs="*", help="training corpus files (default: the shipped corpus)")
    retrain.add_argument("--dry-run", action="store_true", help="report the scores but do not store the model")
    retrain.set_defaults(func=cmd_classifier_retrain)

    desks = sub.add_parser("desks", help="desks and the districts they serve")
    desks_sub = desks.add_subparsers(dest="desks_command", required=True, metavar="ACTION")
    desks_list = desks_sub.add_parser("list", help="print the desks")
    desks_list.add_argument("--agency")
    desks_list.set_defaults(func=cmd_desks_list)
    desks_set = desks_sub.add_parser("set", help="create or change a desk (its districts are replaced)")
    desks_set.add_argument("code", help="e.g. police.yicheng")
    desks_set.add_argument("--agency", required=True)
    desks_set.add_argument("--name", required=True)
    desks_set.add_argument("--districts", help="comma-separated codes or names, e.g. 西平县,suiping")
    desks_set.add_argument("--city-level", action="store_true", help="the agency's fallback desk")
    desks_set.set_defaults(func=cmd_desks_set)

    gazetteer = sub.add_parser("gazetteer", help="places and intersections with coordinates (CSV)")
    gazetteer_sub = gazetteer.add_subparsers(dest="gazetteer_command", required=True, metavar="ACTION")
    gazetteer_import = gazetteer_sub.add_parser("import", help="load a CSV: name,kind,district,lat,lon,aliases")
    gazetteer_import.add_argument("file")
    gazetteer_import.add_argument("--replace", action="store_true", help="drop every place not in the file")
    gazetteer_import.set_defaults(func=cmd_gazetteer_import)
    gazetteer_list = gazetteer_sub.add_parser("list", help="print the places")
    gazetteer_list.set_defaults(func=cmd_gazetteer_list)
    gazetteer_export = gazetteer_sub.add_parser("export", help="write the gazetteer as CSV (default: stdout)")
    gazetteer_export.add_argument("file", nargs="?")
    gazetteer_export.set_defaults(func=cmd_gazetteer_export)

    purge = sub.add_parser("purge", help="anonymise callers of tickets closed longer ago than the retention period")
    purge.add_argument("--older-than", type=int, required=True, metavar="DAYS", help="retention period in days")
    purge.set_defaults(func=cmd_purge)

    desk = sub.add_parser("desk", help="terminal desk console: live assignments, acknowledge, start, resolve")
    desk.add_argument("--url", default="http://127.0.0.1:8110", help="the service's base URL")
    desk.add_argument("--token", required=True, help="a desk user's API token")
    desk.set_defaults(func=cmd_desk)

    close = sub.add_parser(
        "close-resolved", help="close resolved tickets that got no feedback within the grace period (回访期满)"
    )
    close.add_argument(
        "--days", type=_positive_days, help="grace period in days (default DISPATCH_FEEDBACK_GRACE_DAYS, 7)"
    )
    close.set_defaults(func=cmd_close_resolved)

    sla = sub.add_parser("sla", help="service levels: acknowledge and resolve deadlines")
    sla_sub = sla.add_subparsers(dest="sla_command", required=True, metavar="ACTION")
    sla_set = sla_sub.add_parser("set", help="set the deadlines of a priority, optionally per category and agency")
    sla_set.add_argument("--priority", required=True, choices=("P1", "P2", "P3", "P4"))
    sla_set.add_argument("--ack", type=int, required=True, help="seconds to acknowledge (签收)")
    sla_set.add_argument("--resolve", type=int, required=True, help="seconds to resolve (办结)")
    sla_set.add_argument("--category", help="refine for one category, e.g. police.violence")
    sla_set.add_argument("--agency", help="refine for one agency, e.g. police")
    sla_set.set_defaults(func=cmd_sla_set)
    sla_list = sla_sub.add_parser("list", help="print every service level")
    sla_list.set_defaults(func=cmd_sla_list)

    report = sub.add_parser("report", help="KPIs of a period per agency and district (CSV, XLSX or JSON)")
    report.add_argument("--from", dest="start", required=True, help="first day YYYY-MM-DD (Asia/Shanghai) or ISO time")
    report.add_argument("--to", dest="end", required=True, help="last day, included, or ISO time, excluded")
    report.add_argument(
        "--format", choices=("csv", "xlsx", "json"), help="default: from --output's extension, else csv"
    )
    report.add_argument("--output", help="file to write (default: standard output)")
    report.set_defaults(func=cmd_report)

    bench = sub.add_parser("bench-escalation", help="escalation lag with many open assignments (scratch database)")
    bench.add_argument("--assignments", type=int, default=100_000, help="open assignments (default 100000)")
    bench.add_argument("--spread", type=float, default=30.0, help="deadlines spread over this many seconds")
    bench.add_argument("--lead-in", type=float, help="seconds from seeding to the first deadline (default: by size)")
    bench.set_defaults(func=cmd_bench_escalation)

    load = sub.add_parser("bench", help="throughput and latency with real HTTP and websocket clients")
    load.add_argument("--url", help="a running server; without it, bench starts one on the configured database")
    load.add_argument("--call-taker-token", help="with --url: a call-taker token")
    load.add_argument("--desk-token", action="append", metavar="AGENCY=TOKEN", help="with --url: desk tokens")
    amount = load.add_mutually_exclusive_group()
    amount.add_argument("--tickets", type=_positive_int, default=2000, help="how many tickets to create (default 2000)")
    amount.add_argument(
        "--duration", type=_positive_float, metavar="SECONDS", help="instead: create tickets for this many seconds"
    )
    load.add_argument("--concurrency", type=_positive_int, default=32, help="create requests in flight")
    load.add_argument("--rate", type=_positive_float, help="offered rate in tickets/s instead of as fast as possible")
    load.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    load.add_argument(
        "--server-workers", type=_positive_int, help="workers of the server bench starts (default: cores)"
    )
    load.add_argument(
        "--clients",
        type=_positive_int,
        metavar="N",
        help="instead: hold N websockets and time one event reaching all",
    )
    load.add_argument(
        "--resume",
        type=_positive_int,
        metavar="EVENTS",
        help="instead: time a desk resuming after EVENTS missed events",
    )
    from dispatch_tools.bench.history_cli import add_history_arguments

    add_history_arguments(load)
    load.set_defaults(func=cmd_bench)
    webhook = sub.add_parser("webhook", help="agency systems that receive assignments by webhook (docs/agencies.md)")
    webhook_sub = webhook.add_subparsers(dest="webhook_command", required=True, metavar="ACTION")
    webhook_add = webhook_sub.add_parser(
        "add", help="register a webhook; prints its signing secret alone on the last line"
    )
    webhook_add.add_argument("--agency", required=True, help="agency code, e.g. health")
    webhook_add.add_argument("--url", required=True, help="where to POST, http:// or https://")
    webhook_add.add_argument("--desk", help="only that desk's assignments, e.g. health.city")
    webhook_add.set_defaults(func=cmd_webhook_add)
    webhook_list = webhook_sub.add_parser("list", help="every webhook with its delivery counts and last error")
    webhook_list.add_argument("--agency", help="only this agency's")
    webhook_list.set_defaults(func=cmd_webhook_list)
    webhook_remove = webhook_sub.add_parser("remove", help="stop delivering to a webhook")
    webhook_remove.add_argument("id", type=int)
    webhook_remove.set_defaults(func=cmd_webhook_remove)

    deliveries = sub.add_parser("deliveries", help="webhook deliveries that failed past the retry bound")
    deliveries_sub = deliveries.add_subparsers(dest="deliveries_command", required=True, metavar="ACTION")
    deliveries_list = deliveries_sub.add_parser("list", help="dead letters, oldest first")
    deliveries_list.add_argument("--agency", help="only this agency's")
    deliveries_list.add_argument("--limit", type=int, default=1000, help="at most this many (default 1000)")
    deliveries_list.set_defaults(func=cmd_deliveries_list)
    deliveries_replay = deliveries_sub.add_parser(
        "replay", help="send dead letters once more; exit 1 if one still fails"
    )
    deliveries_replay.add_argument("ids", nargs="*", metavar="ID", help="dead letters, e.g. health:1731400000000-0")
    deliveries_replay.add_argument("--all", action="store_true", help="every dead letter (of --agency, if given)")
    deliveries_replay.add_argument("--agency", help="with --all: only this agency's")
    deliveries_replay.set_defaults(func=cmd_deliveries_replay)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dispatch`` command."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        code: int = args.func(args, settings)
        return code
    except DispatchError as exc:
        print(f"dispatch: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
