"""manage.py runcluster as a user runs it: it prints the URL, serves, and on SIGTERM leaves nothing behind."""

from __future__ import annotations

import os
import select
import signal
import ssl
import subprocess
import sys
import time
import urllib.request
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from devtools.scaleout import nginx
from devtools.scaleout.cluster import port_is_free
from tests.devtools.scaleout.conftest import PROJECT_DIRECTORY, free_port_block


def test_runcluster_without_nginx_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(nginx.shutil, "which", lambda name: None)
    monkeypatch.setattr(nginx, "SEARCH_PATHS", ())
    with pytest.raises(CommandError, match="apt-get install nginx"):
        call_command("runcluster", "--instances", "1")


def test_runcluster_dry_run_shows_the_plan_and_starts_nothing(tmp_path, settings):
    try:
        nginx.nginx_binary()
    except nginx.NginxNotInstalled:
        pytest.skip("nginx is not installed; apt-get install nginx")
    settings.VAR_DIR = tmp_path
    output = StringIO()
    call_command("runcluster", "--dry-run", "--instances", "2", "--base-port", "9101", "--port", "9443", stdout=output)
    plan = output.getvalue()
    assert "--bind 127.0.0.1:9101" in plan and "--bind 127.0.0.1:9102" in plan
    assert "listen 127.0.0.1:9443 ssl;" in plan
    assert not any(tmp_path.iterdir()), "A dry run wrote files."


def processes_with_argument(argument: str) -> list[int]:
    """Pids whose command line contains ``argument`` (read from /proc; nothing is signalled)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if argument.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow
def test_runcluster_serves_https_until_sigterm_and_leaves_no_process_or_port(cluster_redis, tmp_path):
    try:
        nginx.nginx_binary()
    except nginx.NginxNotInstalled:
        pytest.skip("nginx is not installed; apt-get install nginx")
    first = free_port_block(3)
    https_port, base_port = first, first + 1
    environment = {
        **os.environ,
        "PYTHONUNBUFFERED": "1",
        "REDIS_URL": cluster_redis.url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SESSIONDEMO_VAR_DIR": str(tmp_path / "var"),
    }
    command = [
        sys.executable,
        "manage.py",
        "runcluster",
        "--instances",
        "2",
        "--port",
        str(https_port),
        "--base-port",
        str(base_port),
        "--workers",
        "1",
    ]
    runner = subprocess.Popen(
        command, cwd=PROJECT_DIRECTORY, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    output = []
    try:
        deadline = time.monotonic() + 90
        while not any(f"https://127.0.0.1:{https_port}/" in line for line in output):
            assert runner.poll() is None, "runcluster exited early:\n" + "".join(output) + runner.stdout.read()
            assert time.monotonic() < deadline, "runcluster printed no URL within 90 s:\n" + "".join(output)
            if select.select([runner.stdout], [], [], 0.5)[0]:
                output.append(runner.stdout.readline())
        context = ssl.create_default_context(cafile=str(tmp_path / "var" / "cluster" / "tls" / "ca.pem"))
        with urllib.request.urlopen(f"https://localhost:{https_port}/healthz", context=context, timeout=10) as answer:
            assert answer.status == 200
            assert answer.headers["X-Served-By"] in {"instance-1", "instance-2"}
        children = processes_with_argument(f"127.0.0.1:{base_port}") + processes_with_argument(
            f"127.0.0.1:{base_port + 1}"
        )
        assert len(children) == 4, "Expected a gunicorn master and one worker per instance."
        nginx_pid = int((tmp_path / "var" / "cluster" / "nginx.pid").read_text())

        runner.send_signal(signal.SIGTERM)
        remaining, _ = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait(timeout=10)
    assert runner.returncode == 0, "".join(output) + remaining
    assert "Stopped" in remaining
    for port in (https_port, base_port, base_port + 1):
        assert port_is_free(port), f"Port {port} is still taken after runcluster stopped."
    for pid in [*children, nginx_pid]:
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2], (
            f"Process {pid} outlived runcluster."
        )
