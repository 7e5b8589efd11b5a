"""What a new user types works as they type it; production still refuses to run unsafely.

manage.py runs as development when the shell says nothing (DEBUG=1 by default), so no
variable has to be exported by hand. The WSGI app is production: without SECRET_KEY or
REDIS_URL it refuses to start, and it never starts a Redis of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.redis_servers import free_port

ROOT = Path(__file__).resolve().parent.parent
# What a user has in a fresh shell: no DEBUG, SECRET_KEY, REDIS_URL or DJANGO_SETTINGS_MODULE.
UNSET_BY_A_NEW_USER = ("DEBUG", "SECRET_KEY", "REDIS_URL", "DJANGO_SETTINGS_MODULE", "SECURE_SSL_REDIRECT")


def plain_shell(tmp_path: Path, **extra: str) -> dict[str, str]:
    environment = {name: value for name, value in os.environ.items() if name not in UNSET_BY_A_NEW_USER}
    # Only the local state goes elsewhere, so the test leaves the checkout as it found it.
    environment["SESSIONDEMO_VAR_DIR"] = str(tmp_path / "var")
    environment["AZURE_STATE_DIR"] = str(tmp_path / "azure")
    return environment | extra


def manage(tmp_path: Path, *arguments: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=ROOT,
        env=plain_shell(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize(
    "arguments",
    [
        ("check",),
        ("runserver", "--help"),
        ("provision_azure", "--help"),
        ("azure_status", "--help"),
        ("teardown_azure", "--help"),
        ("rotate_redis_key", "--help"),
        ("embedded_redis", "--help"),
        ("bench_sessions", "--help"),
        ("runcluster", "--dry-run"),
        ("loadtest", "--help"),
    ],
    ids=lambda arguments: " ".join(arguments),
)
def test_manage_py_commands_work_in_a_plain_shell(tmp_path, arguments):
    result = manage(tmp_path, *arguments)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SECRET_KEY" not in result.stderr


def test_provision_azure_dry_run_prints_the_plan_with_only_the_subscription_exported(tmp_path):
    result = manage(
        tmp_path, "provision_azure", "--dry-run", AZURE_SUBSCRIPTION_ID="0" * 8 + "-0000-0000-0000-" + "0" * 12
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Dry run" in result.stdout
    assert "nothing was sent" in result.stdout


def gunicorn(tmp_path: Path, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the production WSGI app the way App Service does; it must exit by itself."""
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "sessiondemo.wsgi:application",
        "--bind",
        f"127.0.0.1:{free_port()}",
        "--workers",
        "1",
    ]
    return subprocess.run(command, cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60)


def redis_servers_under(directory: Path) -> list[str]:
    """Command lines of running redis-server processes that use ``directory``."""
    found = []
    for status in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            command_line = status.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "redis-server" in command_line and str(directory) in command_line:
            found.append(command_line)
    return found


def test_the_web_app_refuses_to_start_without_redis_url_and_starts_no_redis_of_its_own(tmp_path):
    environment = plain_shell(tmp_path, DEBUG="0", SECRET_KEY="a-production-like-secret-key-" + "x" * 40)
    result = gunicorn(tmp_path, environment)
    assert result.returncode != 0
    assert "REDIS_URL is not set" in result.stdout + result.stderr
    assert not (tmp_path / "var" / "redis").exists()
    assert redis_servers_under(tmp_path) == []


def test_the_web_app_refuses_to_start_without_a_secret_key(tmp_path):
    environment = plain_shell(tmp_path, DEBUG="0", REDIS_URL="redis://127.0.0.1:1/0")
    result = gunicorn(tmp_path, environment)
    assert result.returncode != 0
    assert "SECRET_KEY is not set. Set it to a long random string in production" in result.stdout + result.stderr


def test_the_web_app_is_production_when_the_environment_says_nothing(tmp_path):
    # No DEBUG at all: the WSGI app must not fall back to development defaults.
    environment = plain_shell(tmp_path)
    result = gunicorn(tmp_path, environment)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stdout + result.stderr
    assert redis_servers_under(tmp_path) == []
