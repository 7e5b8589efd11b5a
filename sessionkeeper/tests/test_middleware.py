"""What the browser sees: cookies kept across logins, carts kept, clear answers on errors."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.django_db


def test_login_rotates_the_key_and_keeps_the_anonymous_cart(site, topology):
    site.get("/api/cart/add?sku=tea")
    site.get("/api/cart/add?sku=tea")
    anonymous_key = site.cookies["sessionid"].value
    site.get("/login")
    assert site.cookies["sessionid"].value != anonymous_key
    assert site.get("/api/cart").json() == {"tea": 2}
    assert site.get("/api/session").json()["user"] is not None


def test_logout_ends_the_session_and_deletes_the_cookie(site, topology):
    site.get("/login")
    response = site.get("/logout")
    assert response.cookies["sessionid"].value == ""
    assert site.get("/api/session").json()["user"] is None


def test_the_middleware_records_device_and_address_through_the_settings(site, single, options, clock):
    from sessionkeeper.user_sessions import list_user_sessions

    options(
        CLIENT_ADDRESS="sessionkeeper.tests.urls.rightmost_forwarded",
        INSTANCE_NAME="sessionkeeper.tests.urls.instance_name",
    )
    iphone = {
        "HTTP_USER_AGENT": "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1",
        # A forged entry first, then the one the front end appended.
        "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.9",
    }
    site.get("/login", **iphone)
    user_id = site.get("/api/session", **iphone).json()["user"]
    [session] = list_user_sessions(user_id, site.cookies["sessionid"].value)
    assert "iPhone" in session.device
    assert session.ip == "203.0.113.9"
    assert not hasattr(session, "instance")  # under round-robin the serving instance says nothing: not kept
    assert session.is_current
    site.get("/api/session", **(iphone | {"HTTP_X_FORWARDED_FOR": "192.0.2.44"}))
    [unchanged] = list_user_sessions(user_id, site.cookies["sessionid"].value)
    assert unchanged.ip == "203.0.113.9"  # a read within the slide threshold writes nothing
    clock.advance(61)
    site.get("/api/session", **(iphone | {"HTTP_X_FORWARDED_FOR": "192.0.2.44"}))
    [moved] = list_user_sessions(user_id, site.cookies["sessionid"].value)
    assert moved.ip == "192.0.2.44"
    assert "iPhone" in moved.device


def test_an_oversized_session_is_answered_with_a_400_sentence_not_a_500(site, topology, options):
    options(MAX_BYTES=2048)
    blob = "".join(f"{n:x}" for n in range(2000))
    response = site.post(
        "/api/oversized", data=json.dumps(blob), content_type="application/json", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert "more than the 2048 allowed" in response.json()["error"]


def test_a_cart_line_that_would_pass_the_size_cap_is_a_400_sentence(site, topology, options):
    options(MAX_BYTES=1024)
    assert site.get("/api/cart/add?sku=tea").status_code == 200
    response = site.get("/api/cart/add?sku=" + "c" * 1000, HTTP_ACCEPT="application/json")
    assert response.status_code == 400
    assert "nothing was saved" in response.json()["error"]
    assert site.get("/api/cart").json() == {"tea": 1}
