"""Fixtures of the Redis Cluster and Sentinel tests: the deployments themselves, started for
the module that uses them and stopped (even after a failure) when it is done."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cluster.servers import ClusterInfo, SentinelInfo, have_redis_server, redis_cluster, redis_sentinel


@pytest.fixture(scope="module")
def workdir() -> Iterator[Path]:
    # Short and outside pytest's tree: the servers' files live here until they have stopped.
    path = Path(tempfile.mkdtemp(prefix="dispatch-redis-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster(workdir: Path) -> Iterator[ClusterInfo]:
    """A three-primary Redis Cluster on loopback ports."""
    if not have_redis_server():
        pytest.skip("needs redis-server (Debian: redis-server)")
    with redis_cluster(workdir / "cluster") as info:
        yield info


@pytest.fixture(scope="module")
def sentinel(workdir: Path) -> Iterator[SentinelInfo]:
    """A Redis primary and a Sentinel watching it, both with passwords, on loopback ports."""
    if not have_redis_server():
        pytest.skip("needs redis-server (Debian: redis-server)")
    with redis_sentinel(workdir / "sentinel") as info:
        yield info
