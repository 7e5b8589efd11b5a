"""One size rule: stored bytes and uncompressed JSON both within MAX_BYTES, the bound the reader
applies; a request refused for size keeps none of its changes, cart counters included."""

from __future__ import annotations

import json

import pytest

from sessionkeeper.exceptions import SessionTooLarge

pytestmark = pytest.mark.django_db


def test_a_value_that_compresses_small_but_is_large_uncompressed_is_refused(store):
    session = store()
    session["ok"] = "small"
    session.save()
    again = store(session.session_key)
    again["blob"] = "a" * 70_000  # a few hundred bytes compressed, 70 kB as JSON
    with pytest.raises(SessionTooLarge, match="more than the 65536 allowed"):
        again.save()
    assert dict(store(session.session_key).items()) == {"ok": "small"}


def test_a_value_just_within_the_limit_is_stored_and_read_back(store):
    session = store()
    session["blob"] = "a" * 60_000
    session.save()
    assert store(session.session_key)["blob"] == "a" * 60_000


def test_a_request_refused_for_size_takes_back_its_cart_change(site, topology, options):
    options(MAX_BYTES=2048)
    assert site.get("/api/cart/add?sku=tea").json() == {"quantity": 1}
    blob = json.dumps("".join(f"{n:x}" for n in range(1000)) + "!")  # not hex: stored as it is
    response = site.post(
        "/api/cart/add-and-note?sku=tea", data=blob, content_type="application/json", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "nothing was saved" in response.json()["error"]
    assert site.get("/api/cart").json() == {"tea": 1}  # not 6: the +5 was taken back


def test_a_refused_request_takes_back_only_its_own_change(store, options):
    options(MAX_BYTES=2048)
    session = store()
    session.counters("cart").add("tea", 2, 99)
    other = store(session.session_key)
    request = store(session.session_key)
    request.counters("cart").add("tea", 5, 99)
    other.counters("cart").add("tea", 1, 99)  # a concurrent request's change stays
    request["note"] = "x" * 3000 + "!"
    with pytest.raises(SessionTooLarge):
        request.save()
    assert store(session.session_key).counters("cart").items() == {"tea": 3}
