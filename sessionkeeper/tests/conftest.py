"""Fixtures for the engine's own tests: real Redis servers, the engine configured as a project
would configure it (its own default client, no site code), a settable clock, a request runner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from django.test import Client

from sessionkeeper import client as engine_client
from sessionkeeper import stats
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.servers import Cluster, Server

PREFIX = "sk"
IDLE, ANONYMOUS_IDLE, ABSOLUTE, GRACE = 1200, 300, 43200, 1800


def engine_options(url: str, cluster: bool = False, **changes) -> dict:
    """What a project would put in settings.SESSIONKEEPER, with the test server's URL."""
    return {
        "REDIS_URL": url,
        "CLUSTER": cluster,
        "KEY_PREFIX": PREFIX,
        "IDLE_TIMEOUT": IDLE,
        "ANONYMOUS_IDLE_TIMEOUT": ANONYMOUS_IDLE,
        "ABSOLUTE_TIMEOUT": ABSOLUTE,
        "GRACE_PERIOD": GRACE,
        "KEEP": ["cart"],
        "RETRIES": 1,
        **changes,
    }


@pytest.fixture(scope="session")
def engine_redis(tmp_path_factory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("engine-redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def engine_cluster(tmp_path_factory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("engine-cluster")).start()
    yield cluster
    cluster.stop()


def _configure(settings, url: str, cluster: bool) -> None:
    settings.SESSIONKEEPER = engine_options(url, cluster)
    settings.SESSION_ENGINE = "sessionkeeper.store"
    settings.SESSION_SAVE_EVERY_REQUEST = False
    settings.MIDDLEWARE = [
        "sessionkeeper.middleware.SessionMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
    ]
    settings.ROOT_URLCONF = "sessionkeeper.tests.urls"
    settings.TEMPLATES = []  # Django's plain error pages: no project's templates
    stats.reset()


@pytest.fixture
def single(engine_redis, settings) -> Iterator[Server]:
    """The engine on one redis-server, flushed."""
    engine_redis.client().flushall()
    _configure(settings, engine_redis.url, cluster=False)
    yield engine_redis
    engine_client.reset_default_client()


@pytest.fixture
def cluster(engine_cluster, settings) -> Iterator[Cluster]:
    """The engine on the 3-master cluster, flushed."""
    engine_cluster.flushall()
    _configure(settings, engine_cluster.url, cluster=True)
    yield engine_cluster
    engine_client.reset_default_client()


@pytest.fixture(params=["single", "cluster"])
def topology(request):
    """Run a behaviour test once on a single Redis and once on the 3-master cluster."""
    return request.getfixturevalue(request.param)


@pytest.fixture
def store(topology) -> Callable[..., SessionStore]:
    return SessionStore


@pytest.fixture
def redis(topology):
    """A raw client on the topology under test (the engine's own)."""
    return engine_client.get_client()


@pytest.fixture
def options(settings) -> Callable[..., None]:
    """Change some SESSIONKEEPER keys for one test."""

    def change(**changes) -> None:
        settings.SESSIONKEEPER = {**settings.SESSIONKEEPER, **changes}

    return change


@dataclass
class FakeClock:
    """Seconds since the epoch that only move when a test says so; starts at the real time."""

    now: float

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch) -> FakeClock:
    import time

    fake = FakeClock(time.time())
    monkeypatch.setattr(SessionStore, "clock", fake)
    return fake


@pytest.fixture
def site(db) -> Client:
    """Django's test Client on the engine's test URLconf, through its middleware."""
    return Client()
