"""What the package needs at run time: the service classifies with numpy alone; retraining's
scikit-learn and scipy are the optional extra ``.[train]``, and without them retraining says so
in one line before anything starts."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

from tests.cli_helpers import clean_env

ROOT = Path(__file__).parent.parent
MISSING = "retraining needs scikit-learn and scipy, which are not installed: pip install -e '.[train]'"
WITHOUT_TRAIN = "import sys; sys.modules['sklearn'] = sys.modules['scipy'] = None\n"


def _python(code: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_TRAIN + code],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=cwd,
    )


def test_training_libraries_are_an_optional_extra_and_unused_ones_are_gone() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    runtime = " ".join(project["dependencies"])
    for name in ("scikit-learn", "scipy", "jieba"):
        assert name not in runtime
    assert {"scikit-learn>=1.5", "scipy>=1.11"} <= set(project["optional-dependencies"]["train"])
    assert "minsheng-dispatch[train]" in project["optional-dependencies"]["test"]  # the suite retrains


def test_the_service_loads_and_classifies_without_the_training_extra() -> None:
    result = _python(
        "import routing, dispatch.runtime.app, dispatch.cli\n"
        "from dispatch.classifier import current_model\n"
        "decision = routing.classify('路灯不亮了，晚上很黑', model=current_model())\n"
        "print(decision.agency)\n"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "urban"


def test_retraining_without_the_extra_is_refused_in_one_line_before_anything_starts(tmp_path: Path) -> None:
    env = clean_env(DISPATCH_DATA_DIR=str(tmp_path / "var"))
    result = _python(
        "from dispatch.cli import main\nraise SystemExit(main(['classifier', 'retrain', '--dry-run']))", env, tmp_path
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"dispatch: {MISSING}"]
    assert not (tmp_path / "var").exists()  # no embedded PostgreSQL was started


def test_the_training_tool_without_the_extra_says_what_to_install() -> None:
    result = _python("import runpy\nrunpy.run_module('routing.training', run_name='__main__')")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"python -m routing.training: {MISSING}"]
