"""Sign up, log in, log out and password change, on sessions kept in Redis."""

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from sessiondemo.redis_client import get_redis
from sessionkeeper import layout

PASSWORD = "correct horse battery staple"


@pytest.fixture
def browser(db, site_redis):
    return Client()


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice", password=PASSWORD)


def session_cookie(client) -> str:
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def raw_keys_naming(session_key: str) -> list[bytes]:
    """Keys in Redis that belong to this session, whether named by the key or by its hash."""
    digest = layout.session_digest(session_key)
    return [key for key in get_redis().scan_iter(count=1000) if session_key.encode() in key or digest.encode() in key]


def test_signing_up_logs_the_new_user_in(browser):
    response = browser.post(
        "/accounts/signup/", {"username": "bob", "password1": PASSWORD, "password2": PASSWORD}, follow=True
    )
    assert response.context["user"].username == "bob"
    assert '<strong id="user-name">bob</strong>' in response.content.decode()


def test_signing_up_with_mismatched_passwords_shows_the_error(browser):
    response = browser.post("/accounts/signup/", {"username": "bob", "password1": PASSWORD, "password2": "nope"})
    assert response.status_code == 200
    assert "didn’t match" in response.content.decode()
    assert not User.objects.filter(username="bob").exists()


def test_login_changes_the_session_key_and_keeps_the_anonymous_cart(browser, alice):
    browser.post("/cart/add/TEA-001/", {"quantity": "3"})
    anonymous_key = session_cookie(browser)
    response = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD}, follow=True)
    assert response.context["user"].username == "alice"
    assert session_cookie(browser) != anonymous_key
    assert raw_keys_naming(anonymous_key) == []
    assert browser.get("/api/cart").json()["count"] == 3


def test_a_wrong_password_is_refused_with_a_message(browser, alice):
    response = browser.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_deletes_the_session_in_redis_not_only_the_cookie(browser, alice):
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    key = session_cookie(browser)
    assert raw_keys_naming(key), "the logged-in session should be in Redis"
    response = browser.post("/accounts/logout/", follow=True)
    assert response.context["user"].is_anonymous
    assert raw_keys_naming(key) == []


def test_logout_is_post_only(browser, alice):
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert browser.get("/accounts/logout/").status_code == 405
    assert browser.get("/api/session").json()["authenticated"] is True


def test_a_stolen_cookie_is_useless_after_logout(browser, alice):
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    thief = Client()
    thief.cookies[settings.SESSION_COOKIE_NAME] = session_cookie(browser)
    assert thief.get("/api/session").json()["authenticated"] is True
    browser.post("/accounts/logout/")
    assert thief.get("/api/session").json()["authenticated"] is False


def test_password_change_keeps_this_session_logged_in(browser, alice):
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    response = browser.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "another long passphrase",
            "new_password2": "another long passphrase",
        },
        follow=True,
    )
    assert response.status_code == 200
    assert browser.get("/api/session").json()["authenticated"] is True
    alice.refresh_from_db()
    assert alice.check_password("another long passphrase")


def test_pages_that_need_a_login_send_anonymous_users_to_it(browser):
    response = browser.get("/accounts/sessions/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
