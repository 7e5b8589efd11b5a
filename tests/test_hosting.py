"""How the site is hosted: web.config for IIS, gunicorn for Linux, and production settings."""

import os
import subprocess
import sys
import urllib.request
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.fixtures.processes import stop_process, wait_for_http
from tests.fixtures.redis_servers import free_port

ROOT = Path(__file__).resolve().parent.parent


def production_environment(redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "0",
        "SECRET_KEY": "a-production-like-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "127.0.0.1,localhost,sessiondemo.azurewebsites.net",
        "CSRF_TRUSTED_ORIGINS": "https://sessiondemo.azurewebsites.net",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "SECURE_SSL_REDIRECT": "1",
    }


def test_check_deploy_reports_no_issue_with_production_variables(tmp_path):
    environment = production_environment("rediss://example.redis.cache.windows.net:6380/0", tmp_path)
    environment.pop("SECURE_SSL_REDIRECT")
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    environment = production_environment("redis://127.0.0.1:1/0", tmp_path)
    environment.pop("SECRET_KEY")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    "name,value,words",
    [
        ("REDIS_URL", "http://nope", "REDIS_URL must start with"),
        ("DEBUG", "maybe", "DEBUG must be 1 or 0"),
        ("SESSION_IDLE_TIMEOUT", "soon", "SESSION_IDLE_TIMEOUT must be a whole number"),
    ],
)
def test_a_bad_variable_stops_start_up_with_a_sentence(tmp_path, name, value, words):
    environment = production_environment("redis://127.0.0.1:1/0", tmp_path) | {name: value}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert words in result.stderr


def test_web_config_launches_waitress_on_the_wsgi_application(redis_url, tmp_path):
    platform = ElementTree.parse(ROOT / "web.config").getroot().find("system.webServer/httpPlatform")
    assert platform is not None
    assert platform.get("processPath").endswith(r"\python.exe")
    arguments = platform.get("arguments")
    assert "%HTTP_PLATFORM_PORT%" in arguments
    # Run what IIS would run, with this machine's python in place of the Windows path.
    port = free_port()
    environment = production_environment(redis_url, tmp_path) | {"SECURE_SSL_REDIRECT": "0"}
    for variable in platform.iter("environmentVariable"):
        environment[variable.get("name")] = variable.get("value")
    command = [sys.executable, *arguments.replace("%HTTP_PLATFORM_PORT%", str(port)).split()]
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", process)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
            assert response.status == 200
    finally:
        stop_process(process)
