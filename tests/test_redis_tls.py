"""TLS and ACL to Redis: certificates and host names verified, a wrong CA or password said plainly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import trustme
from django.test import Client

from tests.fixtures.redis_servers import RedisServer, tls_capable_binary, use_redis

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(tls_capable_binary() is None, reason="needs the OS's redis-server, built with TLS")


@pytest.fixture(scope="module")
def authority(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    server_cert = ca.issue_cert("localhost")
    paths = {"ca": directory / "ca.pem", "cert": directory / "server.pem", "key": directory / "server.key"}
    ca.cert_pem.write_to_path(str(paths["ca"]))
    server_cert.private_key_pem.write_to_path(str(paths["key"]))
    for blob in server_cert.cert_chain_pems:
        blob.write_to_path(str(paths["cert"]), append=True)
    other = directory / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    return {name: str(path) for name, path in paths.items()} | {"other_ca": str(other)}


@pytest.fixture(scope="module")
def tls_redis(authority, tmp_path_factory):
    server = RedisServer(
        tmp_path_factory.mktemp("tls-redis"),
        binary=tls_capable_binary(),
        tls={"cert": authority["cert"], "key": authority["key"], "ca": authority["ca"]},
        username="sessions",
        password="right-password",
    ).start()
    yield server
    server.stop()


def point_at(settings, url: str, ca: str) -> None:
    settings.REDIS_CA_CERT = ca
    use_redis(settings, url)


@pytest.mark.django_db
def test_sessions_work_over_verified_tls_with_an_acl_user(settings, tls_redis, authority):
    point_at(settings, f"rediss://sessions:right-password@localhost:{tls_redis.port}/0", authority["ca"])
    client = Client()
    assert client.get("/readyz").status_code == 200
    client.post("/cart/add/TEA-007/", {"quantity": "4"})
    assert client.get("/api/cart").json()["count"] == 4


@pytest.mark.django_db
def test_a_server_certificate_from_another_ca_is_refused_with_a_sentence(settings, tls_redis, authority):
    point_at(settings, f"rediss://sessions:right-password@localhost:{tls_redis.port}/0", authority["other_ca"])
    response = Client().get("/readyz")
    assert response.status_code == 503
    error = response.json()["checks"]["redis"]["error"]
    assert "could not be verified against the CA in REDIS_CA_CERT" in error
    assert "right-password" not in error


@pytest.mark.django_db
def test_a_certificate_for_another_host_name_is_refused(settings, tls_redis, authority):
    point_at(settings, f"rediss://sessions:right-password@127.0.0.1:{tls_redis.port}/0", authority["ca"])
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert "not for that host name" in response.json()["checks"]["redis"]["error"]


@pytest.mark.django_db
def test_a_wrong_password_is_refused_with_a_sentence(settings, tls_redis, authority):
    point_at(settings, f"rediss://sessions:wrong-password@localhost:{tls_redis.port}/0", authority["ca"])
    response = Client().get("/readyz")
    assert response.status_code == 503
    error = response.json()["checks"]["redis"]["error"]
    assert "refused the user name or password" in error
    assert "wrong-password" not in error


def test_a_wrong_ca_is_reported_when_a_server_process_starts(tls_redis, authority):
    environment = {
        **os.environ,
        "REDIS_URL": f"rediss://sessions:right-password@localhost:{tls_redis.port}/0",
        "REDIS_CA_CERT": authority["other_ca"],
    }
    result = subprocess.run(
        [sys.executable, "-c", "import sessiondemo.wsgi"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0  # the process still starts, and answers 503 until Redis is fixed
    assert "Redis is not usable at start-up" in result.stdout + result.stderr
    assert "REDIS_CA_CERT" in result.stdout + result.stderr
