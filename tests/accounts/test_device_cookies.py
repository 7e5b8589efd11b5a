"""A lockout that does not lock out the owner: a browser that signed in to the account before
(its device cookie) gets past the username's lockout, guesses from elsewhere stay locked, and a
stolen device cookie is good for only a few guesses of its own."""

import pytest
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from accounts import devices

PASSWORD = "correct horse battery staple"


@pytest.fixture
def grace(db, site_redis, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_ADDRESS_LIMIT = 50
    settings.LOGIN_DEVICE_FAILURE_LIMIT = 2
    settings.LOGIN_LOCKOUT_SECONDS = 600
    return User.objects.create_user("grace", password=PASSWORD)


def log_in(client: Client, password: str, username: str = "grace"):
    return client.post("/accounts/login/", {"username": username, "password": password})


def owners_browser() -> Client:
    """A browser that signed in once and signed out again: it keeps its device cookie."""
    browser = Client(REMOTE_ADDR="192.0.2.10")
    assert log_in(browser, PASSWORD).status_code == 302
    browser.post("/accounts/logout/")
    return browser


def lock_out_from_elsewhere() -> None:
    for number in range(3):
        assert log_in(Client(REMOTE_ADDR=f"198.51.100.{number}"), "wrong").status_code == 200
    assert log_in(Client(REMOTE_ADDR="198.51.100.99"), PASSWORD).status_code == 429


def test_a_successful_login_sets_a_signed_httponly_secure_device_cookie(grace):
    browser = Client()
    response = log_in(browser, PASSWORD)
    cookie = response.cookies[devices.COOKIE_NAME]
    assert cookie["httponly"] and cookie["secure"]
    assert cookie["samesite"] == "Lax"
    assert int(cookie["max-age"]) == devices.MAX_AGE_SECONDS
    assert "grace" not in cookie.value
    request = RequestFactory().get("/")
    request.COOKIES[devices.COOKIE_NAME] = cookie.value
    assert devices.nonce_for(request, "grace")
    assert devices.nonce_for(request, "Grace") is None


def test_the_owners_browser_signs_in_with_the_right_password_while_the_account_is_locked(grace):
    browser = owners_browser()
    lock_out_from_elsewhere()
    response = log_in(browser, PASSWORD)
    assert response.status_code == 302
    assert browser.get("/api/session").json()["username"] == "grace"


def test_guesses_from_elsewhere_stay_locked_after_the_owner_signs_in(grace):
    browser = owners_browser()
    lock_out_from_elsewhere()
    assert log_in(browser, PASSWORD).status_code == 302
    assert log_in(Client(REMOTE_ADDR="198.51.100.50"), PASSWORD).status_code == 429


def test_a_device_cookie_for_another_account_does_not_help(grace):
    User.objects.create_user("heidi", password=PASSWORD)
    browser = Client()
    assert log_in(browser, PASSWORD, username="heidi").status_code == 302
    browser.post("/accounts/logout/")
    lock_out_from_elsewhere()
    assert log_in(browser, PASSWORD).status_code == 429


def test_one_browser_remembers_each_account_it_signed_in_to(grace):
    User.objects.create_user("heidi", password=PASSWORD)
    browser = owners_browser()
    assert log_in(browser, PASSWORD, username="heidi").status_code == 302
    browser.post("/accounts/logout/")
    lock_out_from_elsewhere()
    assert log_in(browser, PASSWORD).status_code == 302


def test_a_forged_or_tampered_device_cookie_counts_for_nothing(grace):
    browser = owners_browser()
    genuine = browser.cookies[devices.COOKIE_NAME].value
    lock_out_from_elsewhere()
    for forged in (genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB"), "grace", "x" * 300):
        thief = Client()
        thief.cookies[devices.COOKIE_NAME] = forged
        assert log_in(thief, PASSWORD).status_code == 429


def test_a_stolen_device_cookie_is_good_for_only_a_few_guesses(grace):
    browser = owners_browser()
    thief = Client(REMOTE_ADDR="198.51.100.200")
    thief.cookies[devices.COOKIE_NAME] = browser.cookies[devices.COOKIE_NAME].value
    lock_out_from_elsewhere()
    # The cookie's own limit (2 here): its guesses are checked, then it is one browser among others.
    assert [log_in(thief, "wrong").status_code for _ in range(2)] == [200, 200]
    assert log_in(thief, "wrong").status_code == 429
    assert log_in(thief, PASSWORD).status_code == 429


def test_the_owners_own_typos_do_not_lock_the_account_for_everyone_else(grace):
    browser = owners_browser()
    assert [log_in(browser, "typo").status_code for _ in range(2)] == [200, 200]
    assert log_in(Client(REMOTE_ADDR="192.0.2.99"), PASSWORD).status_code == 302


def test_a_new_login_gives_a_new_nonce_so_an_old_cookies_failures_are_left_behind(grace):
    browser = owners_browser()
    first = browser.cookies[devices.COOKIE_NAME].value
    assert log_in(browser, "typo").status_code == 200
    assert log_in(browser, PASSWORD).status_code == 302
    assert browser.cookies[devices.COOKIE_NAME].value != first
