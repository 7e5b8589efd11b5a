"""The site's settings hand the engine its own answers: the 503 page, JSON under /api/, a 429."""

from __future__ import annotations

import pytest
from django.test import Client

from sessiondemo import redis_client
from tests.fixtures.redis_servers import RedisServer, use_redis

pytestmark = pytest.mark.django_db


@pytest.fixture
def stoppable_redis(tmp_path, settings):
    server = RedisServer(tmp_path).start()
    use_redis(settings, server.url)
    settings.REDIS_RETRIES = 0
    yield server
    redis_client.reset_client()
    server.stop()


def test_the_engine_uses_the_sites_redis_client_and_names(settings, site_redis):
    from sessionkeeper.client import get_client
    from sessionkeeper.conf import config

    assert get_client() is redis_client.get_redis()
    assert config().key_prefix == settings.REDIS_KEY_PREFIX


def test_an_outage_is_the_sites_503_page_and_json_under_the_api(stoppable_redis):
    browser = Client()
    browser.post("/cart/add/TEA-001/", {"quantity": "1"})
    stoppable_redis.stop()
    page = browser.get("/cart/")
    assert page.status_code == 503 and page["Retry-After"]
    assert b"<html" in page.content.lower() or b"<!doctype" in page.content.lower()
    api = browser.get("/api/cart")
    assert api.status_code == 503 and "error" in api.json()


def test_too_many_new_sessions_from_one_address_is_a_429_with_a_sentence(settings, site_redis):
    settings.SESSIONKEEPER = {**settings.SESSIONKEEPER, "CREATION_RATE": (1, 60)}
    assert Client().post("/cart/add/TEA-001/", {"quantity": "1"}).status_code == 302
    refused = Client().post("/cart/add/TEA-001/", {"quantity": "1"}, HTTP_ACCEPT="application/json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert "Too many new sessions" in refused.json()["error"]
