"""The site's cart belongs to the account: it survives logout, appears on another browser, and a guest
cart merges into it at login with a message naming what merged (issue 14, item 1)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client

pytestmark = pytest.mark.django_db
PASSWORD = "an account cart passphrase"


def quantities(browser: Client) -> dict[str, int]:
    return {item["sku"]: item["quantity"] for item in browser.get("/api/cart").json()["items"]}


def log_in(browser: Client, username: str):
    return browser.post("/accounts/login/", {"username": username, "password": PASSWORD}, follow=True)


def test_a_cart_filled_as_a_guest_is_the_accounts_on_the_next_login_anywhere(site_redis):
    first = Client()
    first.post("/cart/add/TEA-001/", {"quantity": "2"})
    first.post("/cart/add/TEA-002/", {"quantity": "1"})
    first.post("/accounts/signup/", {"username": "mia", "password1": PASSWORD, "password2": PASSWORD})
    first.post("/accounts/logout/")
    assert quantities(first) == {}  # a shared computer shows the next person nothing
    second = Client()
    log_in(second, "mia")
    assert quantities(second) == {"TEA-001": 2, "TEA-002": 1}


def test_a_guest_cart_merges_at_login_and_the_message_names_what_merged(site_redis):
    User.objects.create_user("noa", password=PASSWORD)
    phone = Client()
    log_in(phone, "noa")
    phone.post("/cart/add/TEA-001/", {"quantity": "98"})
    laptop = Client()
    laptop.post("/cart/add/TEA-001/", {"quantity": "5"})
    laptop.post("/cart/add/TEA-003/", {"quantity": "1"})
    response = log_in(laptop, "noa")
    messages = [str(message) for message in response.context["messages"]]
    assert any(message.startswith("Your cart came with you into your account: 5 of ") for message in messages)
    assert " and 1 of " in next(message for message in messages if message.startswith("Your cart came"))
    assert quantities(laptop) == quantities(phone) == {"TEA-001": 99, "TEA-003": 1}
