"""The ``dispatch`` command: one entry point, one module per command group.

Errors the user can act on print one line on stderr and exit 2; nothing is half-done.
"""

from __future__ import annotations

import argparse
import sys

from dispatch.cli import archive, classifier, desks, gazetteer, kb, report, serve, sla, tools, upkeep, users, webhooks
from dispatch.errors import DispatchError
from dispatch.runtime.logconfig import configure_logging
from dispatch.runtime.settings import load_settings

# In the order ``dispatch --help`` lists them.
GROUPS = (serve, users, kb, classifier, desks, gazetteer, upkeep, archive, sla, report, webhooks, tools)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = argparse.ArgumentParser(prog="dispatch", description="民生110 dispatch service")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(sub)
    for command in _leaves(parser):
        command.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            default=argparse.SUPPRESS,  # so that a command's own default leaves the top-level one alone
            help="also log what happens (embedded servers, migrations) on stderr",
        )
    return parser


def _leaves(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    """The parser and every (sub-)command parser under it."""
    found = [parser]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in dict.fromkeys(action.choices.values()):
                found += _leaves(child)
    return found


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``dispatch`` command."""
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        # A command prints what it did, not log lines (``embedded.postgres.ready`` before every
        # answer); its log appears with --verbose, or when DISPATCH_LOG_LEVEL asks for it. A
        # server's log is its output.
        logs = (
            getattr(args, "logs", False) or getattr(args, "verbose", False) or "log_level" in settings.model_fields_set
        )
        configure_logging(settings.log_level if logs else "warning", settings.log_format)
        code: int = args.func(args, settings)
        return code
    except DispatchError as exc:
        print(f"dispatch: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
