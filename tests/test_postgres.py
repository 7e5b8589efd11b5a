"""The site on PostgreSQL through psycopg 3, as the Azure deployment runs it."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.fixtures.postgres import PostgresServer, postgres_bin_dir

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    postgres_bin_dir() is None, reason="PostgreSQL is not installed (apt-get install postgresql)"
)


@pytest.fixture(scope="module")
def postgres():
    # Not under pytest's tmp dir: that is private to root, and the server runs as postgres.
    directory = Path(tempfile.mkdtemp(prefix="sessiondemo-postgres-"))
    server = PostgresServer(directory).start()
    yield server
    server.stop()
    shutil.rmtree(directory, ignore_errors=True)


def test_migrations_run_and_a_user_can_sign_up_and_shop_on_postgresql(postgres, redis_url, tmp_path):
    environment = {**os.environ, "DATABASE_URL": postgres.url, "REDIS_URL": redis_url, "ALLOWED_HOSTS": "testserver"}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=environment, check=True, timeout=120
    )
    journey = """
import django, json; django.setup()
from django.db import connection
from django.test import Client
c = Client()
c.post('/accounts/signup/', {'username': 'pg', 'password1': 'a long pass phrase', 'password2': 'a long pass phrase'})
c.post('/cart/add/TEA-002/', {'quantity': '2'})
print(json.dumps({'vendor': connection.vendor, 'session': c.get('/api/session').json(),
                  'cart': c.get('/api/cart').json(), 'ready': c.get('/readyz').status_code}))
"""
    result = subprocess.run(
        [sys.executable, "-c", journey], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["vendor"] == "postgresql"
    assert outcome["session"]["username"] == "pg"
    assert outcome["cart"]["count"] == 2
    assert outcome["ready"] == 200
