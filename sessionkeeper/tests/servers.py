"""Real redis-server processes for the engine's tests: one server, or a 3-master cluster.

Each binds 127.0.0.1 on a free port, keeps its files in a temporary directory, and is
stopped by whoever started it. Needs redis-server (and redis-cli for the cluster) on PATH.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.cluster import RedisCluster


def binary(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} is not on PATH; install Redis (apt-get install redis-server) to run these tests.")
    return found


def free_port() -> int:
    """A free loopback port whose cluster-bus twin (port + 10000) is free too."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if all(_bindable(candidate) for candidate in (port, port + 10000)):
            return port
    raise RuntimeError("No free pair of loopback ports was found for a test redis-server.")


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class Server:
    directory: Path
    extra_args: list[str] = field(default_factory=list)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Server:
        self.directory.mkdir(parents=True, exist_ok=True)
        command = [
            binary("redis-server"),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--dir",
            str(self.directory),
        ]
        command += [
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(self.directory / "redis.log"),
            *self.extra_args,
        ]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                self.client().ping()
                return self
            except (redis.ConnectionError, redis.BusyLoadingError):
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"redis-server on port {self.port} did not answer within 10 s.")

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.send_signal(signal.SIGCONT)  # a paused server cannot exit
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        self.process = None

    @contextmanager
    def paused(self, seconds: float):
        """SIGSTOP the server for ``seconds`` (bounded), then SIGCONT, whatever happens meanwhile."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)
        try:
            yield
            time.sleep(seconds)
        finally:
            os.kill(self.process.pid, signal.SIGCONT)


@dataclass
class Cluster:
    """Three masters, no replicas, slots split evenly."""

    directory: Path
    nodes: list[Server] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> Cluster:
        try:
            for index in range(3):
                node_dir = self.directory / f"node{index}"
                node = Server(
                    node_dir, ["--cluster-enabled", "yes", "--cluster-config-file", str(node_dir / "nodes.conf")]
                )
                self.nodes.append(node)
                node.start()
            addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
            subprocess.run(
                [binary("redis-cli"), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
                capture_output=True,
                check=True,
                timeout=30,
            )
            deadline = time.monotonic() + 20
            while not all(n.client().execute_command("CLUSTER INFO")["cluster_state"] == "ok" for n in self.nodes):
                if time.monotonic() > deadline:
                    raise RuntimeError("The test Redis Cluster did not reach cluster_state:ok.")
                time.sleep(0.1)
        except BaseException:
            self.stop()
            raise
        return self

    def client(self) -> RedisCluster:
        return RedisCluster.from_url(self.url, socket_timeout=5)

    def flushall(self) -> None:
        for node in self.nodes:
            node.client().flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
