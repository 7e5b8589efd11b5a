"""Counter maps kept with the account (USER_COUNTERS): a signed-in shopper's cart is the user's, on every
device, past logout and expiry; a guest cart merges into it at sign-in; two devices lose nothing."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth import get_user_model

from sessionkeeper import layout
from sessionkeeper.client import get_client
from sessionkeeper.store import SessionStore
from sessionkeeper.tests.conftest import ABSOLUTE, IDLE
from sessionkeeper.tests.helpers import account_key, hash_key, indexed, round_trips

LIMIT = 99


@pytest.fixture
def account_carts(topology, options):
    options(USER_COUNTERS={"cart": LIMIT})
    return topology


def sign_in(user_id: str = "7", guest_cart: dict[str, int] | None = None) -> SessionStore:
    """What django.contrib.auth.login does to a (guest) session: cycle the key, then store the user."""
    session = SessionStore()
    for sku, quantity in (guest_cart or {}).items():
        session.counters("cart").add(sku, quantity, LIMIT)
    session.cycle_key()
    session["_auth_user_id"] = user_id
    session.save()
    return session


def cart_of(session_key: str) -> dict[str, int]:
    return SessionStore(session_key).counters("cart").items()


def test_a_signed_in_cart_is_the_accounts_and_every_device_of_the_user_sees_it(account_carts):
    laptop, phone = sign_in(), sign_in()
    laptop.counters("cart").add("tea", 2, LIMIT)
    SessionStore(phone.session_key).counters("cart").add("cake", 1, LIMIT)
    assert cart_of(laptop.session_key) == cart_of(phone.session_key) == {"tea": 2, "cake": 1}
    assert layout.cookie_tag(laptop.session_key) == "7"
    assert not [field for field in get_client().hkeys(hash_key(laptop.session_key)) if field.startswith(b"c:")]
    assert get_client().hget(account_key(7), "c:cart:tea") == b"2"
    assert cart_of(sign_in("8").session_key) == {}  # another user's account is another cart


def test_the_account_cart_survives_logout_idle_expiry_and_the_absolute_lifetime(account_carts, clock):
    session = sign_in()
    session.counters("cart").add("tea", 3, LIMIT)
    session.flush()  # logout
    assert SessionStore().counters("cart").items() == {}  # the next guest on this computer sees nothing
    session = sign_in()
    assert cart_of(session.session_key) == {"tea": 3}
    clock.advance(IDLE + 1)
    assert "_auth_user_id" not in SessionStore(session.session_key)
    session = sign_in()
    assert cart_of(session.session_key) == {"tea": 3}
    for _ in range(ABSOLUTE // (IDLE - 60) + 1):
        clock.advance(IDLE - 60)
        SessionStore(session.session_key).load()
    assert "_auth_user_id" not in SessionStore(session.session_key)
    assert cart_of(sign_in().session_key) == {"tea": 3}


def test_a_guest_cart_merges_into_the_accounts_at_sign_in_a_line_stopping_at_its_limit(account_carts):
    sign_in().counters("cart").add("tea", 97, LIMIT)
    session = sign_in(guest_cart={"tea": 5, "coffee": 2})
    assert cart_of(session.session_key) == {"tea": LIMIT, "coffee": 2}
    assert session.counters("cart").items() == {"tea": LIMIT, "coffee": 2}  # the request that signed in knows it


def test_a_login_submitted_twice_merges_the_guest_cart_once(account_carts):
    guest = SessionStore()
    guest.counters("cart").add("tea", 2, LIMIT)
    first, second = SessionStore(guest.session_key), SessionStore(guest.session_key)
    for tab in (first, second):  # both loaded the guest session before either signed in
        tab.load()
    for tab in (first, second):
        tab.cycle_key()
        tab["_auth_user_id"] = "7"
        tab.save()
    assert cart_of(first.session_key) == cart_of(second.session_key) == {"tea": 2}


@pytest.mark.parametrize("adds", [200])
def test_two_devices_of_one_user_adding_at_once_lose_nothing(account_carts, adds):
    devices = [sign_in().session_key, sign_in().session_key]

    def add(index: int) -> int:
        return SessionStore(devices[index % 2]).counters("cart").add("tea", 1, 1_000_000)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(add, range(adds)))
    assert cart_of(devices[0]) == cart_of(devices[1]) == {"tea": adds}


def test_a_signed_in_cart_read_costs_one_round_trip_and_an_add_two(account_carts, site):
    from sessionkeeper.scripts import load_scripts_everywhere

    load_scripts_everywhere(get_client())
    site.get("/api/cart/add?sku=warm")
    site.get("/login")
    site.get("/api/cart/add?sku=tea")
    with round_trips() as read:
        assert site.get("/api/cart").json() == {"warm": 1, "tea": 1}
    with round_trips() as add:
        assert site.get("/api/cart/add?sku=tea").json() == {"quantity": 2}
    assert (read.round_trips, add.round_trips) == (1, 2)


def test_a_signed_in_session_of_layout_2_moves_to_its_users_key_with_its_cart(account_carts, options, site):
    options(LAYOUT=2)
    site.get("/api/cart/add?sku=tea")
    site.get("/login")
    old = site.cookies["sessionid"].value
    assert layout.cookie_tag(old) is None
    options(LAYOUT=3)
    assert site.get("/api/session").json()["user"] is not None  # read, and moved on the way out
    new = site.cookies["sessionid"].value
    assert layout.cookie_tag(new) is not None and not get_client().exists(hash_key(old))
    assert site.get("/api/cart").json() == {"tea": 1}
    assert layout.session_digest(new) in indexed(layout.cookie_tag(new))


def test_a_session_whose_login_django_ended_never_reaches_the_accounts_cart(account_carts, site):
    site.get("/login?username=ada")
    site.get("/api/cart/add?sku=tea")
    user = get_user_model().objects.get(username="ada")
    user.set_password("changed elsewhere")  # Django's session auth hash no longer matches
    user.save()
    assert site.get("/api/cart").json() == {}
    site.get("/api/cart/add?sku=cake")
    assert get_client().hgetall(account_key(user.pk)).get(b"c:cart:tea") == b"1"
    assert b"c:cart:cake" not in get_client().hgetall(account_key(user.pk))
