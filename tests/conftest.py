"""Shared fixtures: real Redis servers (single and a 3-master cluster) on free loopback ports.

Every server a fixture starts is stopped when the fixture ends.
"""

from __future__ import annotations

import os

# Settings are read once at import: give them what production would refuse to go without.
os.environ.setdefault("SECRET_KEY", "tests-only-not-a-secret")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:1/0")  # replaced by the redis_server fixture
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")

import pytest

from sessiondemo import redis_client
from tests.fixtures.redis_servers import RedisClusterServers, RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    """One redis-server for the whole run; tests get it flushed through `redis_url`."""
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_cluster_servers(tmp_path_factory):
    cluster = RedisClusterServers(tmp_path_factory.mktemp("redis-cluster")).start()
    yield cluster
    cluster.stop()


@pytest.fixture
def redis_url(redis_server, settings):
    """Point the project's Redis client at the test server, flushed."""
    redis_server.client().flushall()
    settings.REDIS_URL = redis_server.url
    settings.REDIS_CLUSTER = False
    settings.EMBEDDED_REDIS = False
    redis_client.reset_client()
    yield redis_server.url
    redis_client.reset_client()


@pytest.fixture
def redis_cluster_url(redis_cluster_servers, settings):
    redis_cluster_servers.flushall()
    settings.REDIS_URL = redis_cluster_servers.url
    settings.REDIS_CLUSTER = True
    settings.EMBEDDED_REDIS = False
    redis_client.reset_client()
    yield redis_cluster_servers.url
    redis_client.reset_client()


@pytest.fixture(params=["single", "cluster"])
def any_redis(request):
    """Run a behaviour test once on a single Redis and once on the 3-master cluster."""
    name = "redis_url" if request.param == "single" else "redis_cluster_url"
    return request.getfixturevalue(name)
