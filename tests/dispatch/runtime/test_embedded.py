"""A fresh user's path: nothing configured, the service starts its own PostgreSQL and Valkey."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.cli_helpers import DISPATCH, clean_env, run_dispatch
from tests.conftest import free_port

pytestmark = [pytest.mark.embedded, pytest.mark.slow]


def _get(url: str, token: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _wait_ready(base: str, proc: subprocess.Popen[str], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"serve exited early:\n{log.read_text()}")
        try:
            if _get(base + "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("serve did not become ready")


def _start(env: dict[str, str], cwd: Path) -> subprocess.Popen[str]:
    # Logs go to a file: a pipe nobody reads would block the server once it fills.
    with (cwd / "serve.log").open("a") as log:
        return subprocess.Popen([*DISPATCH, "serve"], env=env, cwd=cwd, stdout=log, stderr=log, text=True)


def _stop(proc: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)
    return time.monotonic() - started


def test_embedded_default_starts_persists_and_refuses_a_second_owner(tmp_path: Path) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = clean_env(DISPATCH_PORT=str(port))  # no database or Redis configured, data dir ./var
    proc = _start(env, tmp_path)
    try:
        _wait_ready(base, proc, tmp_path / "serve.log")
        # A second command on the same data dir shares the running PostgreSQL.
        added = run_dispatch("user", "add", "张伟", "--role", "call_taker", env=env, cwd=tmp_path)
        assert added.returncode == 0, added.stderr
        token = added.stdout.strip().splitlines()[-1]
        assert _get(base + "/api/v1/me", token)[0] == 200
        # A tool that needs Redis too uses the running server's Valkey rather than being refused.
        purged = run_dispatch("purge", "--older-than", "180", env=env, cwd=tmp_path)
        assert purged.returncode == 0, purged.stderr
        assert purged.stdout.strip().splitlines()[-1] == "removed 0 event(s) older than 180 days from the Redis streams"
        # A second server on the same data dir is refused with a clear message.
        second = run_dispatch("serve", "--port", str(free_port()), env=env, cwd=tmp_path, timeout=60)
        assert second.returncode == 2
        assert "in use" in second.stderr
        assert _get(base + "/readyz")[0] == 200  # and the first one is unharmed
    finally:
        stop_seconds = _stop(proc)
    assert proc.returncode == 0
    assert stop_seconds < 15
    assert not (tmp_path / "var" / "postgres" / "postmaster.pid").exists()

    # After a restart, what was created before is still there.
    proc = _start(env, tmp_path)
    try:
        _wait_ready(base, proc, tmp_path / "serve.log")
        status, body = _get(base + "/api/v1/me", token)
        assert status == 200 and body["name"] == "张伟"
    finally:
        _stop(proc)
    assert proc.returncode == 0
