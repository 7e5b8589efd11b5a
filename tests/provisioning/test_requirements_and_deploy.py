"""Who installs what: the site needs requirements.txt only; the provisioning commands say when their SDKs are missing."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from provisioning.deploy import package

PROJECT = Path(__file__).resolve().parents[2]

# Loaded by Python at start-up (sitecustomize on PYTHONPATH): every azure.mgmt import fails
# as it does in a virtualenv made from requirements.txt alone.
WITHOUT_MANAGEMENT_SDKS = """
import sys


class NoManagementSdks:
    def find_spec(self, name, path=None, target=None):
        if name == "azure.mgmt" or name.startswith("azure.mgmt."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, NoManagementSdks())
"""


def manage(tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    """``manage.py`` in a plain shell whose Python cannot import the Azure management SDKs."""
    hook = tmp_path / "hook"
    hook.mkdir(exist_ok=True)
    (hook / "sitecustomize.py").write_text(WITHOUT_MANAGEMENT_SDKS)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(tmp_path),
        "PYTHONPATH": str(hook),
        "AZURE_SUBSCRIPTION_ID": "00000000-1111-2222-3333-444444444444",
        "AZURE_STATE_DIR": str(tmp_path / ".azure"),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "command",
    [
        ("provision_azure", "--dry-run"),
        ("azure_status",),
        ("teardown_azure", "--yes"),
        ("rotate_redis_key",),
    ],
)
def test_a_command_without_the_management_sdks_says_which_file_to_install(tmp_path, command):
    result = manage(tmp_path, *command)

    assert result.returncode == 1, result.stderr
    assert "Error: The Azure management SDKs are not installed (azure.mgmt." in result.stderr
    assert "run .venv/bin/pip install -r requirements-provision.txt, then run the command again." in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / ".azure").exists()  # refused before anything was recorded or sent


def test_help_needs_no_management_sdk(tmp_path):
    result = manage(tmp_path, "provision_azure", "--help")

    assert result.returncode == 0, result.stderr
    assert "--redis-product" in result.stdout


def test_the_sites_requirements_carry_no_management_sdk():
    lines = [line.strip() for line in (PROJECT / "requirements.txt").read_text().splitlines()]
    packages = [line for line in lines if line and not line.startswith("#")]

    assert not [line for line in packages if line.lower().startswith("azure-mgmt")]
    assert not [line for line in packages if line.startswith("-r") or line.startswith("--requirement")]


def make_project(root: Path) -> None:
    """A project laid out as this one is, each kind of folder with one file."""
    files = [
        "manage.py",
        "gunicorn.conf.py",
        "requirements.txt",
        "requirements-provision.txt",
        "requirements-dev.txt",
        "pyproject.toml",
        "README.md",
        "test.sh",
        ".env",
        "sessiondemo/__init__.py",
        "sessiondemo/settings.py",
        "sessiondemo/__pycache__/settings.cpython-311.pyc",
        "accounts/__init__.py",
        "accounts/templates/accounts/login.html",
        "cart/__init__.py",
        "cart/static/cart/cart.js",
        "observability/__init__.py",
        "provisioning/__init__.py",
        "sessionkeeper/pyproject.toml",
        "sessionkeeper/README.md",
        "sessionkeeper/sessionkeeper/__init__.py",
        "sessionkeeper/sessionkeeper/lua/load.lua",
        "sessionkeeper/tests/test_store.py",
        "devtools/__init__.py",
        "devtools/embedded_redis.py",
        "tests/__init__.py",
        "loadtest/locustfile.py",
        "scripts/install-system-packages",
        "var/db.sqlite3",
        ".azure/dev.json",
        "bench-results/run.json",
    ]
    for name in files:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")


def test_deploy_ships_the_site_and_only_the_requirements_app_service_installs(tmp_path):
    make_project(tmp_path)

    names = set(zipfile.ZipFile(io.BytesIO(package(tmp_path))).namelist())

    assert names == {
        "manage.py",
        "gunicorn.conf.py",
        "requirements.txt",
        "sessiondemo/__init__.py",
        "sessiondemo/settings.py",
        "accounts/__init__.py",
        "accounts/templates/accounts/login.html",
        "cart/__init__.py",
        "cart/static/cart/cart.js",
        "observability/__init__.py",
        "provisioning/__init__.py",
        # The session engine is an installable app of its own: shipped whole, but its tests.
        "sessionkeeper/pyproject.toml",
        "sessionkeeper/README.md",
        "sessionkeeper/sessionkeeper/__init__.py",
        "sessionkeeper/sessionkeeper/lua/load.lua",
    }
    # Oryx installs requirements.txt at the root; with no other requirements file and no root
    # pyproject.toml or setup.py, nothing else can be installed.
    assert not {"requirements-provision.txt", "requirements-dev.txt", "pyproject.toml", "setup.py"} & names
