"""Login throttling, shared through Redis by every instance, and the audit log."""

import logging

import pytest
from django.contrib.auth.models import User
from django.test import Client

PASSWORD = "correct horse battery staple"


@pytest.fixture
def frank(db, site_redis, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_ADDRESS_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 600
    return User.objects.create_user("frank", password=PASSWORD)


def attempt(password: str, username: str = "frank", address: str = "203.0.113.7"):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def test_after_too_many_failures_the_account_is_locked_with_a_message_and_retry_after(frank):
    for _ in range(3):
        assert attempt("wrong").status_code == 200
    response = attempt(PASSWORD)  # even the right password waits out the lockout
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many failed logins for this account. Try again in 10 minutes." in response.content.decode()


def test_the_lockout_is_per_username_from_any_address(frank):
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        attempt("wrong", address=address)
    assert attempt(PASSWORD, address="198.51.100.4").status_code == 429


def test_one_address_guessing_many_usernames_is_locked_out(frank):
    for number in range(5):
        attempt("wrong", username=f"user{number}")
    response = attempt(PASSWORD)
    assert response.status_code == 429
    assert "from your network address" in response.content.decode()
    assert attempt(PASSWORD, address="192.0.2.50").status_code == 302


def test_a_successful_login_clears_the_usernames_failures(frank):
    attempt("wrong")
    attempt("wrong")
    assert attempt(PASSWORD).status_code == 302
    attempt("wrong")
    attempt("wrong")
    assert attempt(PASSWORD).status_code == 302


def test_logins_failures_and_logouts_are_audited(frank, caplog):
    caplog.set_level(logging.INFO, logger="sessiondemo.audit")
    attempt("wrong")
    client = Client(REMOTE_ADDR="203.0.113.7")
    client.post("/accounts/login/", {"username": "frank", "password": PASSWORD})
    client.post("/accounts/logout/")
    lines = [record.getMessage() for record in caplog.records if record.name == "sessiondemo.audit"]
    assert lines[0] == "login failed username='frank' ip=203.0.113.7"
    assert lines[1] == f"login user={frank.pk} ip=203.0.113.7"
    assert lines[2] == f"logout user={frank.pk} ip=203.0.113.7"
    assert "wrong" not in " ".join(lines)


def test_a_forged_forwarded_for_header_does_not_escape_the_address_lockout(frank):
    # Behind one proxy, which appends the real address: the forged entries come first.
    for number in range(5):
        Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=f"198.18.0.{number}, 203.0.113.99").post(
            "/accounts/login/", {"username": f"user{number}", "password": "wrong"}
        )
    response = Client(REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.18.0.200, 203.0.113.99").post(
        "/accounts/login/", {"username": "frank", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "from your network address" in response.content.decode()
