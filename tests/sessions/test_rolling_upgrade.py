"""A rolling deploy: the previous release and this one serve the same Redis and database at once.

The previous release is the landed engine of commit 6662a37, which writes layout 2 (from git
history; CI runs on a clone of main, which has it). A shopper bounces between the two while
this release writes layout 2 (SESSION_LAYOUT=2, as the README's upgrade steps say), then the
old instance goes and this release is switched to layout 3, where a signed-in shopper's cart
moves to the account: no logout, no lost cart line at any step.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import contextmanager
from io import BytesIO
from pathlib import Path

import pytest

from sessionkeeper import layout
from sessionkeeper.tests.helpers import extract
from tests.fixtures.processes import stop_process, wait_for_http
from tests.fixtures.redis_servers import free_port
from tests.fixtures.site_client import SiteClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent.parent
PREVIOUS_RELEASE = "6662a37"
PASSWORD = "rolling-Upgrade-2026!"


def previous_release(destination: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", PREVIOUS_RELEASE], capture_output=True, timeout=60
    )
    assert archive.returncode == 0, (
        f"git could not read commit {PREVIOUS_RELEASE} ({archive.stderr.decode()}); run the tests in a clone "
        "with its history (not a shallow one)."
    )
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        extract(tar, destination)
    return destination


@pytest.fixture(scope="module")
def old_release(tmp_path_factory) -> Path:
    return previous_release(tmp_path_factory.mktemp("previous-release"))


def environment(redis_url: str, directory: Path, **extra: str) -> dict[str, str]:
    """What both releases share: one Redis, one database, one SECRET_KEY. DEBUG=1: plain-http cookies."""
    inherited = {name: value for name, value in os.environ.items() if name not in {"DJANGO_SETTINGS_MODULE"}}
    return inherited | {
        "DEBUG": "1",
        "SECRET_KEY": "one-secret-key-for-both-releases-" + "x" * 20,
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{directory / 'shared.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SESSIONDEMO_VAR_DIR": str(directory / "var"),
        "TRUSTED_PROXY_COUNT": "0",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


@contextmanager
def serving(where: Path, env: dict[str, str], directory: Path) -> Iterator[str]:
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    quiet = directory / "gunicorn.conf.py"
    quiet.write_text("# no telemetry hooks\n")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "sessiondemo.wsgi:application", "-c", str(quiet)]
        + ["--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=where,
        env=env | {"PYTHONPATH": str(where)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/healthz", server, timeout=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(server)


def manage(env: dict[str, str], *arguments: str) -> None:
    run = subprocess.run(
        [sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stdout + run.stderr


def test_a_shopper_bouncing_between_the_old_and_new_release_keeps_login_and_cart(old_release, redis_url, tmp_path, db):
    env = environment(redis_url, tmp_path)
    manage(env, "migrate", "-v", "0")
    manage(
        env,
        "shell",
        "-c",
        f"from django.contrib.auth.models import User; User.objects.create_user('shopper', password={PASSWORD!r})",
    )
    with (
        serving(old_release, env, tmp_path / "old") as old_url,
        serving(ROOT, env | {"SESSION_LAYOUT": "2"}, tmp_path / "new") as new_url,
    ):
        old = SiteClient(old_url)
        new = SiteClient(new_url, http=old.http)  # one browser: one cookie jar for both
        skus = old.skus()[:4]
        expected: dict[str, int] = {}

        def add(site: SiteClient, sku: str) -> None:
            assert site.add(sku).status_code == 200, sku
            expected[sku] = expected.get(sku, 0) + 1

        add(old, skus[0])  # an anonymous cart from the old release ...
        assert new.quantities() == expected  # ... read by the new one
        add(new, skus[1])  # ... and the other way round
        assert old.quantities() == expected
        # Signed in by the old release: the new one reads the login, writes to it, logs nothing out.
        old.log_in("shopper", PASSWORD)
        for round_number in range(3):
            for site in (old, new):
                assert site.session()["authenticated"], (site.base_url, round_number)
                add(site, skus[(round_number + 2) % len(skus)])
                assert site.quantities() == expected, (site.base_url, round_number)
        new.log_out()  # a logout on the new release is a logout on the old one too
        assert not old.session()["authenticated"]
        assert old.quantities() == {}
        old.log_in("shopper", PASSWORD)
        expected.clear()
        add(new, skus[0])
        assert old.quantities() == expected

    # Every old instance is gone: the new release switches to layout 3, its sessions carry on.
    with serving(ROOT, env | {"SESSION_LAYOUT": "3"}, tmp_path / "switched") as switched_url:
        switched = SiteClient(switched_url, http=old.http)
        assert switched.session()["authenticated"]  # read, and moved to a key tagged with its user
        assert layout.cookie_tag(switched.session_cookie) is not None  # a layout-3 cookie
        assert switched.quantities() == expected  # the cart, now the account's
        add(switched, skus[0])
        assert switched.quantities() == expected
        switched.log_out()  # the cart stays with the account
        assert switched.quantities() == {}
        switched.log_in("shopper", PASSWORD)
        assert switched.quantities() == expected
        elsewhere = SiteClient(switched_url)  # another browser of the same shopper
        elsewhere.log_in("shopper", PASSWORD)
        assert elsewhere.quantities() == expected
