"""`dispatch classify`: JSON lines in, the contract's JSON lines out (DESIGN.md)."""

import json
import subprocess
import sys

from tests.cli_helpers import clean_env


def test_classify_reads_json_lines_and_writes_the_contract() -> None:
    lines = [
        {"id": "a", "text": "超市门口两个人打架，有人头破血流", "address": "驿城区解放路"},
        {"id": "b", "text": "楼道里一股很浓的煤气味", "district": "西平县"},
        {"text": "路灯不亮了"},
    ]
    result = subprocess.run(
        [sys.executable, "-m", "dispatch", "classify"],
        input="\n".join(json.dumps(line, ensure_ascii=False) for line in lines) + "\n\n",
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", None]
    for o in out:
        assert set(o) >= {"id", "category", "agency", "agencies", "priority", "confidence", "reasons"}
        assert o["agencies"][0] == o["agency"] and o["priority"] in ("P1", "P2", "P3", "P4")
    assert out[0]["category"] == "police.violence" and "health" in out[0]["agencies"]
    assert out[1]["agency"] == "emergency"


def test_classify_reports_a_bad_line_and_goes_on() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dispatch", "classify"],
        input='{"text": "路灯不亮"}\nnot json\n{"no_text": 1}\n',
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert "category" in out[0] and out[1]["line"] == 2 and out[2]["line"] == 3
