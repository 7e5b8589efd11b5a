"""A running cluster for the scale-out tests: 3 gunicorn instances and nginx, on a dedicated Redis (AOF on).

The cluster is started once per test run and shared; drills that break a part of it
restore it before they end. Browser tests get a fresh Chromium context each, and a
screenshot in test-artifacts/ when they fail.
"""

from __future__ import annotations

import os
import random
import re
from pathlib import Path

import pytest

from devtools.scaleout import Cluster, ClusterSettings
from devtools.scaleout.cluster import port_is_free
from devtools.scaleout.nginx import NginxNotInstalled, nginx_binary
from tests.fixtures.redis_servers import RedisServer
from tests.fixtures.site_client import SiteClient

PROJECT_DIRECTORY = Path(__file__).resolve().parents[3]
ARTIFACTS = PROJECT_DIRECTORY / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
INSTANCES = 3
METRICS_TOKEN = "tests-only-scale-out-metrics-token"


def _missing(what: str, install: str) -> None:
    # On CI a missing tool is a broken set-up, not a reason to skip.
    message = f"{what} is not installed; {install}."
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port_block(count: int) -> int:
    """The first of ``count`` consecutive free loopback ports."""
    for _ in range(200):
        first = random.randint(20000, 45000)
        if all(port_is_free(port) for port in range(first, first + count)):
            return first
    raise RuntimeError(f"No {count} consecutive free loopback ports were found.")


@pytest.fixture(scope="session")
def cluster_redis(tmp_path_factory):
    """The cluster's own redis-server, with an append-only file so a restart keeps the data."""
    server = RedisServer(
        tmp_path_factory.mktemp("cluster-redis"),
        extra_args=["--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "allkeys-lru"],
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def cluster(cluster_redis, tmp_path_factory):
    try:
        nginx_binary()
    except NginxNotInstalled:
        _missing("nginx", "install it with apt-get install nginx")
    directory = tmp_path_factory.mktemp("cluster")
    first = free_port_block(INSTANCES + 1)
    settings = ClusterSettings(
        directory=directory,
        redis_url=cluster_redis.url,
        secret_key="tests-only-scale-out-cluster-key-not-a-secret",
        environment={**os.environ, "METRICS_TOKEN": METRICS_TOKEN},
        instances=INSTANCES,
        https_port=first,
        base_port=first + 1,
        workers=2,
        database_url=f"sqlite:///{directory / 'db.sqlite3'}",
        var_directory=directory / "var",
    )
    running = Cluster(settings).start(announce=lambda message: None)
    yield running
    running.stop()


@pytest.fixture
def shopper(cluster):
    """A new cookie jar talking to the cluster through nginx, trusting the cluster's CA."""
    return SiteClient(cluster.url, str(cluster.certificate.authority))


@pytest.fixture
def make_shopper(cluster):
    return lambda: SiteClient(cluster.url, str(cluster.certificate.authority))


# --- browsers ----------------------------------------------------------------------
@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    # Kept on the item so that fixtures can see, in their teardown, whether the test failed.
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        _missing("Chromium", "install it with apt-get install chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, cluster, request):
    """A fresh browser context on the cluster; ``page.served_by`` lists who answered each document."""
    context = browser.new_context(base_url=cluster.url, ignore_https_errors=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.served_by = []
    page.on(
        "response",
        lambda response: (
            page.served_by.append(response.headers["x-served-by"])
            if "x-served-by" in response.headers and response.request.resource_type == "document"
            else None
        ),
    )
    yield page
    failed = any(
        getattr(request.node, f"report_{when}", None) and getattr(request.node, f"report_{when}").failed
        for when in ("setup", "call")
    )
    if failed:
        ARTIFACTS.mkdir(exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        (ARTIFACTS / f"{name}.html").write_text(page.content())
    context.close()
