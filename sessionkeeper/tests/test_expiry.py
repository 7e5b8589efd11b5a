"""Sliding idle timeout, absolute lifetime and the grace period, enforced by Redis (issue 3, item 3)."""

from __future__ import annotations

import pytest

from sessionkeeper import stats
from sessionkeeper.client import get_client
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.conftest import ABSOLUTE, ANONYMOUS_IDLE, GRACE, IDLE
from sessionkeeper.tests.helpers import hash_key


def signed_in_session_with_a_cart(store):
    session = store()
    session.cycle_key()
    session["_auth_user_id"] = "7"
    session["cart"] = {"note": "gift wrap"}
    session.save()
    session.counters("cart").add("tea", 3, 99)
    return session.session_key


def test_the_redis_ttl_covers_the_idle_timeout_and_the_grace_period(store):
    session = store()
    session["cart"] = {"note": "kept"}
    session.save()
    ttl = get_client().pttl(hash_key(session.session_key))
    assert (IDLE + GRACE - 5) * 1000 < ttl <= (IDLE + GRACE) * 1000


def test_an_anonymous_session_that_holds_nothing_kept_lives_the_anonymous_idle_timeout(store, clock):
    session = store()
    session["theme"] = "dark"
    session.save()
    ttl = get_client().pttl(hash_key(session.session_key))
    assert (ANONYMOUS_IDLE + GRACE - 5) * 1000 < ttl <= (ANONYMOUS_IDLE + GRACE) * 1000
    clock.advance(ANONYMOUS_IDLE + 1)
    assert dict(store(session.session_key).items()) == {}


def test_an_anonymous_session_that_gets_a_cart_lives_the_signed_in_idle_timeout(store, clock):
    session = store()
    session["theme"] = "dark"
    session.save()
    session.counters("cart").add("tea", 1, 10)
    clock.advance(ANONYMOUS_IDLE + 60)
    assert store(session.session_key)["theme"] == "dark"


def test_each_read_slides_the_idle_timeout(store, clock):
    session = store()
    session["a"] = 1
    session["cart"] = {"note": "kept"}
    session.save()
    for _ in range(3):
        clock.advance(IDLE - 10)
        assert store(session.session_key).get("a") == 1


def test_an_idle_session_loses_its_login_but_keeps_its_cart_in_the_grace_period(store, clock):
    key = signed_in_session_with_a_cart(store)
    clock.advance(IDLE + 60)
    recovered = store(key)
    assert "_auth_user_id" not in recovered
    assert recovered["cart"] == {"note": "gift wrap"}
    assert recovered.counters("cart").items() == {"tea": 3}
    assert recovered.session_key != key
    recovered.save()
    assert recovered.session_key not in (None, key)
    assert not recovered.exists(key)
    fresh = store(recovered.session_key)
    assert fresh.counters("cart").items() == {"tea": 3}
    assert "_auth_user_id" not in fresh
    assert stats.snapshot()["events"]["grace_recovery"] == 1


def test_a_session_idle_past_the_grace_period_is_gone(store, clock):
    key = signed_in_session_with_a_cart(store)
    clock.advance(IDLE + GRACE + 1)
    session = store(key)
    assert dict(session.items()) == {}
    assert session.counters("cart").items() == {}
    assert stats.snapshot()["events"]["expired"] == 1


def test_the_absolute_lifetime_ends_a_session_that_is_used_all_day(store, clock):
    key = signed_in_session_with_a_cart(store)
    for _ in range(ABSOLUTE // (IDLE - 60)):
        clock.advance(IDLE - 60)
        store(key).load()
    clock.advance(IDLE - 60)
    session = store(key)
    assert "_auth_user_id" not in session
    assert session.counters("cart").items() == {"tea": 3}


def test_a_grace_recovery_through_the_middleware_sets_a_new_anonymous_cookie(site, topology, clock, db):
    site.get("/api/cart/add?sku=tea")
    site.get("/login")
    old = site.cookies["sessionid"].value
    clock.advance(IDLE + 5)
    body = site.get("/api/session").json()
    assert body["user"] is None
    assert site.cookies["sessionid"].value != old
    assert site.get("/api/cart").json() == {"tea": 1}


@pytest.mark.parametrize("seconds", [1])
def test_a_tiny_idle_timeout_from_settings_is_enforced_by_the_server_clock(single, options, seconds):
    import time

    options(IDLE_TIMEOUT=seconds, ANONYMOUS_IDLE_TIMEOUT=seconds, GRACE_PERIOD=0)
    session = SessionStore()
    session["a"] = 1
    session.save()
    time.sleep(seconds + 0.1)
    assert dict(SessionStore(session.session_key).items()) == {}
