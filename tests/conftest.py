"""Shared fixtures: real Redis servers (single and a 3-master cluster) on free loopback ports.

Every server a fixture starts is stopped when the fixture ends.
"""

from __future__ import annotations

import pytest

from sessiondemo import redis_client
from tests.fixtures.redis_servers import RedisClusterServers, RedisServer, use_redis


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
    use_redis(settings, redis_server.url)
    yield redis_server.url
    redis_client.reset_client()


@pytest.fixture
def redis_cluster_url(redis_cluster_servers, settings):
    redis_cluster_servers.flushall()
    use_redis(settings, redis_cluster_servers.url, cluster=True)
    yield redis_cluster_servers.url
    redis_client.reset_client()


@pytest.fixture(params=["single", "cluster"])
def any_redis(request):
    """Run a behaviour test once on a single Redis and once on the 3-master cluster."""
    name = "redis_url" if request.param == "single" else "redis_cluster_url"
    return request.getfixturevalue(name)


@pytest.fixture
def site_redis(redis_url, settings):
    """The site's sessions on the test Redis, whichever engine SESSION_BACKEND picked."""
    if settings.SESSION_BACKEND == "django-redis":
        caches = dict(settings.CACHES)
        caches["sessions"] = {**caches["sessions"], "LOCATION": redis_url}
        settings.CACHES = caches
    return redis_url


class ApiClient:
    """Django's test client with CSRF enforced, speaking JSON the way a script would."""

    def __init__(self, client):
        self.client = client

    def csrf_token(self) -> str:
        if "csrftoken" not in self.client.cookies:
            self.client.get("/api/session")
        return self.client.cookies["csrftoken"].value

    def send(self, method: str, path: str, body=None, content_type="application/json", raw=None):
        import json

        data = raw if raw is not None else (json.dumps(body) if body is not None else "")
        return self.client.generic(
            method, path, data=data, content_type=content_type, HTTP_X_CSRFTOKEN=self.csrf_token()
        )

    def get(self, path: str):
        return self.client.get(path)


@pytest.fixture
def api(db, site_redis):
    from django.test import Client

    return ApiClient(Client(enforce_csrf_checks=True))


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """In-process tests hash with MD5: PBKDF2's million rounds would dominate the suite's time."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
