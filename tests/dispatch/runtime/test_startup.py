"""``dispatch serve`` refuses to start, in one ``dispatch:`` line and a non-zero exit, when it
cannot run as asked: a port another server holds, a database it cannot reach."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from tests.cli_helpers import clean_env, run_dispatch
from tests.conftest import free_port


@pytest.fixture(params=[True, False], ids=["held with SO_REUSEPORT", "held without"])
def held_port(request: pytest.FixtureRequest) -> Iterator[int]:
    """A port another server listens on: as the workers of a ``dispatch serve`` hold theirs
    (SO_REUSEPORT), or as any other program does."""
    port = free_port()
    with socket.socket() as listener:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if request.param:
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        listener.bind(("127.0.0.1", port))
        listener.listen()
        yield port


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("dispatch: "), stderr
    return lines[0]


@pytest.mark.parametrize("workers", ["1", "2"])
def test_a_second_server_on_a_held_port_is_refused_in_one_line(
    held_port: int, workers: str, database_url: str, redis_url: str
) -> None:
    env = clean_env(DISPATCH_DATABASE_URL=database_url, DISPATCH_REDIS_URL=redis_url)
    result = run_dispatch("serve", "--host", "127.0.0.1", "--port", str(held_port), "--workers", workers, env=env)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert f"port {held_port}" in line and "in use" in line
    assert "Traceback" not in result.stdout


def test_a_server_whose_database_cannot_be_reached_is_refused_in_one_line(redis_url: str) -> None:
    unreachable = f"postgresql://dispatch:secret@127.0.0.1:{free_port()}/dispatch"
    env = clean_env(DISPATCH_DATABASE_URL=unreachable, DISPATCH_REDIS_URL=redis_url)
    result = run_dispatch("serve", "--port", str(free_port()), "--workers", "1", env=env)
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert "cannot connect to PostgreSQL" in line and "secret" not in line


def test_a_listen_address_that_does_not_resolve_is_refused_in_one_line(database_url: str, redis_url: str) -> None:
    env = clean_env(DISPATCH_DATABASE_URL=database_url, DISPATCH_REDIS_URL=redis_url)
    result = run_dispatch("serve", "--host", "no-such-host.invalid", "--port", str(free_port()), env=env)
    assert result.returncode == 2
    assert "no-such-host.invalid" in _one_line(result.stderr)
