"""``dispatch classify`` and ``dispatch classifier``: classify JSON lines, retrain the model."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any

from dispatch.cli.command import Subcommands, with_database
from dispatch.errors import DispatchError
from dispatch.runtime.settings import Settings

if TYPE_CHECKING:
    import routing


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
    from dispatch.runtime.db import connect
    from dispatch.store.gazetteer import load_gazetteer

    conn = await connect(dsn)
    try:
        await IN_SERVICE.refresh(conn)
        return await load_gazetteer(conn)
    finally:
        await conn.close()


def cmd_classifier_retrain(args: argparse.Namespace, settings: Settings) -> int:
    from dispatch.classifier import retrain

    try:  # before any server starts: scikit-learn is the optional extra '.[train]'
        import routing.training  # noqa: F401
    except ModuleNotFoundError as exc:
        raise DispatchError(str(exc)) from None

    async def job(conn: Any) -> int:
        result = await retrain(conn, base_corpus=args.corpus or None, store=not args.dry_run)
        print(f"corrections used: {result['corrections']}")
        for name in result["after"]:
            print(f"{name:<20} before {result['before'][name]:.4f}  after {result['after'][name]:.4f}")
        if result["model_id"]:
            print(f"stored as model {result['model_id']}: every server picks it up within seconds")
        return 0

    return with_database(settings, job)


def register(sub: Subcommands) -> None:
    """Add the sub-commands of this module to ``sub``."""
    classify = sub.add_parser("classify", help="classify JSON lines (text, address, district, id) from FILE or stdin")
    classify.add_argument("file", nargs="?", help="a JSON-lines file (default: standard input)")
    classify.set_defaults(func=cmd_classify)

    classifier = sub.add_parser("classifier", help="the request classifier")
    classifier_sub = classifier.add_subparsers(dest="classifier_command", required=True, metavar="ACTION")
    retrain = classifier_sub.add_parser("retrain", help="retrain with call-takers' corrections; report held-out scores")
    retrain.add_argument("--corpus", nargs="*", help="training corpus files (default: the shipped corpus)")
    retrain.add_argument("--dry-run", action="store_true", help="report the scores but do not store the model")
    retrain.set_defaults(func=cmd_classifier_retrain)
