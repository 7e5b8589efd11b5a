"""The session explains itself (issue 14, item 4): after a remote sign-out, a password change, a sign-out
cutoff, an idle or an absolute expiry, the next page says so in one line, telling the cookie's holder
nothing about anyone else's session."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

from sessiondemo.redis_client import get_redis
from sessionkeeper import layout
from sessionkeeper.store import SessionStore

pytestmark = pytest.mark.django_db
PASSWORD = "why did my session end"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Version/17.5 Mobile/15E148 Safari/604.1"


@pytest.fixture
def zoe(site_redis):
    return User.objects.create_user("zoe", password=PASSWORD)


@pytest.fixture
def clock(monkeypatch):
    import time

    class Clock:
        now = time.time()

        def __call__(self) -> float:
            return self.now

    fake = Clock()
    monkeypatch.setattr(SessionStore, "clock", fake)
    return fake


def signed_in(user_agent: str = FIREFOX) -> Client:
    browser = Client(HTTP_USER_AGENT=user_agent)
    assert browser.post("/accounts/login/", {"username": "zoe", "password": PASSWORD}).status_code == 302
    browser.get("/")  # the login's own messages, shown and gone
    return browser


def said(browser: Client, path: str = "/") -> list[str]:
    """The messages the next page shows."""
    response = browser.get(path)
    assert response.status_code == 200
    return [str(message) for message in response.context["messages"]]


def signed_in_cookie_gone(browser: Client) -> bool:
    return browser.get("/api/session").json()["authenticated"] is False


@pytest.mark.parametrize("how", ["one", "others", "everywhere"])
def test_a_device_signed_out_from_another_says_so_on_its_next_page(zoe, how):
    laptop, phone = signed_in(), signed_in(IPHONE)
    if how == "one":
        digest = next(s.digest for s in laptop.get("/accounts/sessions/").context["sessions"] if not s.is_current)
        laptop.post(f"/accounts/sessions/revoke/{digest}/")
    else:
        laptop.post(f"/accounts/sessions/revoke-{how.replace('everywhere', 'all')}/")
    assert said(phone) == ["You were signed out from another device."]
    assert said(phone) == []  # said once
    assert signed_in_cookie_gone(phone)


def test_a_password_changed_on_another_device_is_named(zoe):
    laptop, phone = signed_in(), signed_in(IPHONE)
    form = {
        "old_password": PASSWORD,
        "new_password1": "a new one, long enough",
        "new_password2": "a new one, long enough",
    }
    laptop.post("/accounts/password/", form)
    assert said(phone) == ["You were signed out because your password was changed on another device."]


def test_a_session_django_signs_out_by_its_cutoff_says_so_too(zoe):
    laptop, phone = signed_in(), signed_in(IPHONE)
    get_redis().delete(layout.account_key(settings.REDIS_KEY_PREFIX, layout.user_tag(zoe.pk)))  # the index, lost
    laptop.post("/accounts/sessions/revoke-others/")
    assert said(phone) == ["You were signed out on another device."]  # the cutoff in the auth hash did it
    assert signed_in_cookie_gone(phone)


def test_a_signed_in_session_idle_too_long_says_so_and_that_the_cart_waits_in_the_account(zoe, clock):
    phone = signed_in(IPHONE)
    phone.post("/cart/add/TEA-001/", {"quantity": "2"})
    phone.get("/")
    clock.now += settings.SESSION_IDLE_TIMEOUT + 60
    minutes = settings.SESSION_IDLE_TIMEOUT // 60
    assert said(phone) == [
        f"Your sign-in ended after {minutes} minutes of inactivity; "
        "your cart is kept with your account, so sign in to see it."
    ]


def test_a_guest_session_idle_too_long_keeps_its_cart_and_says_so(site_redis, clock):
    guest = Client()
    guest.post("/cart/add/TEA-001/", {"quantity": "2"})
    guest.get("/")
    clock.now += settings.SESSION_IDLE_TIMEOUT + 60
    minutes = settings.SESSION_IDLE_TIMEOUT // 60
    assert said(guest) == [f"Your session expired after {minutes} minutes of inactivity; your cart is still here."]
    assert guest.get("/api/cart").json()["count"] == 2


def test_a_guest_session_that_held_nothing_ends_without_a_word(site_redis, clock):
    guest = Client()
    guest.post("/accounts/login/", {"username": "nobody", "password": "wrong"})  # a message: a session
    guest.get("/")
    clock.now += settings.SESSION_IDLE_TIMEOUT + 60
    assert said(guest) == []


def test_a_session_past_its_lifetime_says_so(zoe, clock):
    phone = signed_in(IPHONE)
    for _ in range(settings.SESSION_ABSOLUTE_TIMEOUT // (settings.SESSION_IDLE_TIMEOUT - 60) + 1):
        clock.now += settings.SESSION_IDLE_TIMEOUT - 60
        phone.get("/api/session")
    hours = settings.SESSION_ABSOLUTE_TIMEOUT // 3600
    messages = said(phone)
    assert [m for m in messages if "limit" in m] == [
        f"Your sign-in ended after its limit of {hours} hours; "
        "your cart is kept with your account, so sign in to see it."
    ]


def test_a_signed_in_cookie_whose_session_is_gone_says_the_sign_in_ended(zoe):
    phone = signed_in(IPHONE)
    get_redis().delete(layout.hash_key_of(settings.REDIS_KEY_PREFIX, phone.cookies["sessionid"].value))
    assert said(phone) == ["Your sign-in has ended; sign in again to see your cart."]


def test_an_ending_met_by_the_json_api_is_said_on_the_next_page(zoe):
    laptop, phone = signed_in(), signed_in(IPHONE)
    laptop.post("/accounts/sessions/revoke-others/")
    token = phone.cookies["csrftoken"].value
    answer = phone.post(
        "/api/cart/items", {"sku": "TEA-001", "quantity": 1}, content_type="application/json", HTTP_X_CSRFTOKEN=token
    )
    assert answer.status_code == 200
    assert said(phone) == ["You were signed out from another device."]


def test_a_forged_cookie_naming_a_users_tag_learns_nothing_of_their_sessions(zoe):
    laptop, phone = signed_in(), signed_in(IPHONE)
    laptop.post("/accounts/sessions/revoke-others/")  # the phone's session is now a tombstone
    forger = Client()
    forged = "x" * layout.V2_KEY_LENGTH + layout.TAG_SEPARATOR + layout.user_tag(zoe.pk)
    forger.cookies[settings.SESSION_COOKIE_NAME] = forged
    assert said(forger) == ["Your sign-in has ended; sign in again to see your cart."]  # what any gone session says
    assert said(phone) == ["You were signed out from another device."]  # only the holder learns why
