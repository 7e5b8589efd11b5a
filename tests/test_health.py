"""/healthz answers while the process runs; /readyz says whether Redis and the database answer."""

import json
import os
import subprocess
import sys

import pytest
from django.test import Client

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
