"""Two gunicorn processes on one Redis: either one serves any request of the same session."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fixtures.processes import stop_process, wait_for_http
from tests.fixtures.redis_servers import free_port
from tests.fixtures.site_client import SiteClient

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def two_instances(redis_url, tmp_path):
    environment = {
        **os.environ,
        "DEBUG": "1",  # plain http on loopback: cookies without the Secure flag
        "SECRET_KEY": "two-instances-test-key",
        "REDIS_URL": redis_url,
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "SESSIONDEMO_VAR_DIR": str(tmp_path / "var"),
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True, timeout=120
    )
    processes, urls = [], []
    try:
        for _ in range(2):
            port = free_port()
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "sessiondemo.wsgi:application",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--workers",
                    "2",
                    "--access-logfile",
                    "-",
                ],
                cwd=ROOT,
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            processes.append(process)
            urls.append(f"http://127.0.0.1:{port}")
            wait_for_http(f"{urls[-1]}/healthz", process)
        yield urls
    finally:
        for process in processes:
            stop_process(process)


def test_a_cart_filled_through_one_instance_is_seen_changed_and_emptied_through_the_other(two_instances):
    first = SiteClient(two_instances[0])
    # One browser: cookies ignore ports, so both instances get the same session cookie.
    second = SiteClient(two_instances[1], http=first.http)
    session = first.request("GET", "/api/session")
    assert session.status_code == 200
    assert first.add("TEA-001", 2).status_code == 200
    assert first.add("ACC-002").status_code == 200

    seen = second.request("GET", "/api/cart")
    assert seen.json()["count"] == 3
    assert seen.headers["X-Served-By"] != session.headers["X-Served-By"]

    changed = second.request("PUT", "/api/cart/items/TEA-001", json={"quantity": 5})
    assert changed.status_code == 200
    assert first.cart()["count"] == 6

    assert second.request("DELETE", "/api/cart").status_code == 200
    assert first.cart() == {"items": [], "count": 0, "total": "0.00"}
