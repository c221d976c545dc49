"""The service on a Redis Cluster of three primaries.

The real-time tests and the webhook delivery tests run unchanged against it, each suite in a
pytest of its own with ``DISPATCH_TEST_REDIS_URL`` naming the cluster (a suite at a time: a
Cluster has one database, and each suite's server publishes its own sequence numbers).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path

import pytest
from redis.asyncio.cluster import RedisCluster

import agencies
from dispatch.access.ratelimit import Limiter, limiter_storage, rule
from dispatch.delivery.streams import dead_stream
from dispatch.errors import RateLimited
from dispatch.pipeline.bus import ALL_STREAM, agency_stream
from dispatch.runtime import redis_client
from tests.cluster.servers import ClusterInfo

ROOT = Path(__file__).resolve().parents[2]
SUITE_TIMEOUT_S = 100


async def run_suite(redis_url: str, database_url: str, workdir: Path, *paths: str) -> tuple[int | None, str]:
    """Run pytest on ``paths`` against ``redis_url``: its exit code (None: stopped after
    ``SUITE_TIMEOUT_S``) and the end of its output."""
    env = {**os.environ, "DISPATCH_TEST_REDIS_URL": redis_url, "DISPATCH_TEST_DATABASE_URL": database_url}
    log = workdir / "pytest.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", *paths),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,  # its own process group: the servers it starts go with it
        )
    code: int | None = None
    try:
        async with asyncio.timeout(SUITE_TIMEOUT_S):
            code = await process.wait()
    except TimeoutError:
        pass
    finally:
        if process.returncode is None:
            os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
    return code, log.read_text(errors="replace")[-6000:]


def assert_all_passed(code: int | None, output: str) -> None:
    summary = output.strip().splitlines()[-1] if output.strip() else ""
    assert code is not None, f"stopped after {SUITE_TIMEOUT_S} s:\n{output}"
    assert code == 0, output
    assert re.search(r"\b\d+ passed\b", summary), output
    assert not re.search(r"skipped|failed|error|deselected", summary), output


async def test_an_agencys_streams_share_a_slot_and_the_bus_spans_the_nodes(cluster: ClusterInfo) -> None:
    client = redis_client.connect(cluster.url)
    assert isinstance(client, RedisCluster)
    try:
        await client.initialize()
        for code in agencies.AGENCIES:
            # The dead-lettering MULTI names both keys: it needs them on one slot.
            assert client.keyslot(agency_stream(code)) == client.keyslot(dead_stream(code))
        keys = [ALL_STREAM, *(agency_stream(code) for code in agencies.AGENCIES)]
        nodes = {client.get_node_from_key(key).port for key in keys}
        # Publishing really crosses nodes in the suites below, and reading is from more than one.
        assert len(nodes) >= 2
        assert await redis_client.ping(client)
    finally:
        await redis_client.close(client)


async def test_rate_limits_count_on_the_cluster(cluster: ClusterInfo) -> None:
    limiter = Limiter(limiter_storage(cluster.url))
    try:
        two = rule("cluster-test", "2/minute")
        await limiter.hit(two, "198.51.100.7")
        await limiter.hit(two, "198.51.100.7")
        # The limiter lets requests through when Redis fails: a refusal proves it counted there.
        with pytest.raises(RateLimited):
            await limiter.hit(two, "198.51.100.7")
    finally:
        await limiter.close()


@pytest.mark.slow
@pytest.mark.timeout(SUITE_TIMEOUT_S + 20)
async def test_realtime_tests_pass_on_the_cluster(cluster: ClusterInfo, server_dsn: str, tmp_path: Path) -> None:
    assert_all_passed(*await run_suite(cluster.url, server_dsn, tmp_path, "tests/realtime"))


@pytest.mark.slow
@pytest.mark.timeout(SUITE_TIMEOUT_S + 20)
async def test_webhook_delivery_tests_pass_on_the_cluster(
    cluster: ClusterInfo, server_dsn: str, tmp_path: Path
) -> None:
    # Consumer groups, XAUTOCLAIM, and the dead-lettering MULTI over two keys of one slot.
    assert_all_passed(*await run_suite(cluster.url, server_dsn, tmp_path, "tests/agencies/test_delivery.py"))


@pytest.mark.slow
@pytest.mark.timeout(SUITE_TIMEOUT_S + 20)
async def test_retention_tests_pass_on_the_cluster(cluster: ClusterInfo, server_dsn: str, tmp_path: Path) -> None:
    # The purge trims the all-stream, every agency's stream and dead letters: keys on several nodes.
    assert_all_passed(*await run_suite(cluster.url, server_dsn, tmp_path, "tests/security/test_purge_free_text.py"))
