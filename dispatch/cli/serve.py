"""``dispatch serve`` and ``dispatch migrate``: run the service, or only bring its database up to date."""

from __future__ import annotations

import argparse
import asyncio
import os
from typing import Any

from dispatch.cli.command import Subcommands, positive_int
from dispatch.runtime.settings import Settings, load_settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.runtime.server import serve

    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port is not None:
        overrides["port"] = args.port
    workers = args.workers if args.workers is not None else (os.cpu_count() or 1)
    return serve(
        load_settings(**overrides) if overrides else settings,
        demo=args.demo,
        workers=workers,
        reuse_port=args.reuse_port,
    )


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.runtime.db import connect
    from dispatch.runtime.migrator import migrate
    from dispatch.runtime.services import resolved_services
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


def _port(value: str) -> int:
    port = int(value)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError("a port is 0 to 65535")
    return port


def register(sub: Subcommands) -> None:
    """Add the sub-commands of this module to ``sub``."""
    serve = sub.add_parser("serve", help="run the service: migrations, HTTP, websockets, background jobs")
    serve.add_argument("--host", help="listen address (default DISPATCH_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="listen port (default DISPATCH_PORT or 8110)")
    serve.add_argument(
        "--demo",
        action="store_true",
        help="create demo users (every role, a partner key included) and print their tokens",
    )
    serve.add_argument(
        "--workers", type=positive_int, help="server processes sharing the port (default: the number of cores)"
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    serve.set_defaults(func=cmd_serve, logs=True)  # a server's log is part of its output

    migrate = sub.add_parser("migrate", help="apply pending database migrations")
    migrate.set_defaults(func=cmd_migrate)
