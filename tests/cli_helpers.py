"""Run the real ``dispatch`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

DISPATCH = [sys.executable, "-m", "dispatch"]


def clean_env(**values: str | None) -> dict[str, str]:
    """The environment without any DISPATCH_* variable, plus ``values`` (None drops a key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCH_")}
    env["DISPATCH_LOG_FORMAT"] = "json"
    for key, value in values.items():
        if value is not None:
            env[key] = value
    return env


def run_dispatch(
    *args: str, env: dict[str, str], cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``dispatch ARGS`` to completion and capture its output."""
    return subprocess.run(
        [*DISPATCH, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
