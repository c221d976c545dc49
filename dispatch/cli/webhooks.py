"""``dispatch webhook`` and ``dispatch deliveries``: agency systems fed by webhook, and their dead letters."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from dispatch.cli.command import Subcommands, agency_code, positive_int, with_database, with_database_and_redis
from dispatch.runtime.settings import Settings


def cmd_webhook_add(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.webhooks import add_webhook

    async def job(conn: Any) -> int:
        hook, secret = await add_webhook(conn, args.agency, args.url, desk_code=args.desk)
        scope = f"desk {hook['desk']}" if hook["desk"] else f"agency {hook['agency']}"
        print(f"added webhook {hook['id']} for {scope}: {hook['url']} (events after cursor {hook['start_seq']})")
        print("签名密钥只显示这一次 / the signing secret is shown only this once:")
        print(secret)
        return 0

    return with_database(settings, job)


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

    return with_database(settings, job)


def cmd_webhook_remove(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.store.webhooks import deactivate_webhook

    async def job(conn: Any) -> int:
        if not await deactivate_webhook(conn, args.id):
            print(f"dispatch: no active webhook {args.id}", file=sys.stderr)
            return 2
        print(f"removed webhook {args.id}: nothing more is delivered to it")
        return 0

    return with_database(settings, job)


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

    return with_database_and_redis(settings, job)


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

    return with_database_and_redis(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-commands of this module to ``sub``."""
    webhook = sub.add_parser("webhook", help="agency systems that receive assignments by webhook (docs/agencies.md)")
    webhook_sub = webhook.add_subparsers(dest="webhook_command", required=True, metavar="ACTION")
    webhook_add = webhook_sub.add_parser(
        "add", help="register a webhook; prints its signing secret alone on the last line"
    )
    webhook_add.add_argument("--agency", required=True, type=agency_code, help="agency code, e.g. health")
    webhook_add.add_argument("--url", required=True, help="where to POST, http:// or https://")
    webhook_add.add_argument("--desk", help="only that desk's assignments, e.g. health.city")
    webhook_add.set_defaults(func=cmd_webhook_add)
    webhook_list = webhook_sub.add_parser("list", help="every webhook with its delivery counts and last error")
    webhook_list.add_argument("--agency", type=agency_code, help="only this agency's")
    webhook_list.set_defaults(func=cmd_webhook_list)
    webhook_remove = webhook_sub.add_parser("remove", help="stop delivering to a webhook")
    webhook_remove.add_argument("id", type=positive_int, help="the webhook's id, as `dispatch webhook list` prints it")
    webhook_remove.set_defaults(func=cmd_webhook_remove)

    deliveries = sub.add_parser("deliveries", help="webhook deliveries that failed past the retry bound")
    deliveries_sub = deliveries.add_subparsers(dest="deliveries_command", required=True, metavar="ACTION")
    deliveries_list = deliveries_sub.add_parser("list", help="dead letters, oldest first")
    deliveries_list.add_argument("--agency", type=agency_code, help="only this agency's")
    deliveries_list.add_argument("--limit", type=positive_int, default=1000, help="at most this many (default 1000)")
    deliveries_list.set_defaults(func=cmd_deliveries_list)
    deliveries_replay = deliveries_sub.add_parser(
        "replay", help="send dead letters once more; exit 1 if one still fails"
    )
    deliveries_replay.add_argument("ids", nargs="*", metavar="ID", help="dead letters, e.g. health:1731400000000-0")
    deliveries_replay.add_argument("--all", action="store_true", help="every dead letter (of --agency, if given)")
    deliveries_replay.add_argument("--agency", type=agency_code, help="with --all: only this agency's")
    deliveries_replay.set_defaults(func=cmd_deliveries_replay)
