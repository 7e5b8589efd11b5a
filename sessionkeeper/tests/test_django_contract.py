"""Django's own session-backend tests, unmodified, against the engine on a single Redis and a cluster.

The tests come from the source distribution of the Django version installed, fetched from
PyPI with pip the first time and kept in the user's cache; they run in a process of their
own with Django's test runner (their models need an app of their own).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tarfile
from pathlib import Path

import django
import pytest

from sessionkeeper.tests.conftest import PREFIX
from sessionkeeper.tests.helpers import extract

HERE = Path(__file__).resolve().parent
CACHE = Path.home() / ".cache" / "sessionkeeper-tests"

# Tests that read django.contrib.sessions' database table directly: they hold only for the
# database backend whatever engine SESSION_ENGINE names, so they cannot pass on any other.
DATABASE_ONLY = {"test_empty_session_saved"}

RUNNER = '''
"""Django's session tests against sessionkeeper: the mixin and the middleware tests, as shipped."""
from django.test import TestCase

from sessions_tests.tests import SessionMiddlewareTests, SessionTestsMixin  # noqa: F401 - collected as they are
from sessionkeeper.store import SessionStore


class SessionKeeperTests(SessionTestsMixin, TestCase):
    backend = SessionStore
'''

SETTINGS = """
SECRET_KEY = "django-contract-tests"
INSTALLED_APPS = [
    "django.contrib.sessions", "django.contrib.contenttypes", "django.contrib.auth", "sessions_tests",
]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}}
SESSION_ENGINE = "sessionkeeper.store"
SESSIONKEEPER = {{"REDIS_URL": {url!r}, "CLUSTER": {cluster!r}, "KEY_PREFIX": {prefix!r}}}
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
"""


def django_session_tests(destination: Path) -> Path:
    """tests/sessions_tests from Django's source distribution, fetched once per version."""
    version = django.get_version()
    CACHE.mkdir(parents=True, exist_ok=True)
    archive = CACHE / f"django-{version}.tar.gz"
    if not archive.exists():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", f"Django=={version}", "--no-binary", ":all:", "--no-deps"]
            + ["-d", str(CACHE)],
            check=True,
            capture_output=True,
            timeout=600,
        )
    member = f"django-{version}/tests/sessions_tests/"
    with tarfile.open(archive) as source:
        wanted = [entry for entry in source.getmembers() if entry.name.startswith(member)]
        extract(source, destination, wanted)
    return destination / f"django-{version}" / "tests"


@pytest.fixture(scope="module")
def django_tests(tmp_path_factory) -> Path:
    return django_session_tests(tmp_path_factory.mktemp("django-source"))


@pytest.mark.slow
@pytest.mark.parametrize("where", ["single", "cluster"])
def test_djangos_own_session_tests_pass_against_the_engine(where, django_tests, request, tmp_path):
    servers = request.getfixturevalue("engine_redis" if where == "single" else "engine_cluster")
    if where == "cluster":
        servers.flushall()
    else:
        servers.client().flushall()
    (tmp_path / "contract_tests.py").write_text(RUNNER)
    (tmp_path / "contract_settings.py").write_text(
        SETTINGS.format(url=servers.url, cluster=where == "cluster", prefix=PREFIX)
    )
    environment = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(django_tests), str(HERE.parent.parent)]),
        "DJANGO_SETTINGS_MODULE": "contract_settings",
    }
    run = subprocess.run(
        [sys.executable, "-m", "django", "test", "contract_tests", "-v", "2", "--noinput"],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = run.stderr + run.stdout
    ran = int(re.search(r"Ran (\d+) tests", output).group(1))
    failed = set(re.findall(r"^(?:FAIL|ERROR): (\w+) ", output, flags=re.MULTILINE))
    print(f"Django {django.get_version()}'s session tests on {where}: {ran} ran, failed: {sorted(failed) or 'none'}")
    assert ran >= 70, output[-3000:]
    assert failed <= DATABASE_ONLY, output[-6000:]
