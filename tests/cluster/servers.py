"""Real Redis deployments for the tests: a three-primary Redis Cluster and a primary watched by
a Sentinel, on loopback ports, from the system's ``redis-server`` and ``redis-cli``."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis

REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"
REDIS_CLI = shutil.which("redis-cli") or "/usr/bin/redis-cli"
START_TIMEOUT_S = 20.0


def have_redis_server() -> bool:
    return Path(REDIS_SERVER).exists()


def free_ports(count: int) -> list[int]:
    """``count`` distinct free loopback ports (held together while they are picked)."""
    with contextlib.ExitStack() as stack:
        socks = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in socks:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in socks]


class Processes:
    """``redis-server`` processes of one test; :meth:`stop_all` ends every one of them."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.started: list[tuple[subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen([REDIS_SERVER, *args], stdout=out, stderr=subprocess.STDOUT, cwd=self.workdir)
        self.started.append((process, log))
        return process

    def wait_answering(self, process: subprocess.Popen[bytes], port: int, password: str | None = None) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server on port {port} exited: {self.logs()}")
            try:
                with redis.Redis(port=port, password=password, socket_timeout=1) as client:
                    client.ping()
                    return
            except redis.exceptions.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server on port {port} does not answer: {self.logs()}") from None
                time.sleep(0.05)

    def logs(self) -> str:
        return " | ".join(log.read_text(errors="replace")[-600:] for _, log in self.started if log.exists())

    def stop_all(self) -> None:
        for process, _ in self.started:
            if process.poll() is None:
                process.terminate()
        for process, _ in self.started:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@dataclass(frozen=True)
class ClusterInfo:
    url: str
    ports: list[int]


@contextlib.contextmanager
def redis_cluster(workdir: Path) -> Iterator[ClusterInfo]:
    """A Redis Cluster of three primaries (no replicas) on loopback, its state ``ok``."""
    workdir.mkdir(parents=True, exist_ok=True)
    processes = Processes(workdir)
    try:
        ports = free_ports(6)
        nodes = list(zip(ports[:3], ports[3:], strict=True))  # (client port, cluster bus port)
        for port, bus in nodes:
            process = processes.start(
                f"node-{port}",
                *("--port", str(port), "--cluster-port", str(bus), "--bind", "127.0.0.1"),
                *("--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf"),
                *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
            )
            processes.wait_answering(process, port)
        addresses = [f"127.0.0.1:{port}" for port, _ in nodes]
        created = subprocess.run(
            [REDIS_CLI, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if created.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {created.stdout[-2000:]} {created.stderr[-2000:]}")
        deadline = time.monotonic() + START_TIMEOUT_S
        for port, _ in nodes:
            with redis.Redis(port=port, socket_timeout=1, decode_responses=True) as client:
                while client.cluster("info")["cluster_state"] != "ok":
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"the cluster is not ok on port {port}: {processes.logs()}")
                    time.sleep(0.05)
        yield ClusterInfo(
            url="redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port, _ in nodes),
            ports=[port for port, _ in nodes],
        )
    finally:
        processes.stop_all()


@dataclass(frozen=True)
class SentinelInfo:
    url: str
    primary_port: int
    password: str
    sentinel_port: int
    sentinel_password: str
    service: str = "dispatch"


@contextlib.contextmanager
def redis_sentinel(workdir: Path) -> Iterator[SentinelInfo]:
    """A password-protected Redis primary and one Sentinel (with its own password) watching it."""
    workdir.mkdir(parents=True, exist_ok=True)
    processes = Processes(workdir)
    primary_port, sentinel_port = free_ports(2)
    password, sentinel_password = "primary-secret", "sentinel-secret"
    service = "dispatch"
    try:
        primary = processes.start(
            "primary",
            *("--port", str(primary_port), "--bind", "127.0.0.1", "--requirepass", password),
            *("--save", "", "--appendonly", "no", "--dir", str(workdir)),
        )
        processes.wait_answering(primary, primary_port, password)
        config = workdir / "sentinel.conf"  # the Sentinel rewrites its configuration file
        config.write_text(
            f"port {sentinel_port}\nbind 127.0.0.1\ndir {workdir}\nrequirepass {sentinel_password}\n"
            f"sentinel monitor {service} 127.0.0.1 {primary_port} 1\n"
            f"sentinel auth-pass {service} {password}\n"
        )
        sentinel = processes.start("sentinel", str(config), "--sentinel")
        processes.wait_answering(sentinel, sentinel_port, sentinel_password)
        deadline = time.monotonic() + START_TIMEOUT_S
        with redis.Redis(port=sentinel_port, password=sentinel_password, socket_timeout=1) as client:
            while not client.sentinel_get_master_addr_by_name(service):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the Sentinel does not know {service}: {processes.logs()}")
                time.sleep(0.05)
        yield SentinelInfo(
            url=(
                f"redis+sentinel://:{password}@127.0.0.1:{sentinel_port}/{service}/0"
                f"?sentinel_password={sentinel_password}"
            ),
            primary_port=primary_port,
            password=password,
            sentinel_port=sentinel_port,
            sentinel_password=sentinel_password,
            service=service,
        )
    finally:
        processes.stop_all()
