"""Outage is not logout: a Redis error never reads as "no session" (item 8)."""

from __future__ import annotations

import pytest

from sessionkeeper import client as engine_client
from sessionkeeper import stats
from sessionkeeper.exceptions import SessionStoreUnavailable
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.conftest import engine_options
from sessionkeeper.tests.servers import Server

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_redis(tmp_path, settings, single):
    """A redis-server of this test's own, with an append-only file so a restart keeps the data."""
    server = Server(tmp_path, extra_args=["--appendonly", "yes", "--appendfsync", "always"]).start()
    settings.SESSIONKEEPER = engine_options(server.url)
    yield server
    engine_client.reset_default_client()
    server.stop()


def test_a_stopped_redis_raises_unavailable_and_a_restart_brings_the_same_session_back(own_redis):
    session = SessionStore()
    session.cycle_key()
    session["_auth_user_id"] = "7"
    session.save()
    session.counters("cart").add("tea", 2, 99)
    key = session.session_key

    own_redis.stop()
    with pytest.raises(SessionStoreUnavailable) as raised:
        SessionStore(key).load()
    assert raised.value.kind == "connection"
    assert stats.snapshot()["redis_errors"]["connection"] >= 1

    own_redis.start()
    again = SessionStore(key)
    assert again["_auth_user_id"] == "7"
    assert again.counters("cart").items() == {"tea": 2}


def test_during_an_outage_the_site_answers_503_and_keeps_the_cookie(own_redis, site):
    site.get("/api/cart/add?sku=tea")
    site.get("/login")
    cookie = site.cookies["sessionid"].value

    own_redis.stop()
    response = site.get("/api/session", HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response["Retry-After"]
    assert "error" in response.json()
    assert "sessionid" not in response.cookies  # neither deleted nor replaced
    response = site.get("/api/session/write")
    assert response.status_code == 503

    own_redis.start()
    assert site.cookies["sessionid"].value == cookie
    body = site.get("/api/session").json()
    assert body["user"] is not None
    assert site.get("/api/cart").json() == {"tea": 1}


def test_a_save_during_an_outage_is_a_503_not_a_500(own_redis, site):
    site.get("/api/session/write")

    def stop_then_write(request):
        request.session.get("theme")  # load while Redis is up ...
        own_redis.stop()  # ... and lose it before the save
        request.session["theme"] = "light"
        from django.http import JsonResponse

        return JsonResponse({})

    from sessionkeeper.tests import urls

    urls.urlpatterns.append(__import__("django.urls").urls.path("api/stop-then-write", stop_then_write))
    try:
        response = site.get("/api/stop-then-write")
    finally:
        urls.urlpatterns.pop()
    assert response.status_code == 503


# --- a Redis that answers but will not write: full under noeviction --------------------------


@pytest.fixture
def full_redis(tmp_path, settings, single):
    """A redis-server of this test's own at a tiny maxmemory under noeviction; full() fills it."""
    server = Server(tmp_path, extra_args=["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]).start()
    settings.SESSIONKEEPER = engine_options(server.url, USER_COUNTERS={"cart": 99})

    def full() -> None:
        client = server.client()
        client.config_set("maxmemory", int(client.info("memory")["used_memory"]) // 2)  # well over: refuses

    server.full = full
    yield server
    engine_client.reset_default_client()
    server.stop()


def test_a_full_redis_serves_every_read_and_answers_a_change_with_a_503_naming_the_cause(full_redis, site, clock):
    site.get("/api/cart/add?sku=tea")
    site.get("/login")
    guest = type(site)()
    guest.get("/api/cart/add?sku=cake")
    full_redis.full()
    with pytest.raises(__import__("redis").OutOfMemoryError):
        full_redis.client().set("proof", "it is full")
    clock.advance(120)  # past the slide threshold: these reads would record the activity
    for path in ("/api/session", "/api/cart", "/untouched"):
        assert site.get(path).status_code == 200, path
    assert site.get("/api/session").json()["user"] is not None
    assert site.get("/api/cart").json() == {"tea": 1}
    refused = site.post("/api/session/write", HTTP_ACCEPT="application/json")
    assert refused.status_code == 503 and refused["Retry-After"]
    assert refused.json()["error"].startswith("The session store is full and refuses changes")
    added = site.get("/api/cart/add?sku=tea", HTTP_ACCEPT="application/json")
    assert added.status_code == 503 and "full" in added.json()["error"]
    clock.advance(1200)  # both idle out: the guest's cart is carried, once Redis has room to write it
    assert guest.get("/api/cart").json() == {"cake": 1}
    full_redis.client().config_set("maxmemory", 0)
    assert guest.get("/api/cart").json() == {"cake": 1}  # nothing was lost while Redis was full
    site.get("/login")
    assert site.get("/api/cart").json() == {"tea": 1}  # and no refused change was applied


def test_a_login_a_full_redis_refuses_keeps_the_guest_session_it_would_have_replaced(full_redis, site, db):
    site.get("/api/cart/add?sku=tea")
    full_redis.full()
    refused = site.get("/login", HTTP_ACCEPT="application/json")
    assert refused.status_code == 503 and "full" in refused.json()["error"]
    full_redis.client().config_set("maxmemory", 0)
    assert site.get("/api/cart").json() == {"tea": 1}  # the new key was refused, so the old one stayed
    assert site.get("/api/session").json()["user"] is None
