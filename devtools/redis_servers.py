"""Throwaway redis-server processes on loopback: single, TLS, and a 3-master cluster.

The benchmark and the tests start them. Each binds 127.0.0.1 on a free port, keeps its
files in a directory it is given, and is stopped by whoever started it. Development
tooling: production code never imports it.
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis
from redis.cluster import RedisCluster as RedisClusterClient

from devtools.embedded_redis import redis_server_binary


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A free port below 55535 whose cluster-bus twin (port + 10000) is free too."""
    for _ in range(200):
        port = random.randint(20000, 45000)
        if _bindable(port) and _bindable(port + 10000):
            return port
    raise RuntimeError("No free pair of loopback ports found for a local redis-server.")


def redis_cli_binary() -> str:
    server = Path(redis_server_binary())
    sibling = server.parent / "redis-cli"
    return str(sibling) if sibling.exists() else (shutil.which("redis-cli") or "redis-cli")


@dataclass
class RedisServer:
    """One redis-server process on 127.0.0.1."""

    directory: Path
    port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    binary: str = field(default_factory=redis_server_binary)
    process: subprocess.Popen | None = None
    tls: dict[str, str] | None = None
    password: str | None = None
    username: str | None = None  # an ACL user; the default user is then switched off

    @property
    def url(self) -> str:
        auth = f"{self.username or ''}:{self.password}@" if self.password else ""
        if self.tls:
            return f"rediss://{auth}localhost:{self.port}/0"
        return f"redis://{auth}127.0.0.1:{self.port}/0"

    def command(self) -> list[str]:
        command = [
            self.binary,
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.directory),
            "--save",
            "",
            "--appendonly",
            "no",
            "--logfile",
            str(self.directory / f"redis-{self.port}.log"),
        ]
        if self.tls:
            command += [
                "--port",
                "0",
                "--tls-port",
                str(self.port),
                "--tls-cert-file",
                self.tls["cert"],
                "--tls-key-file",
                self.tls["key"],
                "--tls-ca-cert-file",
                self.tls["ca"],
                "--tls-auth-clients",
                "no",
            ]
        else:
            command += ["--port", str(self.port)]
        if self.username:
            command += [
                "--user",
                "default",
                "off",
                "--user",
                self.username,
                "on",
                f">{self.password}",
                "~*",
                "&*",
                "+@all",
            ]
        elif self.password:
            command += ["--requirepass", self.password]
        return command + self.extra_args

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            self.wait_until_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def client(self, **options) -> redis.Redis:
        if self.tls:
            options.setdefault("ssl_ca_certs", self.tls["ca"])
        options.setdefault("socket_timeout", 2)
        return redis.Redis.from_url(self.url, **options)

    def wait_until_ready(self, timeout: float = 10) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"redis-server exited at start: {error}")
            try:
                client = self.client()
                client.ping()
                client.close()
                return
            except (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError):
                time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer within {timeout} s.")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class RedisClusterServers:
    """Three masters, no replicas, slots split evenly, all on 127.0.0.1."""

    directory: Path
    size: int = 3
    nodes: list[RedisServer] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.nodes[0].url

    def start(self) -> RedisClusterServers:
        try:
            self._start_nodes()
            self._create_cluster()
            self.wait_until_ok()
        except BaseException:
            self.stop()  # whatever failed, leave no node running
            raise
        return self

    def _start_nodes(self) -> None:
        for index in range(self.size):
            node_dir = self.directory / f"node{index}"
            node = RedisServer(node_dir)
            node.extra_args = [
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                str(node_dir / "nodes.conf"),
                "--cluster-node-timeout",
                "2000",
            ]
            self.nodes.append(node)
            node.start()

    def _create_cluster(self) -> None:
        addresses = [f"127.0.0.1:{node.port}" for node in self.nodes]
        result = subprocess.run(
            [redis_cli_binary(), "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if result.returncode != 0:
            raise RuntimeError(f"redis-cli --cluster create failed: {result.stdout}{result.stderr}")

    def wait_until_ok(self, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(node.client().execute_command("CLUSTER INFO").get("cluster_state") == "ok" for node in self.nodes):
                return
            time.sleep(0.1)
        raise RuntimeError("The local Redis Cluster did not reach cluster_state:ok.")

    def client(self) -> RedisClusterClient:
        return RedisClusterClient.from_url(self.url, socket_timeout=2)

    def flushall(self) -> None:
        for node in self.nodes:
            node.client().flushall()

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()
