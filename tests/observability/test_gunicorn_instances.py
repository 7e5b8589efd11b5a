"""Two gunicorn instances on one Redis: each worker sets up telemetry after the fork, logs JSON
lines on stdout, and publishes its figures, so the ops data lists both."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from observability import ops
from tests.fixtures.processes import stop_process, wait_for_http
from tests.fixtures.redis_servers import free_port

REPO = Path(__file__).resolve().parents[2]
TOKEN = "tests-only-gunicorn-metrics-token"

pytestmark = pytest.mark.slow


def start_gunicorn(name: str, port: int, redis_url: str, log: Path) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sessiondemo.settings",
        "SECRET_KEY": "tests-only-not-a-secret",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{log.parent / 'db.sqlite3'}",
        "WEBSITE_INSTANCE_ID": name,
        "METRICS_TOKEN": TOKEN,
        "OPS_PUBLISH_INTERVAL": "1",
        "APPLICATIONINSIGHTS_CONNECTION_STRING": "",
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "sessiondemo.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "30",
        ],
        cwd=REPO,
        env=environment,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


def get(url: str, **headers: str) -> int:
    request = urllib.request.Request(url, headers=headers)
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status


def test_two_gunicorn_instances_both_publish_and_log_json_lines(redis_url, tmp_path):
    ports = {"gunicorn-one": free_port(), "gunicorn-two": free_port()}
    logs = {name: tmp_path / f"{name}.log" for name in ports}
    servers = {name: start_gunicorn(name, port, redis_url, logs[name]) for name, port in ports.items()}
    try:
        for name, port in ports.items():
            wait_for_http(f"http://127.0.0.1:{port}/healthz", servers[name])
        for name, port in ports.items():
            assert get(f"http://127.0.0.1:{port}/healthz", **{"X-Request-ID": f"probe-{name}"}) == 200
            assert get(f"http://127.0.0.1:{port}/metrics", Authorization=f"Bearer {TOKEN}") == 200

        published = {worker["instance"] for worker in ops.read_workers()}
        assert published >= {"gunicorn-one", "gunicorn-two"}
    finally:
        for server in servers.values():
            stop_process(server)
        print("\n".join(log.read_text() for log in logs.values()))

    for name, log in logs.items():
        text = log.read_text()
        assert "telemetry export none" in text, text  # gunicorn.conf.py's post_fork ran in the worker
        lines = [json.loads(line) for line in text.splitlines() if line.startswith('{"time"')]
        probes = [line for line in lines if line.get("request_id") == f"probe-{name}"]
        assert len(probes) == 1, text
        assert probes[0]["instance"] == name and probes[0]["path"] == "/healthz" and probes[0]["status"] == 200
