"""Learning from corrections: overrides are recorded, `dispatch classifier retrain` learns
them, and every server picks the new model up without a restart."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from pathlib import Path

import aiohttp
import asyncpg

from routing.training import CORPUS_PATH
from tests.api_helpers import call, ticket_body
from tests.cli_helpers import clean_env, run_dispatch
from tests.conftest import UserFactory

TEXT = "楼道里那个铁皮箱子一直嘀嘀嘀地响还闪红灯"


def _small_corpus(path: Path, per_category: int = 25) -> Path:
    kept: dict[str, int] = defaultdict(int)
    with CORPUS_PATH.open(encoding="utf-8") as source, path.open("w", encoding="utf-8") as out:
        for line in source:
            example = json.loads(line)
            if kept[example["category"]] < per_category:
                kept[example["category"]] += 1
                out.write(line)
    return path


async def test_corrections_are_recorded_and_retraining_changes_the_service_without_restart(
    http: aiohttp.ClientSession,
    make_user: UserFactory,
    pool: asyncpg.Pool,
    database_url: str,
    redis_url: str,
    tmp_path: Path,
) -> None:
    _, taker = await make_user("call_taker")
    status, proposal = await call(http, "POST", "/api/v1/classify", taker, {"text": TEXT})
    assert status == 200
    corrected = "emergency.hazard" if proposal["category"] != "emergency.hazard" else "urban.facility"
    lead = corrected.split(".")[0]
    for i in range(8):
        body = ticket_body(description=TEXT + "。" * i, category=corrected, priority="P3", agencies=[lead])
        status, ticket = await call(http, "POST", "/api/v1/tickets", taker, body)
        assert status == 201
        assert "category" in ticket["classification"]["overridden"]
        assert ticket["classification"]["proposed"]["category"] == proposal["category"]

    corpus = _small_corpus(tmp_path / "small.jsonl")
    env = clean_env(DISPATCH_DATABASE_URL=database_url, DISPATCH_REDIS_URL=redis_url)
    result = run_dispatch("classifier", "retrain", "--corpus", str(corpus), env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "corrections used: 8" in result.stdout
    assert "category_accuracy" in result.stdout and "stored as model" in result.stdout
    assert await pool.fetchval("SELECT count(*) FROM classifier_models") == 1

    for _ in range(100):  # the running server loads it by itself within seconds
        _, now = await call(http, "POST", "/api/v1/classify", taker, {"text": TEXT})
        if now["category"] == corrected:
            break
        await asyncio.sleep(0.2)
    assert now["category"] == corrected
