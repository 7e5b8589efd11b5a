"""The "Active sessions" page: every place a user is signed in, and signing them out."""

import logging

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "correct horse battery staple"

pytestmark = pytest.mark.skipif(
    settings.SESSION_BACKEND != "redis", reason="only the project's engine indexes sessions"
)


@pytest.fixture
def dave(db, site_redis):
    return User.objects.create_user("dave", password=PASSWORD)


def signed_in(user_agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=user_agent)
    assert client.post("/accounts/login/", {"username": "dave", "password": PASSWORD}).status_code == 302
    return client


FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"


def test_the_page_lists_each_signed_in_device_and_marks_this_one(dave):
    laptop, phone = signed_in(FIREFOX), signed_in(IPHONE)
    response = laptop.get("/accounts/sessions/")
    sessions = response.context["sessions"]
    assert len(sessions) == 2
    assert [s.is_current for s in sessions].count(True) == 1
    devices = " ".join(s.device for s in sessions)
    assert "Firefox" in devices and "iPhone" in devices
    assert phone.get("/api/session").json()["authenticated"] is True


def test_signing_out_another_session_logs_that_device_out(dave, caplog):
    caplog.set_level(logging.WARNING, logger="sessiondemo.audit")
    laptop, phone = signed_in(FIREFOX), signed_in(IPHONE)
    other = next(s for s in laptop.get("/accounts/sessions/").context["sessions"] if not s.is_current)
    response = laptop.post(f"/accounts/sessions/revoke/{other.digest}/", follow=True)
    assert "That session is signed out." in [str(m) for m in response.context["messages"]]
    assert phone.get("/api/session").json()["authenticated"] is False
    assert laptop.get("/api/session").json()["authenticated"] is True
    audited = [r.getMessage() for r in caplog.records if r.name == "sessiondemo.audit"]
    assert audited == [f"session revoked user={dave.pk} session={other.digest[:12]} ip=127.0.0.1"]


def test_signing_out_all_others_keeps_only_this_one(dave):
    laptop, phone, tablet = signed_in(FIREFOX), signed_in(IPHONE), signed_in("Tablet")
    response = laptop.post("/accounts/sessions/revoke-others/", follow=True)
    assert "Every other session is signed out (2 listed here)." in [str(m) for m in response.context["messages"]]
    assert phone.get("/api/session").json()["authenticated"] is False
    assert tablet.get("/api/session").json()["authenticated"] is False
    assert len(laptop.get("/accounts/sessions/").context["sessions"]) == 1


def test_signing_out_everywhere_includes_this_session(dave):
    laptop, phone = signed_in(FIREFOX), signed_in(IPHONE)
    response = laptop.post("/accounts/sessions/revoke-all/")
    assert response.status_code == 302
    assert laptop.get("/api/session").json()["authenticated"] is False
    assert phone.get("/api/session").json()["authenticated"] is False


def test_a_password_change_signs_out_every_other_session(dave):
    laptop, phone = signed_in(FIREFOX), signed_in(IPHONE)
    response = laptop.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
        follow=True,
    )
    assert "Your password is changed. Every other session is signed out (1 listed here)." in [
        str(m) for m in response.context["messages"]
    ]
    assert laptop.get("/api/session").json()["authenticated"] is True
    assert phone.get("/api/session").json()["authenticated"] is False


def test_revoking_a_digest_that_is_not_yours_changes_nothing(dave):
    laptop = signed_in(FIREFOX)
    User.objects.create_user("eve", password=PASSWORD)
    eve = Client()
    eve.post("/accounts/login/", {"username": "eve", "password": PASSWORD})
    laptop_digest = laptop.get("/accounts/sessions/").context["sessions"][0].digest
    response = eve.post(f"/accounts/sessions/revoke/{laptop_digest}/", follow=True)
    assert "That session was already gone." in [str(m) for m in response.context["messages"]]
    assert laptop.get("/api/session").json()["authenticated"] is True


# --- revocation does not rest on the index in Redis ---------------------------------------


def forget_the_index(user) -> None:
    """Do to the user's session index what eviction (allkeys-lru) or a cap may do: drop it."""
    from sessiondemo.redis_client import get_redis

    client = get_redis()
    keys = list(client.scan_iter(match=f"*:u:{{{user.pk}}}", count=1000))
    assert keys, "the user's session index should be in Redis before it is dropped"
    client.delete(*keys)


def test_signing_out_everywhere_signs_out_a_session_the_index_has_lost(dave):
    laptop, thief = signed_in(FIREFOX), signed_in(IPHONE)
    forget_the_index(dave)
    laptop.post("/accounts/sessions/revoke-all/")
    assert thief.get("/api/session").json()["authenticated"] is False
    assert laptop.get("/api/session").json()["authenticated"] is False


def test_signing_out_others_with_the_index_lost_signs_them_out_and_does_not_say_zero(dave):
    laptop, thief = signed_in(FIREFOX), signed_in(IPHONE)
    forget_the_index(dave)
    response = laptop.post("/accounts/sessions/revoke-others/", follow=True)
    messages = [str(m) for m in response.context["messages"]]
    assert "Every other session is signed out." in messages
    assert not any("0" in message for message in messages)
    assert thief.get("/api/session").json()["authenticated"] is False
    assert laptop.get("/api/session").json()["authenticated"] is True
    assert laptop.get("/accounts/sessions/").status_code == 200


def test_a_password_change_signs_out_a_session_the_index_has_lost(dave):
    laptop, thief = signed_in(FIREFOX), signed_in(IPHONE)
    forget_the_index(dave)
    laptop.post(
        "/accounts/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
    )
    assert thief.get("/api/session").json()["authenticated"] is False
    assert laptop.get("/api/session").json()["authenticated"] is True


def test_a_session_signed_in_after_signing_out_everywhere_works(dave):
    laptop = signed_in(FIREFOX)
    laptop.post("/accounts/sessions/revoke-all/")
    again = signed_in(FIREFOX)
    assert again.get("/api/session").json()["authenticated"] is True
    assert len(again.get("/accounts/sessions/").context["sessions"]) == 1


def test_the_cutoff_is_read_with_the_user_in_one_query(dave, django_assert_num_queries):
    laptop = signed_in(FIREFOX)
    laptop.post("/accounts/sessions/revoke-others/")
    with django_assert_num_queries(1):
        assert laptop.get("/api/session").json()["authenticated"] is True


def test_the_page_says_when_the_index_has_lost_track_instead_of_showing_nothing(dave):
    laptop = signed_in(FIREFOX)
    signed_in(IPHONE)
    assert laptop.get("/accounts/sessions/").context["list_complete"] is True
    forget_the_index(dave)
    response = laptop.get("/accounts/sessions/")
    assert response.context["list_complete"] is False
    assert "This list has lost track of some sessions" in response.content.decode()
