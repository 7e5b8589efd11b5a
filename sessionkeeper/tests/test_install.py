"""``pip install ./sessionkeeper`` into an empty venv gives a working engine in a project that has
nothing else: a minimal Django project made here, no sessiondemo anywhere on its path."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent

SETTINGS = """
SECRET_KEY = "an outside project"
DEBUG = False
ALLOWED_HOSTS = ["testserver"]
INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}}}
ROOT_URLCONF = "shop.urls"
MIDDLEWARE = ["sessionkeeper.middleware.SessionMiddleware"]
SESSION_ENGINE = "sessionkeeper.store"
REDIS_URL = {url!r}
SESSIONKEEPER = {{"KEY_PREFIX": "outside", "KEEP": ["cart"]}}
"""

URLS = """
from django.http import JsonResponse
from django.urls import path

from sessionkeeper.counters import counters_for


def visit(request):
    request.session["visits"] = request.session.get("visits", 0) + 1
    counters_for(request.session, "cart").add("tea", 1, 99)
    return JsonResponse({"visits": request.session["visits"], "cart": counters_for(request.session, "cart").items()})


urlpatterns = [path("visit", visit)]
"""

CHECK = """
import django, sys
django.setup()
import sessionkeeper
from django.test import Client

assert "site-packages" in sessionkeeper.__file__, sessionkeeper.__file__
assert not [name for name in sys.modules if name.startswith(("sessiondemo", "accounts", "cart", "devtools"))]
browser = Client()
for _ in range(3):
    answer = browser.get("/visit").json()
print(answer)
assert answer == {"visits": 3, "cart": {"tea": 3}}, answer
"""


@pytest.mark.slow
def test_the_package_installed_into_an_empty_venv_works_in_a_minimal_project(engine_redis, tmp_path):
    engine_redis.client().flushall()
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    # From a copy, as a download would be: pip builds in place and leaves build/ behind.
    source = tmp_path / "sessionkeeper"
    shutil.copytree(PACKAGE, source, ignore=shutil.ignore_patterns("tests", "build", "*.egg-info", "__pycache__"))
    install = subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(source)], capture_output=True, text=True, timeout=600
    )
    assert install.returncode == 0, install.stdout + install.stderr
    project = tmp_path / "project"
    (project / "shop").mkdir(parents=True)
    (project / "shop" / "__init__.py").write_text("")
    (project / "shop" / "settings.py").write_text(SETTINGS.format(url=engine_redis.url))
    (project / "shop" / "urls.py").write_text(URLS)
    (project / "check.py").write_text(textwrap.dedent(CHECK))
    run = subprocess.run(
        [python, "check.py"],
        cwd=project,
        env={"DJANGO_SETTINGS_MODULE": "shop.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert engine_redis.client().keys("outside:{*}")  # a layout-2 session hash
