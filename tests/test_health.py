"""/healthz answers while the process runs; /readyz says whether Redis takes writes and the database answers."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
import redis
from django.test import Client

from sessiondemo import redis_client
from tests.fixtures.redis_servers import RedisServer, use_redis


def test_healthz_answers_without_touching_redis_or_the_database(settings):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_is_200_when_redis_and_the_database_answer(redis_url):
    response = Client().get("/readyz")
    assert response.status_code == 200
    body = response.json()
    assert body["checks"]["redis"]["ok"] and body["checks"]["database"]["ok"]


@pytest.mark.django_db
def test_readyz_is_503_naming_redis_when_redis_is_down(settings, tmp_path):
    server = RedisServer(tmp_path).start()
    use_redis(settings, server.url)
    assert Client().get("/readyz").status_code == 200
    server.stop()
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.json()
    assert body["failed"] == ["redis"]
    assert "Redis did not answer PING" in body["checks"]["redis"]["error"]
    assert body["checks"]["database"]["ok"]


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(redis_url, tmp_path):
    # A process of its own, whose DATABASE_URL points where no database can be opened.
    probe = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/readyz'); print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "sessiondemo.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/no-such-dir/db.sqlite3",
        "REDIS_URL": redis_url,
        "ALLOWED_HOSTS": "testserver",
    }
    result = subprocess.run([sys.executable, "-c", probe], env=environment, capture_output=True, text=True, timeout=60)
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["failed"] == ["database"]
    assert "database did not answer" in outcome["body"]["checks"]["database"]["error"]


# --- a Redis that answers PING but refuses writes --------------------------------------


@pytest.fixture
def own_redis(settings, tmp_path):
    """Start redis-servers of the test's own, with whatever configuration it asks for; all stopped at the end."""
    servers = []

    def start(*extra_args: str) -> RedisServer:
        server = RedisServer(tmp_path / f"redis{len(servers)}", extra_args=list(extra_args)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
    redis_client.reset_client()


def readyz_redis_error() -> str:
    response = Client().get("/readyz")
    assert response.status_code == 503
    assert response["Retry-After"]
    body = response.json()
    assert body["failed"] == ["redis"]
    assert body["checks"]["database"]["ok"]
    return body["checks"]["redis"]["error"]


def fill_until_refused(server: RedisServer) -> None:
    client = server.client()
    for batch in range(200):  # at most 20 MB of 1 KiB values; a 2 MB Redis refuses long before
        pipeline = client.pipeline(transaction=False)
        for number in range(100):
            pipeline.set(f"filler:{batch}:{number}", "x" * 1024)
        try:
            pipeline.execute()
        except redis.OutOfMemoryError:
            return
    raise AssertionError("Redis took every write; maxmemory did not apply.")


@pytest.mark.django_db
def test_readyz_is_503_naming_a_redis_that_is_full_under_noeviction(own_redis, settings):
    server = own_redis("--maxmemory", "2mb", "--maxmemory-policy", "noeviction")
    use_redis(settings, server.url)
    assert Client().get("/readyz").status_code == 200
    fill_until_refused(server)
    # Freeing a client's buffers can dip below the limit for a moment; hold it well over.
    client = server.client()
    client.config_set("maxmemory", int(client.info("memory")["used_memory"]) // 2)
    assert client.ping()  # PING still answers: a PING-only check would say "ready"
    error = readyz_redis_error()
    assert error.startswith("Redis is full and refuses writes")
    assert "noeviction" in error and "maxmemory" in error


@pytest.mark.django_db
def test_readyz_is_503_naming_a_read_only_replica(own_redis, settings):
    primary, replica = own_redis(), own_redis()
    replica.client().execute_command("REPLICAOF", "127.0.0.1", primary.port)
    use_redis(settings, replica.url)
    error = readyz_redis_error()
    assert error.startswith("Redis is a read-only replica and refuses writes. Point REDIS_URL at the primary")
    assert f"127.0.0.1:{replica.port}" in error


@pytest.mark.django_db
def test_readyz_is_503_naming_a_redis_that_cannot_save_its_snapshot(own_redis, settings):
    server = own_redis("--save", "3600 1")  # with a save point, a failed snapshot stops writes (MISCONF)
    shutil.rmtree(server.directory)  # its working directory is gone: no snapshot can be made, even by root
    client = server.client()
    client.bgsave()
    deadline = time.monotonic() + 10
    while client.info("persistence")["rdb_last_bgsave_status"] != "err":
        assert time.monotonic() < deadline, "the snapshot should have failed"
        time.sleep(0.05)
    use_redis(settings, server.url)
    error = readyz_redis_error()
    assert error.startswith("Redis refuses writes because it could not save its snapshot to disk (MISCONF).")


@pytest.mark.cluster
@pytest.mark.django_db
def test_readyz_writes_to_every_primary_of_a_cluster(redis_cluster_url, redis_cluster_servers):
    assert Client().get("/readyz").status_code == 200
    for node in redis_cluster_servers.nodes:
        assert list(node.client().scan_iter(match="*:readyz:*")), f"no probe key on the primary at {node.port}"
