"""One login throttle for every door (site login, admin login, password change, sign-up, authenticate()),
kept in the database, with usernames counted as Django's login form normalises them."""

import logging

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import Client, RequestFactory

from accounts.models import ThrottleCount

PASSWORD = "correct horse battery staple"


@pytest.fixture
def frank(db, site_redis, settings):
    settings.LOGIN_FAILURE_LIMIT = 3
    settings.LOGIN_FAILURE_ADDRESS_LIMIT = 5
    settings.LOGIN_LOCKOUT_SECONDS = 600
    return User.objects.create_user("frank", password=PASSWORD)


@pytest.fixture
def staff(frank):
    return User.objects.create_user("operator", password=PASSWORD, is_staff=True, is_superuser=True)


def attempt(password: str, username: str = "frank", address: str = "203.0.113.7", path: str = "/accounts/login/"):
    return Client(REMOTE_ADDR=address).post(path, {"username": username, "password": password})


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


def test_a_refused_login_is_audited_without_the_password(frank, caplog):
    caplog.set_level(logging.INFO, logger="sessiondemo.audit")
    for _ in range(3):
        attempt("wrong")
    attempt(PASSWORD)
    lines = [record.getMessage() for record in caplog.records if record.name == "sessiondemo.audit"]
    assert "login refused (too many failed logins for this account) ip=203.0.113.7" in lines
    assert PASSWORD not in " ".join(lines)


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


# --- usernames counted as Django normalises them -------------------------------------


FULLWIDTH_SPELLINGS = ["ｆrank", "fｒank", "frａnk", "fraｎk", "franｋ", "ｆｒａｎｋ"]


def test_unicode_spellings_of_a_username_share_its_counter(frank):
    # The bypass: six fullwidth spellings, each NFKC-equal to "frank", five guesses each.
    for spelling in FULLWIDTH_SPELLINGS[:3]:
        assert attempt("wrong", username=spelling).status_code == 200
    response = attempt(PASSWORD, username=FULLWIDTH_SPELLINGS[5], address="192.0.2.77")
    assert response.status_code == 429
    assert "for this account" in response.content.decode()


def test_a_fullwidth_spelling_signs_in_as_the_user_it_normalises_to(frank):
    client = Client()
    assert client.post("/accounts/login/", {"username": "ｆｒａｎｋ", "password": PASSWORD}).status_code == 302
    assert client.get("/api/session").json()["username"] == "frank"


def test_usernames_that_differ_only_in_case_are_counted_apart(frank):
    User.objects.create_user("Frank", password=PASSWORD)
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        attempt("wrong", username="Frank", address=address)
    assert attempt(PASSWORD, username="Frank", address="198.51.100.4").status_code == 429
    assert attempt(PASSWORD, username="frank", address="198.51.100.4").status_code == 302


def test_spaces_around_the_username_do_not_make_a_new_counter(frank):
    for address, spelling in zip(
        ("198.51.100.1", "198.51.100.2", "198.51.100.3"), (" frank", "frank ", "\tfrank"), strict=True
    ):
        attempt("wrong", username=spelling, address=address)
    assert attempt(PASSWORD, address="198.51.100.4").status_code == 429


# --- every door -----------------------------------------------------------------------


def test_the_admin_login_refuses_an_account_locked_at_the_site_login(staff):
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        attempt("wrong", username="operator", address=address)
    client = Client(REMOTE_ADDR="198.51.100.9")
    response = client.post("/admin/login/", {"username": "operator", "password": PASSWORD})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 600
    assert "Too many failed logins for this account." in response.content.decode()
    assert client.get("/admin/").status_code == 302  # not signed in: sent to the login page


def test_wrong_guesses_at_the_admin_login_lock_the_site_login_too(staff):
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        assert attempt("wrong", username="operator", address=address, path="/admin/login/").status_code == 200
    assert attempt(PASSWORD, username="operator", address="198.51.100.4").status_code == 429


def test_a_brute_force_on_the_admin_login_from_one_address_is_refused(staff, settings):
    settings.LOGIN_FAILURE_LIMIT = 100  # the address's limit (5 here, 30 by default) is the one that stops it
    statuses = [attempt(f"guess{n}", username="operator", path="/admin/login/").status_code for n in range(40)]
    assert statuses[:5] == [200] * 5
    assert set(statuses[5:]) == {429}
    assert attempt(PASSWORD, username="operator", path="/admin/login/").status_code == 429


def test_the_admin_login_still_signs_staff_in(staff):
    client = Client()
    response = client.post("/admin/login/?next=/admin/", {"username": "operator", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_authenticate_called_by_any_other_door_is_throttled_too(frank):
    request = RequestFactory().post("/api/login", REMOTE_ADDR="203.0.113.7")
    for _ in range(3):
        assert authenticate(request, username="frank", password="wrong") is None
    assert authenticate(request, username="frank", password=PASSWORD) is None
    assert request.login_lockout.what == "Too many failed logins for this account"
    assert authenticate(None, username="frank", password=PASSWORD) is None


def signed_in(address: str = "203.0.113.7") -> Client:
    client = Client(REMOTE_ADDR=address)
    assert client.post("/accounts/login/", {"username": "frank", "password": PASSWORD}).status_code == 302
    return client


def change_password(client: Client, old_password: str):
    return client.post(
        "/accounts/password/",
        {
            "old_password": old_password,
            "new_password1": "a new long passphrase",
            "new_password2": "a new long passphrase",
        },
    )


def test_a_wrong_old_password_at_password_change_counts_as_a_failed_login(frank):
    client = signed_in()
    client.cookies.pop("device")  # a browser the account is not known on
    for _ in range(3):
        response = change_password(client, "wrong")
        assert response.status_code == 200
        assert "Your old password was entered incorrectly" in response.content.decode()
    response = change_password(client, PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"]
    assert "Too many failed logins for this account." in response.content.decode()
    frank.refresh_from_db()
    assert frank.check_password(PASSWORD)
    assert attempt(PASSWORD, address="192.0.2.1").status_code == 429


def test_a_locked_account_cannot_change_its_password_from_an_unknown_browser(frank):
    client = signed_in()
    client.cookies.pop("device")
    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        attempt("wrong", address=address)
    assert change_password(client, PASSWORD).status_code == 429


# --- sign-up --------------------------------------------------------------------------


def sign_up(username: str, address: str = "203.0.113.20"):
    return Client(REMOTE_ADDR=address).post(
        "/accounts/signup/", {"username": username, "password1": PASSWORD, "password2": PASSWORD}
    )


def test_sign_ups_from_one_address_are_limited_with_retry_after(frank, settings):
    settings.SIGNUP_ADDRESS_LIMIT = 3
    settings.SIGNUP_WINDOW_SECONDS = 3600
    assert [sign_up(f"shopper{n}").status_code for n in range(3)] == [302, 302, 302]
    response = sign_up("shopper3")
    assert response.status_code == 429
    assert 3540 < int(response["Retry-After"]) <= 3600
    assert "Too many sign-ups from your network address. Try again in 60 minutes." in response.content.decode()
    assert not User.objects.filter(username="shopper3").exists()
    assert sign_up("shopper4", address="192.0.2.60").status_code == 302


def test_every_sign_up_attempt_counts_not_only_the_accounts_made(frank, settings):
    # A form refused for a taken name costs no hash, but answers whether the name exists.
    settings.SIGNUP_ADDRESS_LIMIT = 3
    assert [sign_up("frank").status_code for _ in range(3)] == [200, 200, 200]
    assert sign_up("someone-new").status_code == 429


def test_an_address_locked_out_for_failed_logins_cannot_sign_up(frank):
    for number in range(5):
        attempt("wrong", username=f"user{number}")
    response = sign_up("newcomer", address="203.0.113.7")
    assert response.status_code == 429
    assert "Too many failed logins from your network address." in response.content.decode()


# --- where the counts live ----------------------------------------------------------


def test_a_lockout_lives_in_the_database_and_survives_redis_losing_everything(frank, site_redis):
    import redis

    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        attempt("wrong", address=address)
    redis.Redis.from_url(site_redis).flushall()
    assert attempt(PASSWORD, address="192.0.2.1").status_code == 429


def test_the_counts_name_nobody(frank):
    attempt("wrong")
    keys = list(ThrottleCount.objects.values_list("scope", "key"))
    assert {scope for scope, _ in keys} == {"username", "address"}
    assert all(len(key) == 64 and "frank" not in key and "203.0.113.7" not in key for _, key in keys)


def test_a_window_that_ran_out_starts_again_from_one(frank, settings):
    from datetime import timedelta

    from django.utils import timezone

    for address in ("198.51.100.1", "198.51.100.2", "198.51.100.3"):
        attempt("wrong", address=address)
    ThrottleCount.objects.update(window_ends=timezone.now() - timedelta(seconds=1))
    assert attempt("wrong", address="198.51.100.4").status_code == 200
    assert ThrottleCount.objects.get(scope="username").count == 1
    assert attempt(PASSWORD, address="198.51.100.5").status_code == 302
