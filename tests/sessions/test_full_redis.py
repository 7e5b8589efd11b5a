"""A full Redis under noeviction (the policy active geo-replication requires): every page that only shows
things is still served, and a change answers a 503 whose sentence says Redis is full (issue 15, item 5)."""

from __future__ import annotations

import pytest
import redis
from django.contrib.auth.models import User
from django.test import Client

from sessiondemo import redis_client
from tests.fixtures.redis_servers import RedisServer, use_redis

pytestmark = pytest.mark.django_db
PASSWORD = "full redis, still reading"
FULL = "The session store is full and refuses changes"


@pytest.fixture
def full_redis(tmp_path, settings):
    server = RedisServer(tmp_path, extra_args=["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]).start()
    use_redis(settings, server.url)
    yield server
    redis_client.reset_client()
    server.stop()


def fill(server: RedisServer) -> None:
    client = server.client()
    client.config_set("maxmemory", int(client.info("memory")["used_memory"]) // 2)  # well over the limit
    with pytest.raises(redis.OutOfMemoryError):
        client.set("proof", "it is full")


def test_a_full_redis_serves_every_read_only_page_and_names_itself_when_a_change_is_refused(full_redis):
    User.objects.create_user("ivy", password=PASSWORD)
    shopper = Client()
    shopper.post("/cart/add/TEA-001/", {"quantity": "2"})
    shopper.post("/accounts/login/", {"username": "ivy", "password": PASSWORD})
    shopper.get("/")  # the login's messages shown and gone
    guest = Client()
    guest.post("/cart/add/TEA-002/", {"quantity": "1"})
    guest.get("/")
    fill(full_redis)

    for browser in (shopper, guest):
        for path in ("/", "/cart/", "/products/TEA-001/", "/api/cart", "/api/session", "/api/products"):
            assert browser.get(path).status_code == 200, path
    assert shopper.get("/accounts/sessions/").status_code == 200
    assert shopper.get("/api/session").json()["authenticated"] is True
    assert shopper.get("/api/cart").json()["count"] == 2

    page = shopper.post("/cart/add/TEA-003/", {"quantity": "1"})
    assert page.status_code == 503 and FULL in page.content.decode()
    token = shopper.cookies["csrftoken"].value
    api = shopper.post(
        "/api/cart/items", {"sku": "TEA-003", "quantity": 1}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert api.status_code == 503 and api.json()["error"].startswith(FULL)
    assert api["Retry-After"]

    full_redis.client().config_set("maxmemory", 0)
    assert shopper.get("/api/cart").json()["count"] == 2  # nothing refused was applied, nothing was lost
    assert shopper.get("/api/session").json()["authenticated"] is True
    assert guest.get("/api/cart").json()["count"] == 1
