"""Anonymous sessions are cheap and bounded: no device metadata, and a per-address creation rate."""

from __future__ import annotations

import pytest

from sessionkeeper import layout, stats
from sessionkeeper.client import get_client
from sessionkeeper.exceptions import SessionCreationRefused
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.helpers import hash_key, scan_all

pytestmark = pytest.mark.django_db
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


def test_an_anonymous_session_stores_no_device_metadata_and_a_signed_in_one_does(store):
    session = store()
    session.bind_client(user_agent=FIREFOX, ip="198.51.100.4", instance="web-1")
    session.counters("cart").add("tea", 1, 10)
    assert layout.DEVICE.encode() not in get_client().hgetall(hash_key(session.session_key))
    session.cycle_key()
    session["_auth_user_id"] = "7"
    session.save()
    device = get_client().hget(hash_key(session.session_key), layout.DEVICE)
    assert device == b"198.51.100.4|Firefox 133 on Linux"


def test_every_stored_value_fits_redis_default_listpack_limit(store):
    session = store()
    session.bind_client(user_agent=FIREFOX * 3, ip="2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", instance="x" * 64)
    session.cycle_key()
    session.update(
        {
            "_auth_user_id": "123456",
            "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
            "_auth_user_hash": "6f1ed002ab5595859014ebf0951522d9fa2a1f5b2d2b3c5a6e7f8091a2b3c4d5",
            "theme": "dark",
        }
    )
    session.save()
    for _ in range(8):
        session.counters("cart").add("TEA-001", 1, 99)
    stored = get_client().hgetall(hash_key(session.session_key))
    assert all(len(field) <= 64 and len(value) <= 64 for field, value in stored.items()), stored
    if not hasattr(get_client(), "get_primaries"):
        assert get_client().object("encoding", hash_key(session.session_key)) == b"listpack"


def test_an_address_over_the_creation_rate_is_refused_and_leaves_nothing(store, options):
    options(CREATION_RATE=(3, 60))
    for _ in range(3):
        session = SessionStore()
        session.bind_client(ip="192.0.2.7")
        session["theme"] = "dark"
        session.save()
    before = len(scan_all(get_client()))
    over = SessionStore()
    over.bind_client(ip="192.0.2.7")
    over["theme"] = "dark"
    with pytest.raises(SessionCreationRefused, match="try again in") as refused:
        over.save()
    assert 0 < refused.value.retry_after <= 60
    assert len(scan_all(get_client())) == before
    assert stats.snapshot()["events"]["creation_refused"] == 1
    other = SessionStore()
    other.bind_client(ip="192.0.2.8")
    other["theme"] = "dark"
    other.save()  # another address is not affected


def test_the_middleware_answers_a_refused_creation_with_429_and_retry_after(site, topology, options):
    options(CREATION_RATE=(2, 60))
    for _ in range(2):
        site.cookies.clear()
        assert site.get("/api/session/write").status_code == 200
    site.cookies.clear()
    response = site.get("/api/session/write")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "sessionid" not in response.cookies


def test_a_login_is_not_counted_as_a_new_session(store, options):
    options(CREATION_RATE=(1, 60))
    session = SessionStore()
    session.bind_client(ip="192.0.2.9")
    session["cart"] = {}
    session.save()
    session.cycle_key()  # what login does: the same visitor, a new key
    session["_auth_user_id"] = "7"
    session.save()
    assert SessionStore(session.session_key)["_auth_user_id"] == "7"
