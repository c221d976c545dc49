"""``dispatch kb add|import|export``: the real command in a subprocess, CSV and JSON, all or
nothing, and the starter knowledge base."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import asyncpg
import pytest

from tests.cli_helpers import DISPATCH, clean_env, run_dispatch


@pytest.fixture
def env(database_url: str, redis_url: str, clean: None) -> dict[str, str]:
    return clean_env(DISPATCH_DATABASE_URL=database_url, DISPATCH_REDIS_URL=redis_url)


async def test_kb_add_prints_the_new_entrys_id_last(env: dict[str, str], pool: asyncpg.Pool) -> None:
    result = run_dispatch(
        "kb", "add", "--title", "公积金提取", "--answer", "带身份证到公积金中心", "--keywords", "公积金，提取",
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    entry_id = int(result.stdout.strip().splitlines()[-1])
    row = await pool.fetchrow("SELECT title, keywords, version FROM kb_entries WHERE id = $1", entry_id)
    assert (row["title"], row["keywords"], row["version"]) == ("公积金提取", ["公积金", "提取"], 1)


def test_kb_add_refuses_an_unknown_category(env: dict[str, str]) -> None:
    result = run_dispatch("kb", "add", "--title", "x", "--answer", "y", "--category", "no.such", env=env)
    assert result.returncode == 2 and "category" in result.stderr


async def test_csv_import_then_export_round_trips(env: dict[str, str], tmp_path: Path, pool: asyncpg.Pool) -> None:
    source = tmp_path / "kb.csv"
    source.write_text(
        "\ufefftitle,answer,category,agency,keywords,valid_from,valid_to,last_reviewed\r\n"
        "停电查询,拨打95598查询,urban.utilities,urban,停电;没电,,,2026-11-01\r\n"
        "护照办理,到出入境大厅办理,,police,护照、出入境,2026-01-01,,\r\n",
        encoding="utf-8",
    )
    result = run_dispatch("kb", "import", str(source), env=env)
    assert result.returncode == 0, result.stderr
    assert "2 created" in result.stdout
    again = run_dispatch("kb", "import", str(source), env=env)
    assert "2 unchanged" in again.stdout
    assert await pool.fetchval("SELECT count(*) FROM kb_versions") == 2  # nothing changed, no version
    out = tmp_path / "out.csv"
    assert run_dispatch("kb", "export", "--output", str(out), env=env).returncode == 0
    raw = out.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [(r["title"], r["keywords"], r["version"]) for r in rows] == [
        ("停电查询", "停电;没电", "1"),
        ("护照办理", "护照;出入境", "1"),
    ]


async def test_json_import_updates_by_title_with_a_new_version(
    env: dict[str, str], tmp_path: Path, pool: asyncpg.Pool
) -> None:
    first = [{"title": "低保申请", "answer": "向乡镇街道申请", "keywords": ["低保"]}]
    second = [{"title": "低保申请", "answer": "向户籍地或居住地乡镇街道申请", "keywords": ["低保"]}]
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(first, ensure_ascii=False), encoding="utf-8")
    assert run_dispatch("kb", "import", str(path), env=env).returncode == 0
    path.write_text(json.dumps({"items": second}, ensure_ascii=False), encoding="utf-8")
    result = run_dispatch("kb", "import", str(path), env=env)
    assert "1 updated" in result.stdout
    versions = await pool.fetch("SELECT version, answer FROM kb_versions ORDER BY version")
    assert [(v["version"], v["answer"]) for v in versions] == [
        (1, "向乡镇街道申请"),
        (2, "向户籍地或居住地乡镇街道申请"),
    ]
    exported = subprocess.run(
        [*DISPATCH, "kb", "export", "--format", "json"], env=env, capture_output=True, timeout=60, check=True
    )
    items = json.loads(exported.stdout)["items"]
    assert [(i["title"], i["version"]) for i in items] == [("低保申请", 2)]


async def test_a_bad_row_imports_nothing_and_names_the_row(
    env: dict[str, str], tmp_path: Path, pool: asyncpg.Pool
) -> None:
    path = tmp_path / "kb.json"
    rows = [{"title": "好的", "answer": "可以"}, {"title": "坏的", "answer": ""}]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    result = run_dispatch("kb", "import", str(path), env=env)
    assert result.returncode == 2 and "row 2" in result.stderr and "answer" in result.stderr
    assert await pool.fetchval("SELECT count(*) FROM kb_entries") == 0


async def test_the_starter_knowledge_base_imports_once(env: dict[str, str], pool: asyncpg.Pool) -> None:
    assert run_dispatch("kb", "import", "--starter", env=env).returncode == 0
    count = await pool.fetchval("SELECT count(*) FROM kb_entries")
    assert count >= 30
    assert run_dispatch("kb", "import", "--starter", env=env).returncode == 0
    assert await pool.fetchval("SELECT count(*) FROM kb_versions") == count
    answers = await pool.fetch("SELECT answer FROM kb_entries")
    assert all("演示用通用指引" in a["answer"] for a in answers)
    titles = {r["title"] for r in await pool.fetch("SELECT title FROM kb_entries")}
    assert {"居住证办理材料", "住房公积金提取", "驾驶证到期换证"} <= titles


async def test_the_demo_setup_loads_the_starter_knowledge_base(
    database_url: str, clean: None, pool: asyncpg.Pool
) -> None:
    from dispatch.runtime.demo import setup_demo

    accounts = await setup_demo(database_url)
    assert {a.role for a in accounts} >= {"call_taker", "supervisor", "admin"}
    assert await pool.fetchval("SELECT count(*) FROM kb_entries WHERE retired_at IS NULL") >= 30
