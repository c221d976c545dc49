"""How the ``dispatch`` command behaves for every command: help for each command and argument,
bad arguments refused before any server starts, and output without log lines unless asked."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch.cli import build_parser
from tests.cli_helpers import clean_env, run_dispatch


def _parsers(parser: argparse.ArgumentParser, path: str = "dispatch") -> Iterator[tuple[str, argparse.ArgumentParser]]:
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for name, child in action.choices.items():
                assert helps.get(name), f"{path} {name} has no help line"
                yield from _parsers(child, f"{path} {name}")


def test_every_command_and_every_argument_has_help() -> None:
    missing = []
    for path, parser in _parsers(build_parser()):
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction | argparse._SubParsersAction):
                continue
            if action.help is argparse.SUPPRESS:
                continue  # internal: the supervisor's own flag for its workers
            if not action.help:
                missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []


def test_an_unknown_role_is_refused_before_postgresql_starts(tmp_path: Path) -> None:
    env = clean_env(DISPATCH_DATA_DIR=str(tmp_path / "var"))
    result = run_dispatch("user", "add", "someone", "--role", "nonsense", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "nonsense" in result.stderr and "call_taker" in result.stderr
    assert not (tmp_path / "var").exists()  # no embedded server was started


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["user", "add", "d1", "--role", "desk"], "needs --agency"),
        (["user", "add", "d1", "--role", "desk", "--agency", "fire"], "unknown agency 'fire'"),
        (["user", "add", "c1", "--role", "call_taker", "--district", "火星区"], "unknown district '火星区'"),
        (["user", "add", "c1", "--role", "call_taker", "--expires-days", "0"], "--expires-days"),
        (["sla", "set", "--priority", "P1", "--ack", "0", "--resolve", "60"], "--ack"),
        (["sla", "set", "--priority", "P1", "--ack", "60", "--resolve", "60", "--agency", "fire"], "unknown agency"),
        (["webhook", "add", "--agency", "fire", "--url", "https://x.example/hook"], "unknown agency"),
        (["purge", "--older-than", "-1"], "--older-than"),
        (["serve", "--workers", "0"], "--workers"),
    ],
)
def test_bad_arguments_are_refused_before_any_server_starts(tmp_path: Path, args: list[str], words: str) -> None:
    env = clean_env(DISPATCH_DATA_DIR=str(tmp_path / "var"))
    result = run_dispatch(*args, env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr
    assert not (tmp_path / "var").exists()


@pytest.mark.embedded
@pytest.mark.slow
def test_a_command_prints_its_output_and_no_log_lines_unless_asked(embedded_dir: Path, tmp_path: Path) -> None:
    # An embedded PostgreSQL, which logs its start; outside pytest's tree, which its user may not read.
    env = clean_env(DISPATCH_DATA_DIR=str(embedded_dir / "cli-output"))
    quiet = run_dispatch("sla", "list", env=env, cwd=tmp_path, timeout=180)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert quiet.stdout.splitlines()[0].startswith("priority category agency")
    verbose = run_dispatch("sla", "list", "--verbose", env=env, cwd=tmp_path, timeout=180)
    assert verbose.returncode == 0 and verbose.stdout == quiet.stdout
    assert "embedded.postgres.ready" in verbose.stderr  # the log, on stderr only
